package memory

import (
	"context"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"
)

// MarkThreadDamaged records that a read found a message of threadID whose
// sealed fields do not open, so that Thread and Threads return the thread
// with DamagedMessages set. Listing threads opens no messages, so only a
// mark kept with the thread can show the damage there. It reports whether
// the thread was unmarked before, so that the caller reports the damage
// once. The mark stays until the thread is deleted.
func (s *Store) MarkThreadDamaged(ctx context.Context, o Owner, threadID string) (bool, error) {
	marked := false
	err := s.update(func(tx *bbolt.Tx) error {
		marked = false
		if _, err := ownedThread(tx, o, threadID); err != nil {
			return err
		}
		if markedDamaged(tx, o.ResourceID, threadID) {
			return nil
		}
		owned, err := tx.Bucket(resourcesBucket).CreateBucketIfNotExists([]byte(o.ResourceID))
		if err != nil {
			return err
		}
		damaged, err := owned.CreateBucketIfNotExists(damagedThreads)
		if err != nil {
			return err
		}
		marked = true
		found := binary.BigEndian.AppendUint64(nil, uint64(s.now().UnixNano()))
		return damaged.Put([]byte(threadID), found)
	})
	if err != nil {
		return false, fmt.Errorf("mark thread %s damaged: %w", threadID, err)
	}
	return marked, nil
}

// markedDamaged reports whether MarkThreadDamaged has marked threadID.
func markedDamaged(tx *bbolt.Tx, resourceID, threadID string) bool {
	owned := tx.Bucket(resourcesBucket).Bucket([]byte(resourceID))
	if owned == nil {
		return false
	}
	damaged := owned.Bucket(damagedThreads)
	return damaged != nil && damaged.Get([]byte(threadID)) != nil
}
