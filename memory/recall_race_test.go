package memory

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"go.etcd.io/bbolt"
)

// TestRecallRandomInterleavings runs random appends, edits, message and
// thread deletions, searches and embedder switches from several goroutines
// while the worker embeds, then checks that the index, the stored vectors
// and the messages agree: every vector belongs to a message that exists,
// and no deleted message is ever returned by a search.
func TestRecallRandomInterleavings(t *testing.T) {
	const (
		workers    = 4
		operations = 1200
	)
	f := newRecallFixture(t, "", RecallConfig{EmbedBatch: 8, SnapshotDelay: 1})
	o := newOwner(resourceA)
	f.unlock(t, o)
	ctx := context.Background()

	var mu sync.Mutex
	deleted := map[string]bool{} // message ids deleted so far
	words := []string{"rent", "landlord", "boiler", "garden", "tomato", "bike", "chain", "tax", "bakery", "train"}

	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var threads []string
			var messages []Message
			for i := range operations / workers {
				switch op := rng.IntN(100); {
				case op < 10 || len(threads) == 0:
					th, err := f.store.CreateThread(ctx, o, fmt.Sprintf("w%d-%d", w, i), nil)
					if err != nil {
						t.Error(err)
						return
					}
					threads = append(threads, th.ID)
				case op < 55:
					th := threads[rng.IntN(len(threads))]
					text := fmt.Sprintf("%s %s note %d from %d", words[rng.IntN(len(words))], words[rng.IntN(len(words))], i, w)
					m, err := f.store.AppendMessage(ctx, o, Message{ThreadID: th, Role: RoleUser, Content: text})
					if err != nil {
						t.Error(err)
						return
					}
					messages = append(messages, m)
					f.recall.Enqueue(o, th)
				case op < 62 && len(messages) > 0:
					m := messages[rng.IntN(len(messages))]
					m.Content = "edited " + words[rng.IntN(len(words))]
					if _, err := f.store.UpdateMessage(ctx, o, m); err == nil {
						f.recall.Enqueue(o, m.ThreadID)
					}
				case op < 68 && len(messages) > 0:
					k := rng.IntN(len(messages))
					m := messages[k]
					messages = slices.Delete(messages, k, k+1)
					if err := f.store.DeleteMessage(ctx, o, m.ThreadID, m.ID); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					deleted[m.ID] = true
					mu.Unlock()
				case op < 72 && len(threads) > 1:
					k := rng.IntN(len(threads))
					th := threads[k]
					threads = slices.Delete(threads, k, k+1)
					if err := f.store.DeleteThread(ctx, o, th); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, m := range messages {
						if m.ThreadID == th {
							deleted[m.ID] = true
						}
					}
					mu.Unlock()
					messages = slices.DeleteFunc(messages, func(m Message) bool { return m.ThreadID == th })
				case op < 73 && w == 0:
					dim := []int{384, 512}[rng.IntN(2)]
					if err := f.recall.SetEmbedder(ctx, o, specOf(dim, "")); err != nil {
						t.Error(err)
						return
					}
				default:
					// A message deleted before the search began must not
					// be found; one deleted during it may be.
					mu.Lock()
					before := maps.Clone(deleted)
					mu.Unlock()
					found, err := f.recall.Search(ctx, o, RecallQuery{Text: words[rng.IntN(len(words))], TopK: 5})
					if err != nil {
						t.Error(err)
						return
					}
					for _, r := range found {
						if before[r.Message.ID] {
							t.Errorf("search returned message %s, deleted before the search began", r.Message.ID)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	f.wait(t, o)

	// After everything settled: searches never return deleted messages,
	// and every indexed key has a stored vector of a message that exists.
	for _, word := range words {
		for _, r := range f.search(t, o, RecallQuery{Text: word, TopK: 20, MessageRange: -1}) {
			if deleted[r.Message.ID] {
				t.Errorf("search for %q returned deleted message %s", word, r.Message.ID)
			}
		}
	}
	rr, err := f.recall.unlocked(o)
	if err != nil {
		t.Fatal(err)
	}
	rr.write.Lock()
	defer rr.write.Unlock()
	if rr.previous != nil {
		t.Errorf("an embedder switch is still under way after Wait")
	}
	sp := rr.current
	keys := sp.index.Keys()
	err = f.db.View(func(tx *bbolt.Tx) error {
		vecs := spaceBucket(tx, o.ResourceID, sp.name).Bucket(vecBucket)
		withVector := 0
		err := vecs.ForEach(func(k, v []byte) error {
			sv, err := openVector(o, sp.name, string(k), v, sp.info.Dim)
			if err != nil {
				return err
			}
			if len(sv.Vector) > 0 {
				withVector++
			}
			if _, _, err := messageKey(tx, sv.ThreadID, sv.MessageID); sv.ThreadID != "" && err != nil {
				t.Errorf("a vector record of message %s outlived the message", k)
			}
			if deleted[string(k)] {
				t.Errorf("deleted message %s still has a vector record", k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if withVector != len(keys) {
			t.Errorf("the index holds %d keys, the file %d vectors", len(keys), withVector)
		}
		missing, _, err := missingVectors(tx, o, sp.name, nil)
		if len(missing) != 0 {
			t.Errorf("%d messages have no vector after Wait", len(missing))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keys {
		if _, messageID, _ := splitIndexKey(key); deleted[messageID] {
			t.Errorf("the index still holds deleted message %s", messageID)
		}
	}
}
