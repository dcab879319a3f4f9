package memory

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
)

// A client request id names one request of a client, such as one chat
// message sent, so that a retry of it stores nothing twice. It is unique
// per resource. Each resource's bucket has an index of its client request
// ids to the thread that contains their message, and each thread has an
// index of its own client request ids to the message. Both are written in the
// transaction that stores the message.

// MessageByRequest returns the message that the client request
// clientRequestID of o created, or ErrNotFound if o has none.
func (s *Store) MessageByRequest(ctx context.Context, o Owner, clientRequestID string) (Message, error) {
	if err := checkOwner(o); err != nil {
		return Message{}, err
	}
	var m *Message
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		m, err = requestMessage(tx, o, "", clientRequestID)
		return err
	})
	if err != nil {
		return Message{}, fmt.Errorf("message of client request %q: %w", clientRequestID, err)
	}
	if m == nil {
		return Message{}, fmt.Errorf("message of client request %q: %w", clientRequestID, ErrNotFound)
	}
	return *m, nil
}

// requestMessage returns o's message created with clientRequestID, or nil
// if there is none. The resource's index is searched first. If it has no
// match and threadID is not empty, the thread's own index is searched too,
// because in a file migrated from schema 2 two threads may share an id, and
// the second keeps it after the first is deleted.
func requestMessage(tx *bbolt.Tx, o Owner, threadID, clientRequestID string) (*Message, error) {
	if requests := resourceRequests(tx, o.ResourceID); requests != nil {
		if indexed := requests.Get([]byte(clientRequestID)); indexed != nil {
			m, err := messageByRequest(tx, o, string(indexed), clientRequestID)
			if m != nil || err != nil {
				return m, err
			}
		}
	}
	if threadID == "" {
		return nil, nil
	}
	return messageByRequest(tx, o, threadID, clientRequestID)
}

// messageByRequest returns the message created with clientRequestID in a
// thread, or nil if there is none.
func messageByRequest(tx *bbolt.Tx, o Owner, threadID, clientRequestID string) (*Message, error) {
	requests := tx.Bucket(requestsBucket).Bucket([]byte(threadID))
	if requests == nil {
		return nil, nil
	}
	id := requests.Get([]byte(clientRequestID))
	if id == nil {
		return nil, nil
	}
	msgs, key, err := messageKey(tx, threadID, string(id))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := decodeMessage(msgs.Get(key), o, threadID)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// indexRequest records that message messageID of threadID was created by
// clientRequestID, in the thread's index and, unless another thread of the
// resource has the id already, in the resource's.
func indexRequest(tx *bbolt.Tx, resourceID, threadID, messageID, clientRequestID string) error {
	own, err := tx.Bucket(requestsBucket).CreateBucketIfNotExists([]byte(threadID))
	if err != nil {
		return err
	}
	if err := own.Put([]byte(clientRequestID), []byte(messageID)); err != nil {
		return err
	}

	owned, err := tx.Bucket(resourcesBucket).CreateBucketIfNotExists([]byte(resourceID))
	if err != nil {
		return err
	}
	requests, err := owned.CreateBucketIfNotExists(requestsIndex)
	if err != nil {
		return err
	}
	if requests.Get([]byte(clientRequestID)) != nil {
		return nil
	}
	return requests.Put([]byte(clientRequestID), []byte(threadID))
}

// unindexRequest removes clientRequestID from the thread's index, and from
// the resource's where it names threadID.
func unindexRequest(tx *bbolt.Tx, resourceID, threadID, clientRequestID string) error {
	if own := tx.Bucket(requestsBucket).Bucket([]byte(threadID)); own != nil {
		if err := own.Delete([]byte(clientRequestID)); err != nil {
			return err
		}
	}
	requests := resourceRequests(tx, resourceID)
	if requests == nil || string(requests.Get([]byte(clientRequestID))) != threadID {
		return nil
	}
	return requests.Delete([]byte(clientRequestID))
}

// unindexThreadRequests removes the client request ids of a thread from its
// resource's index. The thread's own index goes with its other data.
func unindexThreadRequests(tx *bbolt.Tx, resourceID, threadID string) error {
	own := tx.Bucket(requestsBucket).Bucket([]byte(threadID))
	requests := resourceRequests(tx, resourceID)
	if own == nil || requests == nil {
		return nil
	}
	var stale [][]byte
	err := own.ForEach(func(k, _ []byte) error {
		if string(requests.Get(k)) == threadID {
			stale = append(stale, slices.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range stale {
		if err := requests.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// resourceRequests returns the client request index of a resource, or nil
// if the resource has none yet.
func resourceRequests(tx *bbolt.Tx, resourceID string) *bbolt.Bucket {
	owned := tx.Bucket(resourcesBucket).Bucket([]byte(resourceID))
	if owned == nil {
		return nil
	}
	return owned.Bucket(requestsIndex)
}

// indexClientRequests migrates schema 2 to 3: it builds each resource's
// client request index from the threads' own indexes. Schema 2 kept client
// request ids unique per thread only, and forks copied them, so an id may
// be in several threads of a resource. The thread with the lowest id, the
// oldest, keeps it.
func indexClientRequests(tx *bbolt.Tx) error {
	threads := tx.Bucket(threadsBucket)
	return tx.Bucket(requestsBucket).ForEach(func(threadID, v []byte) error {
		own := tx.Bucket(requestsBucket).Bucket(threadID)
		if v != nil || own == nil {
			return nil
		}
		rec, err := decodeThreadRecord(threads.Get(threadID), threadID)
		if err != nil {
			// A thread whose record is missing or unreadable has no owner to
			// index its requests under, and its messages cannot be listed.
			return nil
		}
		return own.ForEach(func(clientRequestID, messageID []byte) error {
			owned, err := tx.Bucket(resourcesBucket).CreateBucketIfNotExists([]byte(rec.ResourceID))
			if err != nil {
				return err
			}
			requests, err := owned.CreateBucketIfNotExists(requestsIndex)
			if err != nil {
				return err
			}
			if requests.Get(clientRequestID) != nil {
				return nil
			}
			return requests.Put(clientRequestID, threadID)
		})
	})
}
