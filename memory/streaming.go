package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
)

// streamingBucket indexes the messages stored with Streaming set, so that
// the replies a dead process left unfinished are found without reading
// every message. It holds one bucket per resource id, and in it the key
// thread id + message id (36 bytes each) with an empty value.
var streamingBucket = []byte("streaming")

// streamingKeySize is the length of a key in a resource's streaming index.
const streamingKeySize = 36 + 36

// RecoverInterrupted marks every reply still stored as streaming with
// StatusInterrupted and clears its Streaming flag, in one transaction, and
// returns how many it marked. Their text stays as it was written. It reads
// only the index of streaming messages and the messages it names, so its
// cost does not grow with the size of the store. It needs no key, because
// the status and the flag are stored in the clear.
//
// The app calls it once after Open and before it serves requests. At that
// point no reply can be running, because bbolt's file lock lets only one
// process open the data file. Called while a reply streams, it would mark
// that reply as interrupted too.
func (s *Store) RecoverInterrupted(ctx context.Context) (int, error) {
	recovered := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		entries, err := streamingEntries(tx)
		if err != nil {
			return err
		}
		for _, e := range entries {
			marked, err := markInterrupted(tx, e)
			if err != nil {
				return err
			}
			if marked {
				recovered++
			}
		}
		if err := tx.DeleteBucket(streamingBucket); err != nil {
			return err
		}
		_, err = tx.CreateBucket(streamingBucket)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("recover interrupted replies: %w", err)
	}
	return recovered, nil
}

// streamingEntry is one message named in the streaming index.
type streamingEntry struct {
	resourceID, threadID, messageID string
}

// streamingEntries returns the entries of the streaming index. Keys that
// do not have the length of two ids are skipped, since they name no
// message.
func streamingEntries(tx *bbolt.Tx) ([]streamingEntry, error) {
	index := tx.Bucket(streamingBucket)
	var entries []streamingEntry
	err := index.ForEachBucket(func(resourceID []byte) error {
		return index.Bucket(resourceID).ForEach(func(k, _ []byte) error {
			if len(k) != streamingKeySize {
				return nil
			}
			entries = append(entries, streamingEntry{
				resourceID: string(resourceID),
				threadID:   string(k[:36]),
				messageID:  string(k[36:]),
			})
			return nil
		})
	})
	return entries, err
}

// markInterrupted marks the message of e as interrupted and reports
// whether it did. An entry whose thread or message is gone, or whose
// message is no longer streaming, changes nothing. Such entries are left
// by writers that did not keep the index, such as a build from before it.
func markInterrupted(tx *bbolt.Tx, e streamingEntry) (bool, error) {
	v := tx.Bucket(threadsBucket).Get([]byte(e.threadID))
	if v == nil {
		return false, nil
	}
	rec, err := decodeThreadRecord(v, []byte(e.threadID))
	if err != nil || rec.ResourceID != e.resourceID {
		// An unreadable thread record is shown as damaged by the reads,
		// and recovery leaves it alone.
		return false, nil
	}
	msgs, key, err := messageKey(tx, e.threadID, e.messageID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}

	var mr messageRecord
	if err := json.Unmarshal(msgs.Get(key), &mr); err != nil || !mr.Streaming {
		return false, nil
	}
	// The message has no vector to drop, because recall embeds only
	// complete messages and checkMessage rejects a complete one that is
	// streaming.
	mr.Status, mr.Streaming = StatusInterrupted, false
	if err := putMessageRecord(msgs, key, &mr); err != nil {
		return false, err
	}
	return true, nil
}

// indexStreaming adds a message to its resource's streaming index when
// streaming is set and removes it otherwise.
func indexStreaming(tx *bbolt.Tx, resourceID, threadID, messageID string, streaming bool) error {
	key := streamingKey(threadID, messageID)
	if !streaming {
		index := tx.Bucket(streamingBucket).Bucket([]byte(resourceID))
		if index == nil {
			return nil
		}
		return index.Delete(key)
	}
	index, err := tx.Bucket(streamingBucket).CreateBucketIfNotExists([]byte(resourceID))
	if err != nil {
		return err
	}
	return index.Put(key, nil)
}

// unindexThreadStreaming removes every message of a thread from its
// resource's streaming index.
func unindexThreadStreaming(tx *bbolt.Tx, resourceID, threadID string) error {
	index := tx.Bucket(streamingBucket).Bucket([]byte(resourceID))
	if index == nil {
		return nil
	}
	prefix := []byte(threadID)
	var keys [][]byte
	c := index.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, slices.Clone(k))
	}
	for _, k := range keys {
		if err := index.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// unindexResourceStreaming removes a resource's streaming index.
func unindexResourceStreaming(tx *bbolt.Tx, resourceID string) error {
	index := tx.Bucket(streamingBucket)
	if index.Bucket([]byte(resourceID)) == nil {
		return nil
	}
	return index.DeleteBucket([]byte(resourceID))
}

func streamingKey(threadID, messageID string) []byte {
	return append([]byte(threadID), messageID...)
}
