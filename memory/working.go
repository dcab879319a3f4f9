package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// Working memory limits.
const (
	// MaxWorkingMemoryBytes is the largest working memory document.
	MaxWorkingMemoryBytes = 64 << 10
	// WorkingMemoryHistory is how many earlier versions are kept besides
	// the current one.
	WorkingMemoryHistory = 50
)

var currentKey = []byte("current")

// WorkingMemory is the Markdown document the assistant keeps about a
// resource, or about one thread when ThreadID is set.
type WorkingMemory struct {
	ThreadID  string    `json:"threadId,omitempty"`
	Content   string    `json:"content"`
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
	// Damaged is set when the stored document does not open with the
	// owner's key.
	Damaged bool `json:"damaged,omitempty"`
}

// WorkingMemoryUpdate replaces a working memory document.
type WorkingMemoryUpdate struct {
	// ThreadID selects a thread's own document; empty selects the
	// resource's.
	ThreadID string
	// Content is the whole new document.
	Content string
	// Version is the version the update was based on. A different current
	// version makes the update fail with ErrConflict.
	Version int
	// Template, if set, is the empty form of the document: replacing a
	// document that says more with the bare template is rejected like
	// replacing it with nothing.
	Template string
	// AllowEmpty lets the update empty the document. Set it when the
	// person edits the document, not when the model does.
	AllowEmpty bool
}

// workingRecord is one version of a working memory document as stored.
type workingRecord struct {
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updatedAt"`
	Sealed    []byte    `json:"sealed"` // the content, sealed
}

// WorkingMemory returns the current working memory of the resource, or of a
// thread it owns when threadID is set. A document never written is empty
// with version 0.
func (s *Store) WorkingMemory(ctx context.Context, o Owner, threadID string) (WorkingMemory, error) {
	var wm WorkingMemory
	err := s.db.View(func(tx *bbolt.Tx) error {
		scope, err := workingScope(tx, o, threadID)
		if err != nil {
			return err
		}
		wm, err = currentWorkingMemory(tx, o, scope, threadID)
		return err
	})
	if err != nil {
		return WorkingMemory{}, fmt.Errorf("get working memory: %w", err)
	}
	return wm, nil
}

// ReplaceWorkingMemory stores a new version of a working memory document if
// u.Version is still the current version, and keeps the previous one in the
// history. Unless u.AllowEmpty is set, it rejects an update that would
// empty a document, or reduce it to u.Template.
func (s *Store) ReplaceWorkingMemory(ctx context.Context, o Owner, u WorkingMemoryUpdate) (WorkingMemory, error) {
	if len(u.Content) > MaxWorkingMemoryBytes {
		return WorkingMemory{}, &InputError{Field: "content", Reason: fmt.Sprintf("The working memory is %d bytes long; the limit is %d.", len(u.Content), MaxWorkingMemoryBytes)}
	}
	if err := checkMessage(&Message{Role: RoleSystem, Content: u.Content}); err != nil {
		return WorkingMemory{}, &InputError{Field: "content", Reason: "The working memory is not valid UTF-8 text."}
	}

	var wm WorkingMemory
	err := s.update(func(tx *bbolt.Tx) error {
		scope, err := workingScope(tx, o, u.ThreadID)
		if err != nil {
			return err
		}
		current, err := currentWorkingMemory(tx, o, scope, u.ThreadID)
		if err != nil {
			return err
		}
		if current.Damaged {
			return fmt.Errorf("the working memory does not open with this key, so it is not replaced")
		}
		if u.Version != current.Version {
			return fmt.Errorf("%w: the update is based on version %d, the current version is %d", ErrConflict, u.Version, current.Version)
		}
		if !u.AllowEmpty && wipesDocument(current.Content, u.Content, u.Template) {
			return &InputError{Field: "content", Reason: "The update would leave the working memory empty or bare; send the whole document with what it should keep."}
		}
		wm, err = putWorkingMemory(tx, o, scope, u.ThreadID, u.Content, current.Version+1, s.now().UTC())
		return err
	})
	if err != nil {
		return WorkingMemory{}, fmt.Errorf("replace working memory: %w", err)
	}
	return wm, nil
}

// WorkingMemoryHistory returns the kept versions of a working memory
// document, newest first, the current one included.
func (s *Store) WorkingMemoryHistory(ctx context.Context, o Owner, threadID string) ([]WorkingMemory, error) {
	history := []WorkingMemory{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		scope, err := workingScope(tx, o, threadID)
		if err != nil {
			return err
		}
		b := tx.Bucket(workingBucket).Bucket(scope)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			if string(k) == string(currentKey) {
				continue
			}
			history = append(history, openWorkingRecord(v, o, scope, threadID))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("working memory history: %w", err)
	}
	return history, nil
}

// RevertWorkingMemory makes an earlier version the current document again,
// as a new version, if current is still the current version.
func (s *Store) RevertWorkingMemory(ctx context.Context, o Owner, threadID string, version, current int) (WorkingMemory, error) {
	var wm WorkingMemory
	err := s.update(func(tx *bbolt.Tx) error {
		scope, err := workingScope(tx, o, threadID)
		if err != nil {
			return err
		}
		now, err := currentWorkingMemory(tx, o, scope, threadID)
		if err != nil {
			return err
		}
		if current != now.Version {
			return fmt.Errorf("%w: the revert is based on version %d, the current version is %d", ErrConflict, current, now.Version)
		}
		b := tx.Bucket(workingBucket).Bucket(scope)
		if b == nil || version <= 0 {
			return ErrNotFound
		}
		v := b.Get(sequenceKey(uint64(version)))
		if v == nil {
			return ErrNotFound
		}
		old := openWorkingRecord(v, o, scope, threadID)
		if old.Damaged {
			return fmt.Errorf("working memory version %d is damaged", version)
		}
		wm, err = putWorkingMemory(tx, o, scope, threadID, old.Content, now.Version+1, s.now().UTC())
		return err
	})
	if err != nil {
		return WorkingMemory{}, fmt.Errorf("revert working memory to version %d: %w", version, err)
	}
	return wm, nil
}

// wipesDocument reports whether replacing current with next would throw its
// content away: next is empty or the bare template while current is not.
func wipesDocument(current, next, template string) bool {
	current, next, template = strings.TrimSpace(current), strings.TrimSpace(next), strings.TrimSpace(template)
	if current == "" || current == template {
		return false
	}
	return next == "" || (template != "" && next == template)
}

// workingScope returns the bucket name of the document selected by
// threadID, checking that o owns the thread.
func workingScope(tx *bbolt.Tx, o Owner, threadID string) ([]byte, error) {
	if err := checkOwner(o); err != nil {
		return nil, err
	}
	if threadID == "" {
		return resourceScopeKey(o.ResourceID), nil
	}
	if _, err := ownedThread(tx, o, threadID); err != nil {
		return nil, err
	}
	return threadScopeKey(threadID), nil
}

func resourceScopeKey(resourceID string) []byte { return []byte("resource:" + resourceID) }
func threadScopeKey(threadID string) []byte     { return []byte("thread:" + threadID) }

func workingAD(resourceID string, scope []byte, version int) []byte {
	return fmt.Appendf(nil, "hearth/memory/working/%s/%s/%d", resourceID, scope, version)
}

func currentWorkingMemory(tx *bbolt.Tx, o Owner, scope []byte, threadID string) (WorkingMemory, error) {
	b := tx.Bucket(workingBucket).Bucket(scope)
	if b == nil {
		return WorkingMemory{ThreadID: threadID}, nil
	}
	v := b.Get(currentKey)
	if v == nil {
		return WorkingMemory{ThreadID: threadID}, nil
	}
	return openWorkingRecord(v, o, scope, threadID), nil
}

// putWorkingMemory stores content as the given version, both as the current
// document and in the history, and trims the history.
func putWorkingMemory(tx *bbolt.Tx, o Owner, scope []byte, threadID, content string, version int, now time.Time) (WorkingMemory, error) {
	b, err := tx.Bucket(workingBucket).CreateBucketIfNotExists(scope)
	if err != nil {
		return WorkingMemory{}, err
	}
	rec := workingRecord{Version: version, UpdatedAt: now, Sealed: o.Key.Seal([]byte(content), workingAD(o.ResourceID, scope, version))}
	v, err := json.Marshal(rec)
	if err != nil {
		return WorkingMemory{}, err
	}
	if err := b.Put(currentKey, v); err != nil {
		return WorkingMemory{}, err
	}
	if err := b.Put(sequenceKey(uint64(version)), v); err != nil {
		return WorkingMemory{}, err
	}
	if oldest := version - WorkingMemoryHistory - 1; oldest > 0 {
		if err := b.Delete(sequenceKey(uint64(oldest))); err != nil {
			return WorkingMemory{}, err
		}
	}
	return WorkingMemory{ThreadID: threadID, Content: content, Version: version, UpdatedAt: now}, nil
}

func openWorkingRecord(v []byte, o Owner, scope []byte, threadID string) WorkingMemory {
	var rec workingRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return WorkingMemory{ThreadID: threadID, Damaged: true}
	}
	wm := WorkingMemory{ThreadID: threadID, Version: rec.Version, UpdatedAt: rec.UpdatedAt}
	content, err := o.Key.Open(rec.Sealed, workingAD(o.ResourceID, scope, rec.Version))
	if err != nil {
		wm.Damaged = true
		return wm
	}
	wm.Content = string(content)
	return wm
}

// deleteWorkingMemory removes a document with its history.
func deleteWorkingMemory(tx *bbolt.Tx, scope []byte) error {
	b := tx.Bucket(workingBucket)
	if b.Bucket(scope) == nil {
		return nil
	}
	return b.DeleteBucket(scope)
}
