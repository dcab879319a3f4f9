package memory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestWorkingMemoryEmpty(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")

	for _, threadID := range []string{"", th.ID} {
		wm := mustWorkingMemory(t, s, o, threadID)
		if wm.Version != 0 || wm.Content != "" || !wm.UpdatedAt.IsZero() || wm.Damaged || wm.ThreadID != threadID {
			t.Errorf("working memory (thread %q) before any write = %+v, want version 0, empty", threadID, wm)
		}
		history, err := s.WorkingMemoryHistory(ctx, o, threadID)
		if err != nil || history == nil || len(history) != 0 {
			t.Errorf("history (thread %q) before any write = %#v, %v, want an empty slice", threadID, history, err)
		}
	}
}

func TestReplaceWorkingMemory(t *testing.T) {
	s, _, path := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)

	first := mustReplace(t, s, o, WorkingMemoryUpdate{Content: "# Notes\n- likes tea\n", Version: 0})
	if first.Version != 1 || first.Content != "# Notes\n- likes tea\n" || !first.UpdatedAt.Equal(testStart) {
		t.Errorf("first version = %+v, want version 1 at %v", first, testStart)
	}
	second := mustReplace(t, s, o, WorkingMemoryUpdate{Content: "# Notes\n- likes green tea\n", Version: 1})
	if second.Version != 2 || !second.UpdatedAt.After(first.UpdatedAt) {
		t.Errorf("second version = %+v, want version 2, later than the first", second)
	}

	s = reopen(t, s, path)
	got := mustWorkingMemory(t, s, o, "")
	if got.Version != 2 || got.Content != second.Content || !got.UpdatedAt.Equal(second.UpdatedAt) || got.Damaged {
		t.Errorf("working memory after reopening = %+v, want %+v", got, second)
	}
}

func TestReplaceWorkingMemoryConflict(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	mustReplace(t, s, o, WorkingMemoryUpdate{Content: "one"})
	mustReplace(t, s, o, WorkingMemoryUpdate{Content: "two", Version: 1})
	before := dumpDB(t, db)

	for _, version := range []int{0, 1, 3, 99, -1} {
		_, err := s.ReplaceWorkingMemory(ctx, o, WorkingMemoryUpdate{Content: "lost", Version: version})
		if !errors.Is(err, ErrConflict) {
			t.Errorf("ReplaceWorkingMemory from version %d error = %v, want %v", version, err, ErrConflict)
		}
	}
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("rejected updates changed the data file")
	}
	if wm := mustWorkingMemory(t, s, o, ""); wm.Version != 2 || wm.Content != "two" {
		t.Errorf("working memory after conflicts = version %d, %q, want version 2, %q", wm.Version, wm.Content, "two")
	}
}

func TestReplaceWorkingMemoryRace(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")

	for _, threadID := range []string{"", th.ID} {
		for round := range 10 {
			from := mustWorkingMemory(t, s, o, threadID).Version

			errs := make([]error, 2)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for w := range 2 {
				wg.Go(func() {
					<-start
					_, errs[w] = s.ReplaceWorkingMemory(context.Background(), o, WorkingMemoryUpdate{
						ThreadID: threadID, Content: fmt.Sprintf("round %d writer %d", round, w), Version: from,
					})
				})
			}
			close(start)
			wg.Wait()

			winner := -1
			for w, err := range errs {
				switch {
				case err == nil && winner < 0:
					winner = w
				case err == nil:
					t.Errorf("thread %q round %d: both updates from version %d succeeded, want one", threadID, round, from)
				case !errors.Is(err, ErrConflict):
					t.Errorf("thread %q round %d writer %d error = %v, want nil or %v", threadID, round, w, err, ErrConflict)
				}
			}
			if winner < 0 {
				t.Fatalf("thread %q round %d: no update from version %d succeeded, want one", threadID, round, from)
			}
			wm := mustWorkingMemory(t, s, o, threadID)
			if want := fmt.Sprintf("round %d writer %d", round, winner); wm.Version != from+1 || wm.Content != want {
				t.Errorf("thread %q round %d: working memory = version %d, %q, want version %d, %q", threadID, round, wm.Version, wm.Content, from+1, want)
			}
		}
	}
}

func TestReplaceWorkingMemoryRetry(t *testing.T) {
	const writers = 8
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	mustReplace(t, s, o, WorkingMemoryUpdate{Content: "# Facts\n"})

	// Each writer adds one line by reading, editing and writing back, and
	// starts again from the new version whenever another writer was first.
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for attempt := 0; ; attempt++ {
				current, err := s.WorkingMemory(context.Background(), o, "")
				if err != nil {
					t.Errorf("writer %d: WorkingMemory error: %v", w, err)
					return
				}
				_, err = s.ReplaceWorkingMemory(context.Background(), o, WorkingMemoryUpdate{
					Content: current.Content + fmt.Sprintf("- fact %d\n", w), Version: current.Version,
				})
				if err == nil {
					return
				}
				if !errors.Is(err, ErrConflict) || attempt == 100 {
					t.Errorf("writer %d: ReplaceWorkingMemory error after %d attempts: %v", w, attempt+1, err)
					return
				}
			}
		})
	}
	wg.Wait()

	wm := mustWorkingMemory(t, s, o, "")
	if wm.Version != writers+1 {
		t.Errorf("version = %d, want %d", wm.Version, writers+1)
	}
	for w := range writers {
		if n := strings.Count(wm.Content, fmt.Sprintf("- fact %d\n", w)); n != 1 {
			t.Errorf("document has fact %d %d times, want once:\n%s", w, n, wm.Content)
		}
	}
}

func TestWorkingMemoryHistory(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	const versions = 60
	for v := range versions {
		mustReplace(t, s, o, WorkingMemoryUpdate{Content: fmt.Sprintf("version %d", v+1), Version: v})
	}

	history, err := s.WorkingMemoryHistory(ctx, o, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != WorkingMemoryHistory+1 {
		t.Fatalf("history has %d versions, want %d earlier ones and the current one", len(history), WorkingMemoryHistory)
	}
	for i, wm := range history {
		want := versions - i
		if wm.Version != want || wm.Content != fmt.Sprintf("version %d", want) || wm.Damaged {
			t.Errorf("history entry %d = version %d, %q, want version %d", i, wm.Version, wm.Content, want)
		}
		if i > 0 && wm.UpdatedAt.After(history[i-1].UpdatedAt) {
			t.Errorf("history entry %d is newer than entry %d, want newest first", i, i-1)
		}
	}
	if current := mustWorkingMemory(t, s, o, ""); current.Version != history[0].Version || current.Content != history[0].Content {
		t.Errorf("current = %+v, want the first history entry %+v", current, history[0])
	}

	// The bucket keeps the current document and exactly the kept versions.
	keys := bucketKeys(t, db, string(workingBucket), string(resourceScopeKey(resourceA)))
	if len(keys) != WorkingMemoryHistory+2 {
		t.Errorf("working memory bucket has %d keys, want %d versions and the current one", len(keys), WorkingMemoryHistory+1)
	}
}

func TestRevertWorkingMemory(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")

	for _, threadID := range []string{"", th.ID} {
		for v := range 5 {
			mustReplace(t, s, o, WorkingMemoryUpdate{ThreadID: threadID, Content: fmt.Sprintf("version %d", v+1), Version: v})
		}

		reverted, err := s.RevertWorkingMemory(ctx, o, threadID, 2, 5)
		if err != nil {
			t.Fatalf("RevertWorkingMemory(thread %q) error: %v", threadID, err)
		}
		if reverted.Version != 6 || reverted.Content != "version 2" {
			t.Errorf("revert (thread %q) = version %d, %q, want a new version 6 with %q", threadID, reverted.Version, reverted.Content, "version 2")
		}
		history, err := s.WorkingMemoryHistory(ctx, o, threadID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, wm := range history {
			got = append(got, wm.Content)
		}
		if want := []string{"version 2", "version 5", "version 4", "version 3", "version 2", "version 1"}; !slices.Equal(got, want) {
			t.Errorf("history (thread %q) after revert = %q, want %q", threadID, got, want)
		}
	}

	before := dumpDB(t, db)
	if _, err := s.RevertWorkingMemory(ctx, o, "", 1, 5); !errors.Is(err, ErrConflict) {
		t.Errorf("revert from a stale version error = %v, want %v", err, ErrConflict)
	}
	for _, version := range []int{0, -1, 7, 99} {
		if _, err := s.RevertWorkingMemory(ctx, o, "", version, 6); !errors.Is(err, ErrNotFound) {
			t.Errorf("revert to version %d error = %v, want %v", version, err, ErrNotFound)
		}
	}
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("rejected reverts changed the data file")
	}
}

func TestRevertWorkingMemoryTrimmedVersion(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	last := WorkingMemoryHistory + 3
	for v := range last {
		mustReplace(t, s, o, WorkingMemoryUpdate{Content: fmt.Sprintf("version %d", v+1), Version: v})
	}

	oldestKept := last - WorkingMemoryHistory
	if _, err := s.RevertWorkingMemory(ctx, o, "", oldestKept-1, last); !errors.Is(err, ErrNotFound) {
		t.Errorf("revert to trimmed version %d error = %v, want %v", oldestKept-1, err, ErrNotFound)
	}
	wm, err := s.RevertWorkingMemory(ctx, o, "", oldestKept, last)
	if err != nil || wm.Content != fmt.Sprintf("version %d", oldestKept) {
		t.Errorf("revert to the oldest kept version %d = %q, %v, want %q", oldestKept, wm.Content, err, fmt.Sprintf("version %d", oldestKept))
	}
}

func TestReplaceWorkingMemoryWipe(t *testing.T) {
	ctx := context.Background()
	const (
		template = "# Notes\n"
		document = "# Notes\n- likes tea\n"
	)
	s, db, _ := newStore(t)
	o := newOwner(resourceA)

	// The first write may be the bare template, and so may the write after it.
	mustReplace(t, s, o, WorkingMemoryUpdate{Content: template, Template: template})
	mustReplace(t, s, o, WorkingMemoryUpdate{Content: template, Template: template, Version: 1})
	mustReplace(t, s, o, WorkingMemoryUpdate{Content: document, Template: template, Version: 2})
	before := dumpDB(t, db)

	tests := []struct {
		name    string
		content string
	}{
		{"empty", ""},
		{"white space", "  \n\t\n"},
		{"bare template", template},
		{"template with white space", "\n\n" + template + "  \n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.ReplaceWorkingMemory(ctx, o, WorkingMemoryUpdate{Content: tt.content, Template: template, Version: 3})
			wantInputError(t, err, "content")
		})
	}
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("rejected updates changed the data file")
	}
	if wm := mustWorkingMemory(t, s, o, ""); wm.Version != 3 || wm.Content != document {
		t.Errorf("working memory = version %d, %q, want version 3, %q", wm.Version, wm.Content, document)
	}

	// Without a template, only emptying is rejected.
	_, err := s.ReplaceWorkingMemory(ctx, o, WorkingMemoryUpdate{Content: " ", Version: 3})
	wantInputError(t, err, "content")
	mustReplace(t, s, o, WorkingMemoryUpdate{Content: template, Version: 3})
}

func TestWorkingMemoryScopes(t *testing.T) {
	s, _, _ := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)
	first := mustCreateThread(t, s, a, "first")
	second := mustCreateThread(t, s, a, "second")

	mustReplace(t, s, a, WorkingMemoryUpdate{Content: "about a"})
	mustReplace(t, s, a, WorkingMemoryUpdate{Content: "about a, more", Version: 1})
	mustReplace(t, s, a, WorkingMemoryUpdate{ThreadID: first.ID, Content: "about the first thread"})
	mustReplace(t, s, b, WorkingMemoryUpdate{Content: "about b"})

	tests := []struct {
		name     string
		owner    Owner
		threadID string
		content  string
		version  int
	}{
		{"resource a", a, "", "about a, more", 2},
		{"first thread", a, first.ID, "about the first thread", 1},
		{"second thread", a, second.ID, "", 0},
		{"resource b", b, "", "about b", 1},
	}
	for _, tt := range tests {
		wm := mustWorkingMemory(t, s, tt.owner, tt.threadID)
		if wm.Content != tt.content || wm.Version != tt.version {
			t.Errorf("%s: working memory = version %d, %q, want version %d, %q", tt.name, wm.Version, wm.Content, tt.version, tt.content)
		}
	}
}

func TestWorkingMemorySize(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)

	atLimit := strings.Repeat("é", MaxWorkingMemoryBytes/2)
	if len(atLimit) != MaxWorkingMemoryBytes {
		t.Fatalf("test document has %d bytes, want %d", len(atLimit), MaxWorkingMemoryBytes)
	}
	mustReplace(t, s, o, WorkingMemoryUpdate{Content: atLimit})
	if got := mustWorkingMemory(t, s, o, "").Content; got != atLimit {
		t.Errorf("stored document has %d bytes, want %d", len(got), len(atLimit))
	}

	for _, content := range []string{atLimit + "a", "notes \xff", "ab\xc3"} {
		_, err := s.ReplaceWorkingMemory(ctx, o, WorkingMemoryUpdate{Content: content, Version: 1})
		wantInputError(t, err, "content")
	}
	if wm := mustWorkingMemory(t, s, o, ""); wm.Version != 1 {
		t.Errorf("version after rejected updates = %d, want 1", wm.Version)
	}
}
