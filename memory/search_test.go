package memory

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"go.etcd.io/bbolt"
)

// mustSearch searches all threads of o for query and fails the test on an
// error.
func mustSearch(tb testing.TB, s *Store, o Owner, query string) SearchResult {
	tb.Helper()
	result, err := s.SearchThreads(context.Background(), o, query, ThreadPage{})
	if err != nil {
		tb.Fatalf("SearchThreads(%q, %q) error: %v", o.ResourceID, query, err)
	}
	if result.Next != "" {
		tb.Errorf("SearchThreads(%q, %q) without a limit returned next cursor %q, want none", o.ResourceID, query, result.Next)
	}
	return result
}

// matchIDs returns the thread id of each match.
func matchIDs(matches []ThreadMatch) []string {
	ids := make([]string, len(matches))
	for i, m := range matches {
		ids[i] = m.ID
	}
	return ids
}

func TestSearchThreadsOwnership(t *testing.T) {
	s, _, _ := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)
	mine := mustCreateThread(t, s, a, "Garden plans")
	mustAppend(t, s, a, Message{ThreadID: mine.ID, Role: RoleUser, Content: "Where do the tulips go?"})
	theirs := mustCreateThread(t, s, b, "Tulips for B")
	mustAppend(t, s, b, Message{ThreadID: theirs.ID, Role: RoleUser, Content: "tulips everywhere"})

	got := mustSearch(t, s, a, "tulips")
	if ids := matchIDs(got.Threads); !slices.Equal(ids, []string{mine.ID}) {
		t.Errorf("A's search found %v, want only A's thread %s", ids, mine.ID)
	}
	got = mustSearch(t, s, b, "garden")
	if len(got.Threads) != 0 {
		t.Errorf("B's search for A's title found %v, want nothing", matchIDs(got.Threads))
	}

	// The same resource id with another key opens nothing of A's.
	impostor := newOwner(resourceA)
	got = mustSearch(t, s, impostor, "tulips")
	if len(got.Threads) != 0 {
		t.Errorf("search with the wrong key found %v, want nothing", matchIDs(got.Threads))
	}
	if !slices.Equal(got.DamagedThreads, []string{mine.ID}) {
		t.Errorf("DamagedThreads with the wrong key = %v, want [%s]", got.DamagedThreads, mine.ID)
	}
}

func TestSearchThreadsCaseFolding(t *testing.T) {
	tests := []struct {
		name    string
		content string
		query   string
		want    bool
	}{
		{"ASCII upper case", "The Quick Brown Fox", "quick brown", true},
		{"ASCII lower case query upper", "the quick brown fox", "QUICK", true},
		{"German sharp s", "Die Straße ist lang", "STRASSE", true},
		{"Greek final sigma", "ΟΔΥΣΣΕΥΣ sailed", "οδυσσευς", true},
		{"Cyrillic", "Привет, МИР", "мир", true},
		{"full-width letters", "Ｈｅａｒｔｈ notes", "hearth", true},
		{"Kelvin sign", "273 \u212a is cold", "273 k", true},
		{"decomposed accent", "un cafe\u0301 noir", "café", true},
		{"composed accent, decomposed query", "un café noir", "cafe\u0301", true},
		{"accents count", "un café noir", "cafe noir", false},
		{"absent word", "The quick brown fox", "lazy dog", false},
		{"emoji", "Family trip 👩‍👩‍👧 to Lisbon", "👩‍👩‍👧 TO", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := newStore(t)
			o := newOwner(resourceA)
			th := mustCreateThread(t, s, o, "Untitled")
			mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: tt.content})

			got := mustSearch(t, s, o, tt.query)
			if found := len(got.Threads) == 1; found != tt.want {
				t.Fatalf("search for %q in %q found %d threads, want found = %v", tt.query, tt.content, len(got.Threads), tt.want)
			}
			if tt.want && got.Threads[0].Match == "" {
				t.Errorf("match of %q in %q has no snippet", tt.query, tt.content)
			}
		})
	}
}

func TestSearchThreadsTitleMatch(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "Trip to LISBON")
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "Lisbon in May?"})

	got := mustSearch(t, s, o, "lisbon")
	if len(got.Threads) != 1 {
		t.Fatalf("found %d threads, want 1", len(got.Threads))
	}
	m := got.Threads[0]
	if m.Match != "" {
		t.Errorf("Match of a title hit = %q, want empty", m.Match)
	}
	if m.Title != "Trip to LISBON" || m.MessageCount != 1 {
		t.Errorf("thread = %+v, want its title and message count", m.Thread)
	}
}

func TestSearchThreadsNewestFirst(t *testing.T) {
	s, _, _ := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)
	var want []string
	for _, title := range []string{"Apple pie", "Pear tart", "Apple crumble"} {
		th := mustCreateThread(t, s, o, title)
		if strings.HasPrefix(title, "Apple") {
			want = append([]string{th.ID}, want...)
		}
	}
	got := mustSearch(t, s, o, "apple")
	if ids := matchIDs(got.Threads); !slices.Equal(ids, want) {
		t.Errorf("found %v, want %v, newest first", ids, want)
	}
}

func TestSearchThreadsFirstMessageSnippet(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "Untitled")
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "nothing here"})
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleAssistant, Content: "The first  mention\nof marzipan."})
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "A second marzipan."})

	got := mustSearch(t, s, o, "Marzipan")
	if len(got.Threads) != 1 {
		t.Fatalf("found %d threads, want 1", len(got.Threads))
	}
	if want := "The first mention of marzipan."; got.Threads[0].Match != want {
		t.Errorf("Match = %q, want %q from the oldest matching message with its white space made single spaces", got.Threads[0].Match, want)
	}
}

func TestSearchThreadsLongMessageSnippet(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "Untitled")
	content := strings.Repeat("日本語のテキスト。", 40) + "ここに宝物があります" + strings.Repeat("終わりの文章です。", 40)
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: content})

	got := mustSearch(t, s, o, "宝物")
	if len(got.Threads) != 1 {
		t.Fatalf("found %d threads, want 1", len(got.Threads))
	}
	snippet := got.Threads[0].Match
	if !utf8.ValidString(snippet) {
		t.Fatalf("snippet %q is not valid UTF-8", snippet)
	}
	if !strings.Contains(snippet, "ここに宝物があります") {
		t.Errorf("snippet %q does not show the match with its neighbours", snippet)
	}
	if !strings.HasPrefix(snippet, "…") || !strings.HasSuffix(snippet, "…") {
		t.Errorf("snippet %q of a cut text lacks an ellipsis at each end", snippet)
	}
	if n := utf8.RuneCountInString(snippet); n != SearchSnippetLength+2 {
		t.Errorf("snippet has %d characters, want %d and two ellipses", n, SearchSnippetLength)
	}
}

// TestSnippetAroundEveryOffset cuts a text of one-, two-, three- and
// four-byte characters, combining marks and an emoji sequence around every
// possible match and checks that no cut splits a character.
func TestSnippetAroundEveryOffset(t *testing.T) {
	unit := "ab é e\u0301 ß 日本 👩‍👩‍👧 z "
	text := strings.Repeat(unit, 20)
	var boundaries []int
	for i := range text {
		boundaries = append(boundaries, i)
	}
	for _, start := range boundaries {
		end := forwardRunes(text, start, 1)
		snippet := snippetAround(text, start, end)
		if !utf8.ValidString(snippet) {
			t.Fatalf("snippet around byte %d is not valid UTF-8: %q", start, snippet)
		}
		if n := utf8.RuneCountInString(snippet); n > SearchSnippetLength+2+2*maxSnippetWiden {
			t.Fatalf("snippet around byte %d has %d characters", start, n)
		}
		body := strings.TrimSuffix(strings.TrimPrefix(snippet, "…"), "…")
		if r, _ := utf8.DecodeRuneInString(body); r == '\u0301' || r == zeroWidthJoiner {
			t.Errorf("snippet around byte %d starts with U+%04X, cut from the character before it: %q", start, r, snippet)
		}
		if r, _ := utf8.DecodeLastRuneInString(body); r == zeroWidthJoiner {
			t.Errorf("snippet around byte %d ends with a joiner: %q", start, snippet)
		}
	}
}

func TestSnippetAroundShortText(t *testing.T) {
	text := "short text with the word"
	start := strings.Index(text, "word")
	if got := snippetAround(text, start, start+len("word")); got != text {
		t.Errorf("snippet of a short text = %q, want the whole text %q", got, text)
	}
}

func TestSearchThreadsDamagedSkipped(t *testing.T) {
	s, db, _ := newStore(t)
	o := newOwner(resourceA)

	// A damaged message does not hide a later one that matches.
	mixed := mustCreateThread(t, s, o, "Mixed")
	bad := mustAppend(t, s, o, Message{ThreadID: mixed.ID, Role: RoleUser, Content: "kumquat damaged"})
	mustAppend(t, s, o, Message{ThreadID: mixed.ID, Role: RoleUser, Content: "kumquat intact"})
	damageMessage(t, db, mixed.ID, bad.ID)

	// A thread whose only match is damaged is not found.
	lost := mustCreateThread(t, s, o, "Lost")
	gone := mustAppend(t, s, o, Message{ThreadID: lost.ID, Role: RoleUser, Content: "kumquat unreadable"})
	damageMessage(t, db, lost.ID, gone.ID)

	// A message record that is not even JSON is skipped too.
	garbled := mustCreateThread(t, s, o, "Garbled")
	g := mustAppend(t, s, o, Message{ThreadID: garbled.ID, Role: RoleUser, Content: "kumquat garbled"})
	err := db.Update(func(tx *bbolt.Tx) error {
		msgs, key, err := messageKey(tx, garbled.ID, g.ID)
		if err != nil {
			return err
		}
		return msgs.Put(key, []byte("{not json"))
	})
	if err != nil {
		t.Fatal(err)
	}

	// A thread record that does not decode keeps its messages searchable.
	broken := mustCreateThread(t, s, o, "Broken")
	mustAppend(t, s, o, Message{ThreadID: broken.ID, Role: RoleUser, Content: "kumquat in a broken thread"})
	err = db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(threadsBucket).Put([]byte(broken.ID), []byte("{not json"))
	})
	if err != nil {
		t.Fatal(err)
	}

	got := mustSearch(t, s, o, "kumquat")
	byID := map[string]ThreadMatch{}
	for _, m := range got.Threads {
		byID[m.ID] = m
	}
	if m, ok := byID[mixed.ID]; !ok || m.Match != "kumquat intact" {
		t.Errorf("thread with a damaged message: match %+v, found %v, want the intact message", m.Match, ok)
	}
	if _, ok := byID[lost.ID]; ok {
		t.Error("thread whose only match is damaged was found")
	}
	if _, ok := byID[garbled.ID]; ok {
		t.Error("thread whose only match is not JSON was found")
	}
	if m, ok := byID[broken.ID]; !ok || !m.Damaged || m.Match != "kumquat in a broken thread" {
		t.Errorf("thread with a broken record = %+v, found %v, want it marked damaged with its match", m, ok)
	}
	slices.Sort(got.DamagedThreads)
	want := []string{mixed.ID, lost.ID, garbled.ID}
	slices.Sort(want)
	if !slices.Equal(got.DamagedThreads, want) {
		t.Errorf("DamagedThreads = %v, want %v", got.DamagedThreads, want)
	}
}

func TestSearchThreadsPaging(t *testing.T) {
	s, _, _ := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)
	var want []string
	for i := range 7 {
		title := "Other"
		if i%3 != 1 {
			title = "Quince"
		}
		th := mustCreateThread(t, s, o, title)
		if title == "Quince" {
			want = append([]string{th.ID}, want...)
		}
	}

	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > len(want) {
			t.Fatalf("more than %d pages", len(want))
		}
		result, err := s.SearchThreads(context.Background(), o, "quince", ThreadPage{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		if len(result.Threads) == 0 {
			t.Fatalf("page %d is empty", pages+1)
		}
		got = append(got, matchIDs(result.Threads)...)
		if result.Next == "" {
			break
		}
		if len(result.Threads) != 2 {
			t.Errorf("page %d has %d threads and a next cursor, want 2", pages+1, len(result.Threads))
		}
		cursor = result.Next
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages found %v, want %v", got, want)
	}

	_, err := s.SearchThreads(context.Background(), o, "quince", ThreadPage{Limit: 2, Cursor: "not a cursor"})
	wantInputError(t, err, "cursor")
}

func TestSearchThreadsQueryRejected(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	for _, tt := range []struct {
		name  string
		query string
	}{
		{"201 characters", strings.Repeat("a", 201)},
		{"201 multi-byte characters", strings.Repeat("日", 201)},
		{"invalid UTF-8", "tea\xff"},
		{"empty", ""},
		{"white space only", " \t\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.SearchThreads(context.Background(), o, tt.query, ThreadPage{})
			wantInputError(t, err, "q")
		})
	}

	// 200 characters, and more before white space is trimmed, are accepted.
	if _, err := s.SearchThreads(context.Background(), o, "  "+strings.Repeat("日", 200)+"  ", ThreadPage{}); err != nil {
		t.Errorf("200-character query: %v", err)
	}
}

func TestSearchThreadsCancelled(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "Untitled")
	bulkAppend(t, s, o, th.ID, 2*searchContextCheck)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.SearchThreads(ctx, o, "absent", ThreadPage{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("SearchThreads with a cancelled context = %v, want context.Canceled", err)
	}
}

// BenchmarkSearchThreads10k searches 10,000 messages in 100 threads of 100.
// "absent" reads and opens every message, which is the worst case, and
// "every thread" finds the query in each thread's first message.
func BenchmarkSearchThreads10k(b *testing.B) {
	s, _, _ := newStore(b)
	o := newOwner(resourceA)
	for _, id := range bulkThreads(b, s, o, 100) {
		bulkAppend(b, s, o, id, 100)
	}
	ctx := context.Background()

	for _, bench := range []struct {
		name  string
		query string
		want  int
	}{
		{"absent", "zebra crossing", 0},
		{"every thread", "ABOUT BBOLT", 100},
	} {
		b.Run(bench.name, func(b *testing.B) {
			for b.Loop() {
				result, err := s.SearchThreads(ctx, o, bench.query, ThreadPage{})
				if err != nil {
					b.Fatal(err)
				}
				if len(result.Threads) != bench.want {
					b.Fatalf("found %d threads, want %d", len(result.Threads), bench.want)
				}
			}
		})
	}
}
