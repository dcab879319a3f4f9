package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"hearth/memory/vector"
)

// Defaults of RecallQuery, as in Mastra's semantic recall.
const (
	DefaultTopK         = 4
	DefaultMessageRange = 1
	MaxTopK             = 50
	MaxMessageRange     = 10
)

// RecallScope is the part of a resource's messages a search covers.
type RecallScope string

const (
	// ScopeResource searches every thread of the resource.
	ScopeResource RecallScope = "resource"
	// ScopeThread searches the query's thread only.
	ScopeThread RecallScope = "thread"
)

// RecallQuery is a search for earlier messages.
type RecallQuery struct {
	// Text is the query, usually the user's new message.
	Text string
	// ThreadID is the thread being written in. It is required for
	// ScopeThread.
	ThreadID string
	// TopK is the number of most similar messages to find. 0 means
	// DefaultTopK; at most 50.
	TopK int
	// MessageRange is how many messages before and after each match are
	// returned with it, for context. 0 means DefaultMessageRange; a
	// negative value means none.
	MessageRange int
	// Scope is ScopeResource (the default) or ScopeThread.
	Scope RecallScope
	// Exclude names messages that are not to be returned, such as those
	// already in the prompt's recent history.
	Exclude []string
}

// Recalled is a message found by Search.
type Recalled struct {
	Message     Message   `json:"message"`
	ThreadTitle string    `json:"threadTitle"`
	ThreadID    string    `json:"threadId"`
	Date        time.Time `json:"date"`
	// Similarity is the cosine similarity of the match to the query; a
	// message returned for context has the similarity of its match.
	Similarity float32 `json:"similarity"`
	// Match is false for a message returned only as context of a match.
	Match bool `json:"match"`
}

// Search returns the messages of o most similar to q.Text, each with the
// messages around it, without the excluded ones, oldest first. It waits
// until o's index is loaded or ctx ends. While the messages are embedded
// again after a change of embedder, it searches the vectors of the
// embedder before.
func (r *Recall) Search(ctx context.Context, o Owner, q RecallQuery) ([]Recalled, error) {
	q, err := checkRecallQuery(q)
	if err != nil {
		return nil, err
	}
	rr, err := r.unlocked(o)
	if err != nil {
		return nil, err
	}
	if err := rr.waitReady(ctx); err != nil {
		return nil, err
	}
	view := rr.view.Load()
	if view == nil {
		return nil, nil
	}
	index, query, err := embedQuery(ctx, view, truncateText(q.Text))
	if err != nil || index == nil {
		return nil, err
	}

	excluded := make(map[string]bool, len(q.Exclude))
	for _, id := range q.Exclude {
		excluded[id] = true
	}
	filter := func(key string) bool {
		threadID, messageID, ok := splitIndexKey(key)
		if !ok || excluded[messageID] {
			return false
		}
		return q.Scope != ScopeThread || threadID == q.ThreadID
	}
	// Twice as many as needed, so that matches whose text repeats another
	// one, as in a forked thread, can be skipped.
	hits, err := index.Search(query, 2*q.TopK, filter)
	if err != nil {
		return nil, fmt.Errorf("search recall index: %w", err)
	}
	return r.store.recalledMessages(ctx, o, hits, q, excluded)
}

// embedQuery embeds text for the view's index, or for its fallback when
// the view's embedder fails and the fallback holds vectors. It returns a
// nil index when there is nothing to search.
func embedQuery(ctx context.Context, view *searchView, text string) (*vector.Index, []float32, error) {
	if view.index == nil || view.index.Len() == 0 {
		if view.fallback != nil {
			return embedQuery(ctx, view.fallback, text)
		}
		return nil, nil, nil
	}
	primary := ctx
	if view.fallback != nil {
		// Leave the fallback half of the time, so that a slow old server
		// does not use it all.
		wait := 10 * time.Second
		if deadline, ok := ctx.Deadline(); ok {
			wait = time.Until(deadline) / 2
		}
		var cancel context.CancelFunc
		primary, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	vectors, err := view.embedder.Embed(primary, []string{text})
	if err == nil && len(vectors) != 1 {
		err = fmt.Errorf("embedder %s returned %d vectors for 1 text", view.embedder.ID(), len(vectors))
	}
	if err != nil {
		if view.fallback != nil && ctx.Err() == nil {
			if index, query, ferr := embedQuery(ctx, view.fallback, text); ferr == nil && index != nil {
				return index, query, nil
			}
		}
		return nil, nil, fmt.Errorf("embed the query: %w", err)
	}
	return view.index, vectors[0], nil
}

func checkRecallQuery(q RecallQuery) (RecallQuery, error) {
	if strings.TrimSpace(q.Text) == "" {
		return q, &InputError{Field: "text", Reason: "The text to search for is empty; give the words to look for."}
	}
	switch {
	case q.TopK == 0:
		q.TopK = DefaultTopK
	case q.TopK < 0 || q.TopK > MaxTopK:
		return q, &InputError{Field: "topK", Reason: fmt.Sprintf("topK is %d; use 1 to %d.", q.TopK, MaxTopK)}
	}
	switch {
	case q.MessageRange == 0:
		q.MessageRange = DefaultMessageRange
	case q.MessageRange < 0:
		q.MessageRange = 0
	case q.MessageRange > MaxMessageRange:
		return q, &InputError{Field: "messageRange", Reason: fmt.Sprintf("messageRange is %d; use 0 to %d.", q.MessageRange, MaxMessageRange)}
	}
	switch q.Scope {
	case "":
		q.Scope = ScopeResource
	case ScopeResource:
	case ScopeThread:
		if !ValidID(q.ThreadID) {
			return q, &InputError{Field: "threadId", Reason: "A thread-scoped search needs the id of the thread to search."}
		}
	default:
		return q, &InputError{Field: "scope", Reason: fmt.Sprintf("scope is %q; use %q or %q.", q.Scope, ScopeResource, ScopeThread)}
	}
	return q, nil
}

// recalledMessages reads the matches and their neighbours in one
// transaction, checking that o owns each thread, and returns them oldest
// first without repeats.
func (s *Store) recalledMessages(ctx context.Context, o Owner, hits []vector.Result, q RecallQuery, excluded map[string]bool) ([]Recalled, error) {
	var out []Recalled
	err := s.db.View(func(tx *bbolt.Tx) error {
		seen := make(map[string]int) // message id → index in out
		texts := make(map[string]bool)
		titles := make(map[string]string)
		matches := 0
		for _, hit := range hits {
			if matches == q.TopK {
				break
			}
			threadID, messageID, ok := splitIndexKey(hit.Key)
			if !ok {
				continue
			}
			rec, err := ownedThread(tx, o, threadID)
			if err != nil {
				continue // deleted meanwhile, or not o's
			}
			window, err := messageWindow(tx, o, threadID, messageID, q.MessageRange)
			if err != nil || len(window) == 0 {
				continue
			}
			var match *Message
			for i := range window {
				if window[i].ID == messageID {
					match = &window[i]
				}
			}
			if match == nil || embeddableText(*match) == "" || texts[strings.TrimSpace(match.Content)] {
				continue
			}
			texts[strings.TrimSpace(match.Content)] = true
			matches++
			title, ok := titles[threadID]
			if !ok {
				title = rec.thread(threadID, o.Key).Title
				titles[threadID] = title
			}
			for _, m := range window {
				if excluded[m.ID] || m.Damaged || strings.TrimSpace(m.Content) == "" {
					continue
				}
				isMatch := m.ID == messageID
				if i, ok := seen[m.ID]; ok {
					// A match keeps its own similarity; context takes
					// the best of the matches it surrounds.
					switch {
					case isMatch:
						out[i].Match, out[i].Similarity = true, hit.Score
					case !out[i].Match:
						out[i].Similarity = max(out[i].Similarity, hit.Score)
					}
					continue
				}
				seen[m.ID] = len(out)
				out = append(out, Recalled{Message: m, ThreadID: threadID, ThreadTitle: title, Date: m.CreatedAt, Similarity: hit.Score, Match: isMatch})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Recalled) int {
		if c := a.Date.Compare(b.Date); c != 0 {
			return c
		}
		return cmp.Compare(a.Message.ID, b.Message.ID)
	})
	return out, nil
}

// messageWindow returns a message of a thread with up to span messages on
// each side, oldest first. The caller has checked that o owns the thread.
func messageWindow(tx *bbolt.Tx, o Owner, threadID, messageID string, span int) ([]Message, error) {
	msgs, key, err := messageKey(tx, threadID, messageID)
	if err != nil {
		return nil, err
	}
	c := msgs.Cursor()
	var before []Message
	c.Seek(key)
	for k, v := c.Prev(); k != nil && len(before) < span; k, v = c.Prev() {
		m, err := decodeMessage(v, o, threadID)
		if err != nil {
			return nil, err
		}
		before = append(before, m)
	}
	slices.Reverse(before)
	window := before
	for k, v := c.Seek(key); k != nil && len(window) < len(before)+span+1; k, v = c.Next() {
		m, err := decodeMessage(v, o, threadID)
		if err != nil {
			return nil, err
		}
		window = append(window, m)
	}
	return window, nil
}
