package memory

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.etcd.io/bbolt"
	"golang.org/x/text/cases"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// MaxSearchQueryLength is the longest query, in characters after trimming
// white space, that SearchThreads accepts.
const MaxSearchQueryLength = 200

// SearchSnippetLength is about how many characters of a message a match
// snippet shows. The snippet may be a few characters longer so as not to
// cut a letter from its accents, and an ellipsis marks each end that was
// cut.
const SearchSnippetLength = 120

// searchContextCheck is how many messages SearchThreads reads between two
// checks of its context.
const searchContextCheck = 256

// ThreadMatch is a thread that SearchThreads found.
type ThreadMatch struct {
	Thread
	// Match is an excerpt of the oldest message whose content contains the
	// query, around the first place it occurs, with runs of white space
	// made one space. It is empty when the title contains the query.
	Match string `json:"match"`
}

// SearchResult is one page of SearchThreads.
type SearchResult struct {
	// Threads are the matching threads, most recently updated first.
	Threads []ThreadMatch
	// Next is the cursor of the next page, empty after the last.
	Next string
	// DamagedThreads lists the threads whose messages include some that
	// did not open with the owner's key. Those messages were skipped.
	DamagedThreads []string
}

// SearchThreads returns the threads of o whose title or any message's
// content contains query, most recently updated first, one page at a time as
// Threads pages them. Matching ignores case and compatibility differences:
// both sides are compared in NFKC with full Unicode case folding, so "STRASSE"
// finds "Straße" and a full-width "Ｈｅａｒｔｈ" finds "hearth". Only the
// current text of messages is searched, not their earlier versions, tool
// calls or error texts.
//
// Messages are sealed, so every one of them is opened in memory, in one read
// transaction. bbolt cannot grow the data file while a read transaction is
// open, so the search of a large profile can hold up writers. A thread or
// message that does not open is skipped, never fatal. The search stops with
// ctx's error once ctx is done.
//
// NOTE: accents count, so "cafe" does not find "café". A query that only
// differs from the text in accents needs an accent-insensitive collation,
// which this search does not do.
func (s *Store) SearchThreads(ctx context.Context, o Owner, query string, page ThreadPage) (SearchResult, error) {
	if err := checkOwner(o); err != nil {
		return SearchResult{}, err
	}
	m, err := newSearchMatcher(query)
	if err != nil {
		return SearchResult{}, err
	}
	defer m.wipe()
	after, err := decodeThreadCursor(page.Cursor)
	if err != nil {
		return SearchResult{}, err
	}

	result := SearchResult{Threads: []ThreadMatch{}}
	err = s.db.View(func(tx *bbolt.Tx) error {
		owned := tx.Bucket(resourcesBucket).Bucket([]byte(o.ResourceID))
		if owned == nil {
			return nil
		}
		damaged := owned.Bucket(damagedThreads)
		models := owned.Bucket(threadModels)
		c := owned.Bucket(recentBucket).Cursor()
		for k := lastBefore(c, after); k != nil; k, _ = c.Prev() {
			if err := ctx.Err(); err != nil {
				return err
			}
			id := k[8:]
			found, err := m.searchThread(ctx, tx, o, id, &result)
			if err != nil {
				return err
			}
			if found == nil {
				continue
			}
			// The match after a full page only shows that a next page exists.
			if page.Limit > 0 && len(result.Threads) == page.Limit {
				result.Next = base64.RawURLEncoding.EncodeToString(result.Threads[len(result.Threads)-1].recentKey())
				return nil
			}
			found.DamagedMessages = damaged != nil && damaged.Get(id) != nil
			found.Model = threadModelIn(models, o, string(id))
			result.Threads = append(result.Threads, *found)
		}
		return nil
	})
	if err != nil {
		return SearchResult{}, fmt.Errorf("search threads of %s: %w", o.ResourceID, err)
	}
	return result, nil
}

// decodeThreadCursor returns the recent-index key that a cursor of Threads
// or SearchThreads encodes, or nil for an empty cursor.
func decodeThreadCursor(cursor string) ([]byte, error) {
	if cursor == "" {
		return nil, nil
	}
	after, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(after) <= 8 {
		return nil, &InputError{Field: "cursor", Reason: "The cursor is not one this server returned; start again without it."}
	}
	return after, nil
}

// lastBefore moves c to the newest key of a recent index that sorts before
// after, or to the newest key of all when after is nil, and returns it.
func lastBefore(c *bbolt.Cursor, after []byte) []byte {
	k, _ := c.Last()
	if after == nil {
		return k
	}
	// Seek finds the first key at or after the cursor; the page continues
	// with the key before it.
	if k, _ = c.Seek(after); k == nil {
		k, _ = c.Last()
	}
	for k != nil && bytes.Compare(k, after) >= 0 {
		k, _ = c.Prev()
	}
	return k
}

// searchMatcher finds a query in texts. It keeps its buffers between texts,
// so one matcher serves one search at a time.
type searchMatcher struct {
	// needle is the query in search form.
	needle []byte
	caser  cases.Caser
	// normalized and folded hold the text being searched, in NFKC and then
	// case-folded. They contain plaintext, which wipe clears.
	normalized []byte
	folded     []byte
}

// newSearchMatcher checks query and returns a matcher for it.
func newSearchMatcher(query string) (*searchMatcher, error) {
	if !utf8.ValidString(query) {
		return nil, &InputError{Field: "q", Reason: "The search text is not valid UTF-8."}
	}
	query = strings.TrimSpace(query)
	if n := utf8.RuneCountInString(query); n > MaxSearchQueryLength {
		return nil, &InputError{Field: "q", Reason: fmt.Sprintf("The search text has %d characters, over the limit of %d. Shorten it.", n, MaxSearchQueryLength)}
	}
	m := &searchMatcher{caser: cases.Fold()}
	m.needle = bytes.Clone(m.searchForm(query))
	if len(m.needle) == 0 {
		return nil, &InputError{Field: "q", Reason: "The search text is empty. Type the words to look for."}
	}
	return m, nil
}

// searchForm returns text in NFKC with its case folded. The result is a
// buffer of m that the next call overwrites.
func (m *searchMatcher) searchForm(text string) []byte {
	m.normalized = norm.NFKC.AppendString(m.normalized[:0], text)
	m.caser.Reset()
	if n, err := m.caser.Span(m.normalized, true); err == nil && n == len(m.normalized) {
		return m.normalized
	}
	m.folded, _, _ = transform.Append(m.caser, m.folded[:0], m.normalized)
	return m.folded
}

// contains reports whether text contains the query.
func (m *searchMatcher) contains(text string) bool {
	return bytes.Contains(m.searchForm(text), m.needle)
}

// wipe clears the plaintext left in m's buffers.
func (m *searchMatcher) wipe() {
	clear(m.normalized[:cap(m.normalized)])
	clear(m.folded[:cap(m.folded)])
}

// searchThread returns the thread id of o, with its match, when its title or a
// message contains the query, and nil otherwise. It adds the thread to
// result.DamagedThreads when one of the messages it read did not open.
func (m *searchMatcher) searchThread(ctx context.Context, tx *bbolt.Tx, o Owner, id []byte, result *SearchResult) (*ThreadMatch, error) {
	var t Thread
	rec, err := decodeThreadRecord(tx.Bucket(threadsBucket).Get(id), id)
	switch {
	case err != nil:
		// The title cannot be read, but the messages may open: they are
		// sealed apart from the thread record.
		t = Thread{ID: string(id), ResourceID: o.ResourceID, Metadata: json.RawMessage("{}"), Damaged: true}
	case rec.ResourceID != o.ResourceID:
		return nil, nil
	default:
		t = rec.thread(string(id), o.Key)
	}
	if !t.Damaged && m.contains(t.Title) {
		return &ThreadMatch{Thread: t}, nil
	}

	msgs := tx.Bucket(messagesBucket).Bucket(id)
	if msgs == nil {
		return nil, nil
	}
	skipped := false
	defer func() {
		if skipped {
			result.DamagedThreads = append(result.DamagedThreads, string(id))
		}
	}()
	c := msgs.Cursor()
	read := 0
	for k, v := c.First(); k != nil; k, v = c.Next() {
		read++
		if read%searchContextCheck == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		content, ok := openContent(v, o, string(id))
		if !ok {
			skipped = true
			continue
		}
		if m.contains(content) {
			return &ThreadMatch{Thread: t, Match: m.snippet(content)}, nil
		}
	}
	return nil, nil
}

// openContent returns the content of a stored message record, or false when
// the record is not JSON or does not open with o's key.
func openContent(v []byte, o Owner, threadID string) (string, bool) {
	var rec struct {
		ID     string `json:"id"`
		Sealed []byte `json:"sealed"`
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return "", false
	}
	var secrets struct {
		Content string `json:"content"`
	}
	if err := openJSON(o.Key, rec.Sealed, messageAD(o.ResourceID, threadID, rec.ID), &secrets); err != nil {
		return "", false
	}
	return secrets.Content, true
}

// snippet returns about SearchSnippetLength characters of text around the
// first place that contains the query, which the caller has found in it.
func (m *searchMatcher) snippet(text string) string {
	start, end, ok := m.locate(text)
	if !ok {
		// The whole text in search form contains the query, but the text
		// taken piece by piece does not: folding differed at a boundary.
		// The snippet then shows the start of the text.
		start, end = 0, 0
	}
	return snippetAround(text, start, end)
}

// locate returns the byte range of text in which the query first occurs,
// widened to whole normalization segments. It puts text in search form one
// segment (a starter and the marks that follow it) at a time, noting for
// each byte of the result the segment of text that produced it.
func (m *searchMatcher) locate(text string) (start, end int, ok bool) {
	var folded []byte
	var segStart, segEnd []int
	var it norm.Iter
	it.InitString(norm.NFKC, text)
	for !it.Done() {
		from := it.Pos()
		segment := it.Next()
		to := max(it.Pos(), from)
		before := len(folded)
		if len(segment) == 1 && segment[0] < utf8.RuneSelf {
			c := segment[0]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			folded = append(folded, c)
		} else {
			folded, _, _ = transform.Append(m.caser, folded, segment)
		}
		for range len(folded) - before {
			segStart = append(segStart, from)
			segEnd = append(segEnd, to)
		}
	}
	defer clear(folded)

	i := bytes.Index(folded, m.needle)
	if i < 0 {
		return 0, 0, false
	}
	start, end = segStart[i], segEnd[i+len(m.needle)-1]
	if end <= start {
		_, size := utf8.DecodeRuneInString(text[start:])
		end = start + size
	}
	return start, end, true
}

// zeroWidthJoiner joins emoji into one picture, such as a family.
const zeroWidthJoiner = '\u200d'

// maxSnippetWiden is how many characters a snippet may grow at each end so
// as not to cut a letter from its marks or an emoji sequence apart.
const maxSnippetWiden = 16

// snippetAround returns the text around text[start:end] that makes about
// SearchSnippetLength characters, centred on the match where the text
// allows. Its ends fall between characters, never inside one, and an
// ellipsis marks each end where the text was cut.
func snippetAround(text string, start, end int) string {
	matched := utf8.RuneCountInString(text[start:end])
	if matched > SearchSnippetLength {
		end = forwardRunes(text, start, SearchSnippetLength)
		matched = SearchSnippetLength
	}
	spare := SearchSnippetLength - matched
	availableBefore := utf8.RuneCountInString(text[:start])
	availableAfter := utf8.RuneCountInString(text[end:])
	before := min(availableBefore, spare/2)
	after := min(availableAfter, spare-before)
	before = min(availableBefore, spare-after)

	from := backRunes(text, start, before)
	to := forwardRunes(text, end, after)
	for range maxSnippetWiden {
		if from == 0 || !joinsPrevious(text, from) {
			break
		}
		_, size := utf8.DecodeLastRuneInString(text[:from])
		from -= size
	}
	for range maxSnippetWiden {
		if to == len(text) || !joinsPrevious(text, to) {
			break
		}
		_, size := utf8.DecodeRuneInString(text[to:])
		to += size
	}

	snippet := strings.Join(strings.Fields(text[from:to]), " ")
	if from > 0 {
		snippet = "…" + snippet
	}
	if to < len(text) {
		snippet += "…"
	}
	return snippet
}

// joinsPrevious reports whether the character at byte i of text belongs with
// the one before it, so that a cut at i would split them: a combining mark,
// a zero width joiner, or the character after a joiner.
func joinsPrevious(text string, i int) bool {
	r, _ := utf8.DecodeRuneInString(text[i:])
	previous, _ := utf8.DecodeLastRuneInString(text[:i])
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc) || r == zeroWidthJoiner || previous == zeroWidthJoiner
}

// backRunes returns the byte offset n characters before byte i of text.
func backRunes(text string, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(text[:i])
		i -= size
	}
	return i
}

// forwardRunes returns the byte offset n characters after byte i of text.
func forwardRunes(text string, i, n int) int {
	for ; n > 0 && i < len(text); n-- {
		_, size := utf8.DecodeRuneInString(text[i:])
		i += size
	}
	return i
}
