package memory

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
)

// A chat id is the id a client gives a conversation, such as the id of an
// AI SDK useChat chat, when it does not use Hearth's thread ids. Each
// resource's bucket has an index of its chat ids to the thread that holds
// the chat, written in the transaction that creates the thread.

// chatsIndex is the sub-bucket of a resource's bucket that maps chat ids to
// thread ids.
var chatsIndex = []byte("chats")

// MaxChatIDBytes is the longest chat id accepted.
const MaxChatIDBytes = 128

// ErrChatTaken is returned by StartChatThread when another request bound
// the chat id to a thread first.
var ErrChatTaken = errors.New("chat id already has a thread")

// CheckChatID checks a chat id: 1 to MaxChatIDBytes bytes of UTF-8 text
// without control or formatting characters.
func CheckChatID(field, chatID string) error {
	if chatID == "" || len(chatID) > MaxChatIDBytes {
		return &InputError{Field: field, Reason: fmt.Sprintf("The chat id must be 1 to %d bytes long.", MaxChatIDBytes)}
	}
	return checkText(field, "chat id", chatID, MaxChatIDBytes)
}

// ThreadByChat returns the thread of o that holds the chat chatID, or
// ErrNotFound if o has none.
func (s *Store) ThreadByChat(ctx context.Context, o Owner, chatID string) (Thread, error) {
	if err := checkOwner(o); err != nil {
		return Thread{}, err
	}
	var t Thread
	err := s.db.View(func(tx *bbolt.Tx) error {
		threadID := chatThread(tx, o.ResourceID, chatID)
		if threadID == "" {
			return ErrNotFound
		}
		var err error
		t, err = ownedThreadView(tx, o, threadID)
		return err
	})
	if err != nil {
		return Thread{}, fmt.Errorf("thread of chat %q: %w", chatID, err)
	}
	return t, nil
}

// StartChatThread is StartThread for the first message of the chat chatID:
// the new thread is bound to the chat in the same transaction. If the chat
// already has a thread, it creates nothing and returns ErrChatTaken.
func (s *Store) StartChatThread(ctx context.Context, o Owner, chatID string, m Message) (Thread, Message, error) {
	if err := CheckChatID("id", chatID); err != nil {
		return Thread{}, Message{}, err
	}
	return s.startThread(ctx, o, "", m, chatID)
}

// chatThread returns the id of the thread bound to chatID in a resource,
// or "" if there is none.
func chatThread(tx *bbolt.Tx, resourceID, chatID string) string {
	owned := tx.Bucket(resourcesBucket).Bucket([]byte(resourceID))
	if owned == nil {
		return ""
	}
	chats := owned.Bucket(chatsIndex)
	if chats == nil {
		return ""
	}
	return string(chats.Get([]byte(chatID)))
}

// bindChat binds chatID to threadID in a resource, or returns ErrChatTaken
// if the chat has a thread already.
func bindChat(tx *bbolt.Tx, resourceID, chatID, threadID string) error {
	owned, err := tx.Bucket(resourcesBucket).CreateBucketIfNotExists([]byte(resourceID))
	if err != nil {
		return err
	}
	chats, err := owned.CreateBucketIfNotExists(chatsIndex)
	if err != nil {
		return err
	}
	if chats.Get([]byte(chatID)) != nil {
		return ErrChatTaken
	}
	return chats.Put([]byte(chatID), []byte(threadID))
}

// unbindThreadChats removes the chat ids bound to threadID. A resource has
// as many chat ids as threads at most, and threads are deleted one at a
// time, so a scan is cheap enough.
func unbindThreadChats(tx *bbolt.Tx, resourceID, threadID string) error {
	owned := tx.Bucket(resourcesBucket).Bucket([]byte(resourceID))
	if owned == nil {
		return nil
	}
	chats := owned.Bucket(chatsIndex)
	if chats == nil {
		return nil
	}
	var stale [][]byte
	err := chats.ForEach(func(k, v []byte) error {
		if string(v) == threadID {
			stale = append(stale, slices.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range stale {
		if err := chats.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
