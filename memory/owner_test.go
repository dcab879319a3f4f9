package memory

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestOwnership runs every operation on one resource's thread as another
// resource with its own key. Each result must be the same as for a thread
// that does not exist, and nothing may be written.
func TestOwnership(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)

	th := mustCreateThread(t, s, a, "private")
	var msgs []Message
	for _, content := range []string{"secret one", "secret two", "secret three"} {
		msgs = append(msgs, mustAppend(t, s, a, Message{ThreadID: th.ID, Role: RoleUser, Content: content, ClientRequestID: "req-" + content}))
	}
	mustReplace(t, s, a, WorkingMemoryUpdate{ThreadID: th.ID, Content: "thread notes"})
	mustReplace(t, s, a, WorkingMemoryUpdate{ThreadID: th.ID, Content: "thread notes, more", Version: 1})
	missing := NewID()
	title := "stolen"

	// Each operation runs on A's thread as B, and on a thread id that does
	// not exist as B and as A.
	ops := []struct {
		name string
		run  func(o Owner, threadID string) error
	}{
		{"Thread", func(o Owner, threadID string) error {
			_, err := s.Thread(ctx, o, threadID)
			return err
		}},
		{"UpdateThread", func(o Owner, threadID string) error {
			_, err := s.UpdateThread(ctx, o, threadID, ThreadUpdate{Title: &title})
			return err
		}},
		{"DeleteThread", func(o Owner, threadID string) error {
			return s.DeleteThread(ctx, o, threadID)
		}},
		{"ForkThread", func(o Owner, threadID string) error {
			_, err := s.ForkThread(ctx, o, threadID, msgs[1].ID)
			return err
		}},
		{"AppendMessage", func(o Owner, threadID string) error {
			_, err := s.AppendMessage(ctx, o, Message{ThreadID: threadID, Role: RoleUser, Content: "intrusion"})
			return err
		}},
		{"AppendMessage with a stored client request id", func(o Owner, threadID string) error {
			_, err := s.AppendMessage(ctx, o, Message{ThreadID: threadID, Role: RoleUser, Content: "intrusion", ClientRequestID: msgs[0].ClientRequestID})
			return err
		}},
		{"UpdateMessage", func(o Owner, threadID string) error {
			_, err := s.UpdateMessage(ctx, o, Message{ID: msgs[0].ID, ThreadID: threadID, Role: RoleUser, Content: "overwritten"})
			return err
		}},
		{"LastMessages", func(o Owner, threadID string) error {
			_, err := s.LastMessages(ctx, o, threadID, 10)
			return err
		}},
		{"MessagesBefore", func(o Owner, threadID string) error {
			_, err := s.MessagesBefore(ctx, o, threadID, msgs[2].ID, 10)
			return err
		}},
		{"MessageWithNeighbours", func(o Owner, threadID string) error {
			_, err := s.MessageWithNeighbours(ctx, o, threadID, msgs[1].ID, 1)
			return err
		}},
		{"DeleteMessage", func(o Owner, threadID string) error {
			return s.DeleteMessage(ctx, o, threadID, msgs[1].ID)
		}},
		{"MarkThreadDamaged", func(o Owner, threadID string) error {
			_, err := s.MarkThreadDamaged(ctx, o, threadID)
			return err
		}},
		{"WorkingMemory", func(o Owner, threadID string) error {
			_, err := s.WorkingMemory(ctx, o, threadID)
			return err
		}},
		{"ReplaceWorkingMemory", func(o Owner, threadID string) error {
			_, err := s.ReplaceWorkingMemory(ctx, o, WorkingMemoryUpdate{ThreadID: threadID, Content: "overwritten", Version: 2})
			return err
		}},
		{"WorkingMemoryHistory", func(o Owner, threadID string) error {
			_, err := s.WorkingMemoryHistory(ctx, o, threadID)
			return err
		}},
		{"RevertWorkingMemory", func(o Owner, threadID string) error {
			_, err := s.RevertWorkingMemory(ctx, o, threadID, 1, 2)
			return err
		}},
	}

	before := dumpDB(t, db)
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			foreign := op.run(b, th.ID)
			absent := op.run(b, missing)
			absentOwn := op.run(a, missing)

			for _, err := range []error{foreign, absent, absentOwn} {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("error = %v, want %v", err, ErrNotFound)
				}
			}
			if foreign == nil || absent == nil || absentOwn == nil {
				return
			}
			got := strings.ReplaceAll(foreign.Error(), th.ID, "<id>")
			want := strings.ReplaceAll(absent.Error(), missing, "<id>")
			if got != want {
				t.Errorf("error for another resource's thread = %q, want the same as for a missing thread %q", got, want)
			}
			if own := strings.ReplaceAll(absentOwn.Error(), missing, "<id>"); own != want {
				t.Errorf("error for the owner's missing thread = %q, want %q", own, want)
			}
		})
	}

	// Nothing was written, not even a bucket or a sequence number.
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Errorf("refused calls changed the data file:\nbefore:\n%s\nafter:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
	if threads := mustThreads(t, s, b); len(threads) != 0 {
		t.Errorf("Threads(%q) = %d threads, want 0", resourceB, len(threads))
	}

	// A's thread reads as before.
	wantContents(t, mustLast(t, s, a, th.ID, 10), []string{"secret one", "secret two", "secret three"})
	if got := mustThread(t, s, a, th.ID); got.Title != "private" || got.MessageCount != 3 {
		t.Errorf("A's thread = %q with %d messages, want %q with 3", got.Title, got.MessageCount, "private")
	}
	if wm := mustWorkingMemory(t, s, a, th.ID); wm.Version != 2 || wm.Content != "thread notes, more" {
		t.Errorf("A's thread working memory = version %d, %q, want version 2, %q", wm.Version, wm.Content, "thread notes, more")
	}
}

// TestOwnershipOwnThread checks that a resource cannot reach another
// resource's messages through a thread of its own.
func TestOwnershipOwnThread(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)
	theirs := mustCreateThread(t, s, a, "private")
	secret := mustAppend(t, s, a, Message{ThreadID: theirs.ID, Role: RoleUser, Content: "secret"})
	mine := mustCreateThread(t, s, b, "mine")
	mustAppend(t, s, b, Message{ThreadID: mine.ID, Role: RoleUser, Content: "hello"})
	before := dumpDB(t, db)

	if _, err := s.UpdateMessage(ctx, b, Message{ID: secret.ID, ThreadID: mine.ID, Role: RoleUser, Content: "overwritten"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateMessage error = %v, want %v", err, ErrNotFound)
	}
	if _, err := s.MessagesBefore(ctx, b, mine.ID, secret.ID, 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("MessagesBefore error = %v, want %v", err, ErrNotFound)
	}
	if _, err := s.MessageWithNeighbours(ctx, b, mine.ID, secret.ID, 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("MessageWithNeighbours error = %v, want %v", err, ErrNotFound)
	}
	if err := s.DeleteMessage(ctx, b, mine.ID, secret.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteMessage error = %v, want %v", err, ErrNotFound)
	}
	if _, err := s.ForkThread(ctx, b, mine.ID, secret.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("ForkThread error = %v, want %v", err, ErrNotFound)
	}
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("refused calls changed the data file")
	}

	// Resource-scoped working memory is per resource, never shared.
	mustReplace(t, s, a, WorkingMemoryUpdate{Content: "about a"})
	if wm := mustWorkingMemory(t, s, b, ""); wm.Content != "" || wm.Version != 0 {
		t.Errorf("B's working memory = version %d, %q, want version 0, empty", wm.Version, wm.Content)
	}
}
