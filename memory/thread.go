package memory

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"go.etcd.io/bbolt"
)

// DefaultThreadTitle is the title of a thread created without one.
const DefaultThreadTitle = "New Conversation"

// Thread is one conversation, owned by one resource.
type Thread struct {
	ID           string          `json:"id"`
	ResourceID   string          `json:"resourceId"`
	Title        string          `json:"title"`
	CreatedAt    time.Time       `json:"createdAt"`
	UpdatedAt    time.Time       `json:"updatedAt"`
	Metadata     json.RawMessage `json:"metadata"`
	MessageCount int             `json:"messageCount"`
	// Damaged is set when the thread's sealed fields do not open with the
	// owner's key: the record was changed or written under another key.
	// Title and Metadata are then empty.
	Damaged bool `json:"damaged,omitempty"`
	// DamagedMessages is set once a read has found a message of the thread
	// that does not open (see MarkThreadDamaged). The thread's own fields
	// and its other messages are unaffected.
	DamagedMessages bool `json:"damagedMessages,omitempty"`
	// Model is the chat model chosen for this thread; empty means the
	// owner's default model.
	Model string `json:"model,omitempty"`
}

// ThreadPage selects a page of a resource's threads, newest first.
type ThreadPage struct {
	// Limit is the most threads returned; 0 means all.
	Limit int
	// Cursor continues after the last thread of an earlier page; empty
	// starts with the newest thread.
	Cursor string
}

// ThreadUpdate lists the fields UpdateThread changes; nil fields stay.
type ThreadUpdate struct {
	Title    *string
	Metadata json.RawMessage
	// Model, when set, replaces the thread's model; an empty name clears
	// it, so the thread follows the owner's default again.
	Model *string
}

// CreateThread creates an empty thread owned by o. An empty title becomes
// DefaultThreadTitle; metadata, if any, must be a JSON object.
func (s *Store) CreateThread(ctx context.Context, o Owner, title string, metadata json.RawMessage) (Thread, error) {
	if err := checkOwner(o); err != nil {
		return Thread{}, err
	}
	secrets, err := newThreadSecrets(title, metadata)
	if err != nil {
		return Thread{}, err
	}

	id := NewID()
	now := s.now().UTC()
	rec := threadRecord{ResourceID: o.ResourceID, CreatedAt: now, UpdatedAt: now}
	if rec.Sealed, err = sealThreadSecrets(o.Key, secrets, threadAD(o.ResourceID, id)); err != nil {
		return Thread{}, err
	}
	err = s.update(func(tx *bbolt.Tx) error {
		return putThread(tx, id, &rec, time.Time{})
	})
	if err != nil {
		return Thread{}, fmt.Errorf("create thread: %w", err)
	}
	return rec.thread(id, o.Key), nil
}

// StartThread creates a thread owned by o with m as its first message, in
// one transaction, so that no thread is left without the message it was
// created for. An empty title becomes DefaultThreadTitle, and m is checked
// and completed as by AppendMessage. If o already has a message with m's
// ClientRequestID, StartThread creates nothing and returns that message and
// its thread with ErrDuplicate.
func (s *Store) StartThread(ctx context.Context, o Owner, title string, m Message) (Thread, Message, error) {
	return s.startThread(ctx, o, title, m, "")
}

// startThread is StartThread, which also binds the new thread to chatID
// unless it is empty.
func (s *Store) startThread(ctx context.Context, o Owner, title string, m Message, chatID string) (Thread, Message, error) {
	if err := checkOwner(o); err != nil {
		return Thread{}, Message{}, err
	}
	if err := checkMessage(&m); err != nil {
		return Thread{}, Message{}, err
	}
	secrets, err := newThreadSecrets(title, nil)
	if err != nil {
		return Thread{}, Message{}, err
	}
	if m.ID == "" {
		m.ID = NewID()
	} else if !ValidID(m.ID) {
		return Thread{}, Message{}, fmt.Errorf("start thread: invalid message id %q", m.ID)
	}

	id := NewID()
	now := s.now().UTC()
	m.ThreadID, m.CreatedAt = id, now
	fresh := threadRecord{ResourceID: o.ResourceID, CreatedAt: now, UpdatedAt: now}
	if fresh.Sealed, err = sealThreadSecrets(o.Key, secrets, threadAD(o.ResourceID, id)); err != nil {
		return Thread{}, Message{}, err
	}

	var t Thread
	var duplicate *Message
	err = s.update(func(tx *bbolt.Tx) error {
		duplicate = nil
		if m.ClientRequestID != "" {
			existing, err := requestMessage(tx, o, "", m.ClientRequestID)
			if err != nil || existing != nil {
				duplicate = existing
				if err == nil {
					t, err = ownedThreadView(tx, o, existing.ThreadID)
				}
				return err
			}
		}
		if chatID != "" {
			if err := bindChat(tx, o.ResourceID, chatID, id); err != nil {
				return err
			}
		}
		// bbolt may run this function twice, so it counts the message in a
		// copy of the record.
		rec := fresh
		if err := appendMessage(tx, o, &m, &rec); err != nil {
			return err
		}
		if err := putThread(tx, id, &rec, time.Time{}); err != nil {
			return err
		}
		t = rec.thread(id, o.Key)
		return nil
	})
	if err != nil {
		return Thread{}, Message{}, fmt.Errorf("start thread: %w", err)
	}
	if duplicate != nil {
		return t, *duplicate, ErrDuplicate
	}
	return t, m, nil
}

// Thread returns the thread with the given id if o owns it.
func (s *Store) Thread(ctx context.Context, o Owner, threadID string) (Thread, error) {
	var t Thread
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		t, err = ownedThreadView(tx, o, threadID)
		return err
	})
	if err != nil {
		return Thread{}, fmt.Errorf("get thread %s: %w", threadID, err)
	}
	return t, nil
}

// Threads returns a page of the threads owned by o, most recently updated
// first, and the cursor of the next page, which is empty after the last.
func (s *Store) Threads(ctx context.Context, o Owner, page ThreadPage) ([]Thread, string, error) {
	if err := checkOwner(o); err != nil {
		return nil, "", err
	}
	var after []byte
	if page.Cursor != "" {
		var err error
		if after, err = base64.RawURLEncoding.DecodeString(page.Cursor); err != nil || len(after) <= 8 {
			return nil, "", &InputError{Field: "cursor", Reason: "The cursor is not one this server returned; start again without it."}
		}
	}

	var threads []Thread
	next := ""
	err := s.db.View(func(tx *bbolt.Tx) error {
		owned := tx.Bucket(resourcesBucket).Bucket([]byte(o.ResourceID))
		if owned == nil {
			threads = []Thread{}
			return nil
		}
		// One cursor serves every lookup, because Bucket.Get allocates a
		// new cursor each time.
		all := tx.Bucket(threadsBucket).Cursor()
		damaged := owned.Bucket(damagedThreads)
		models := owned.Bucket(threadModels)
		recent := owned.Bucket(recentBucket)
		c := recent.Cursor()
		lister := newThreadLister(o)

		// Thread is a large struct, and growing the slice as it fills
		// took a third of the time of listing 10,000 threads, so it is
		// sized from the index first. Stats counts the keys from the
		// headers of the index's pages and elements, without reading keys.
		size := recent.Stats().KeyN
		if page.Limit > 0 {
			size = min(size, page.Limit)
		}
		threads = make([]Thread, 0, size)

		k, _ := c.Last()
		if after != nil {
			// Seek finds the first key at or after the cursor; the page
			// continues with the key before it.
			if k, _ = c.Seek(after); k == nil {
				k, _ = c.Last()
			}
			for k != nil && bytes.Compare(k, after) >= 0 {
				k, _ = c.Prev()
			}
		}
		for ; k != nil; k, _ = c.Prev() {
			if page.Limit > 0 && len(threads) == page.Limit {
				next = base64.RawURLEncoding.EncodeToString(threads[len(threads)-1].recentKey())
				break
			}
			id := k[8:]
			t, err := lister.thread(id, seekValue(all, id))
			if err != nil {
				// One unreadable record must not hide the others.
				threads = append(threads, Thread{ID: string(id), ResourceID: o.ResourceID, Metadata: json.RawMessage("{}"), Damaged: true})
				continue
			}
			// Most resources have no damaged marks, and then no bucket.
			t.DamagedMessages = damaged != nil && damaged.Get(id) != nil
			t.Model = threadModelIn(models, o, t.ID)
			threads = append(threads, t)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list threads of %s: %w", o.ResourceID, err)
	}
	return threads, next, nil
}

// seekValue returns the value of key in the bucket of c, or nil when the
// bucket has no such key or it names a nested bucket.
func seekValue(c *bbolt.Cursor, key []byte) []byte {
	k, v := c.Seek(key)
	if !bytes.Equal(k, key) {
		return nil
	}
	return v
}

// UpdateThread changes a thread's title, metadata or model.
func (s *Store) UpdateThread(ctx context.Context, o Owner, threadID string, u ThreadUpdate) (Thread, error) {
	if u.Model != nil {
		if err := checkModelName(*u.Model); err != nil {
			return Thread{}, err
		}
	}
	var t Thread
	err := s.update(func(tx *bbolt.Tx) error {
		rec, err := ownedThread(tx, o, threadID)
		if err != nil {
			return err
		}
		current := rec.thread(threadID, o.Key)
		if current.Damaged {
			return fmt.Errorf("thread %s is damaged and cannot be changed", threadID)
		}
		title, metadata := current.Title, current.Metadata
		if u.Title != nil {
			title = *u.Title
		}
		if u.Metadata != nil {
			metadata = u.Metadata
		}
		secrets, err := newThreadSecrets(title, metadata)
		if err != nil {
			return err
		}
		if rec.Sealed, err = sealThreadSecrets(o.Key, secrets, threadAD(o.ResourceID, threadID)); err != nil {
			return err
		}
		previous := rec.UpdatedAt
		rec.UpdatedAt = s.now().UTC()
		if err := putThread(tx, threadID, rec, previous); err != nil {
			return err
		}
		if u.Model != nil {
			if err := putThreadModel(tx, o, threadID, *u.Model); err != nil {
				return err
			}
		}
		t = rec.thread(threadID, o.Key)
		t.DamagedMessages = markedDamaged(tx, o.ResourceID, threadID)
		t.Model = threadModel(tx, o, threadID)
		return nil
	})
	if err != nil {
		return Thread{}, fmt.Errorf("update thread %s: %w", threadID, err)
	}
	return t, nil
}

// DeleteThread deletes a thread with its messages and its thread-scoped
// working memory, in one transaction.
func (s *Store) DeleteThread(ctx context.Context, o Owner, threadID string) error {
	err := s.lockedUpdate(o.ResourceID, func(tx *bbolt.Tx, forget *[]string) error {
		rec, err := ownedThread(tx, o, threadID)
		if err != nil {
			return err
		}
		owned := tx.Bucket(resourcesBucket).Bucket([]byte(o.ResourceID))
		if err := owned.Bucket(recentBucket).Delete(recentKey(rec.UpdatedAt, threadID)); err != nil {
			return err
		}
		if err := owned.Bucket(ownedBucket).Delete([]byte(threadID)); err != nil {
			return err
		}
		for _, name := range [][]byte{damagedThreads, threadModels} {
			if marks := owned.Bucket(name); marks != nil {
				if err := marks.Delete([]byte(threadID)); err != nil {
					return err
				}
			}
		}
		if err := unindexThreadRequests(tx, o.ResourceID, threadID); err != nil {
			return err
		}
		if err := unbindThreadChats(tx, o.ResourceID, threadID); err != nil {
			return err
		}
		if err := unindexThreadStreaming(tx, o.ResourceID, threadID); err != nil {
			return err
		}
		ids, err := threadMessageIDs(tx, threadID)
		if err != nil {
			return err
		}
		if err := deleteMessageVectors(tx, o.ResourceID, ids); err != nil {
			return err
		}
		for _, id := range ids {
			*forget = append(*forget, indexKey(threadID, id))
		}
		return deleteThreadData(tx, threadID)
	})
	if err != nil {
		return fmt.Errorf("delete thread %s: %w", threadID, err)
	}
	return nil
}

// ForkThread creates a new thread with copies of the messages of threadID up
// to and including messageID. The copies get new ids and no client request
// ids, because no client request created them. The new thread's title names
// the thread it came from, and it keeps the thread's model.
func (s *Store) ForkThread(ctx context.Context, o Owner, threadID, messageID string) (Thread, error) {
	if err := checkOwner(o); err != nil {
		return Thread{}, err
	}
	var fork Thread
	err := s.update(func(tx *bbolt.Tx) error {
		rec, err := ownedThread(tx, o, threadID)
		if err != nil {
			return err
		}
		source := rec.thread(threadID, o.Key)
		if source.Damaged {
			return fmt.Errorf("thread %s is damaged and cannot be forked", threadID)
		}
		msgs := tx.Bucket(messagesBucket).Bucket([]byte(threadID))
		ids := tx.Bucket(messageIDsBucket).Bucket([]byte(threadID))
		if msgs == nil || ids == nil || ids.Get([]byte(messageID)) == nil || !ValidID(messageID) {
			return ErrNotFound
		}
		last := slices.Clone(ids.Get([]byte(messageID)))

		forkID := NewID()
		now := s.now().UTC()
		title := forkTitle(source.Title)
		secrets, err := newThreadSecrets(title, source.Metadata)
		if err != nil {
			return err
		}
		forkRec := threadRecord{ResourceID: o.ResourceID, CreatedAt: now, UpdatedAt: now}
		if forkRec.Sealed, err = sealThreadSecrets(o.Key, secrets, threadAD(o.ResourceID, forkID)); err != nil {
			return err
		}

		c := msgs.Cursor()
		for k, v := c.First(); k != nil && bytes.Compare(k, last) <= 0; k, v = c.Next() {
			var mr messageRecord
			if err := json.Unmarshal(v, &mr); err != nil {
				return fmt.Errorf("decode message of thread %s: %w", threadID, err)
			}
			m := mr.message(o.ResourceID, threadID, o.Key)
			if m.Damaged {
				return fmt.Errorf("message %s of thread %s is damaged and cannot be copied", m.ID, threadID)
			}
			m.ID, m.ThreadID, m.ClientRequestID = NewID(), forkID, ""
			// A copy of a reply still being written is a stopped reply.
			m.Streaming = false
			if err := appendMessage(tx, o, &m, &forkRec); err != nil {
				return err
			}
		}
		if err := putThread(tx, forkID, &forkRec, time.Time{}); err != nil {
			return err
		}
		model := threadModel(tx, o, threadID)
		if err := putThreadModel(tx, o, forkID, model); err != nil {
			return err
		}
		fork = forkRec.thread(forkID, o.Key)
		fork.Model = model
		return nil
	})
	if err != nil {
		return Thread{}, fmt.Errorf("fork thread %s at %s: %w", threadID, messageID, err)
	}
	return fork, nil
}

// forkTitle names a fork after its source, within MaxTitleLength.
func forkTitle(source string) string {
	title := "Fork of " + source
	if r := []rune(title); len(r) > MaxTitleLength {
		title = string(r[:MaxTitleLength-1]) + "…"
	}
	return title
}

// recentKey returns the thread's key in its resource's recent index.
func (t Thread) recentKey() []byte {
	return recentKey(t.UpdatedAt, t.ID)
}

// newThreadSecrets checks a title and metadata and returns them ready to
// seal.
func newThreadSecrets(title string, metadata json.RawMessage) (threadSecrets, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		title = DefaultThreadTitle
	}
	if err := checkText("title", "title", title, MaxTitleLength); err != nil {
		return threadSecrets{}, err
	}
	if len(metadata) > 0 {
		if len(metadata) > MaxMetadataBytes {
			return threadSecrets{}, &InputError{Field: "metadata", Reason: fmt.Sprintf("The metadata is %d bytes of JSON; the limit is %d.", len(metadata), MaxMetadataBytes)}
		}
		var object map[string]json.RawMessage
		if err := json.Unmarshal(metadata, &object); err != nil || object == nil {
			return threadSecrets{}, &InputError{Field: "metadata", Reason: "The metadata must be a JSON object."}
		}
		metadata = slices.Clone(metadata)
	}
	return threadSecrets{Title: title, Metadata: metadata}, nil
}

// ownedThread returns the record of threadID if o owns it, and ErrNotFound
// otherwise, whether the thread is missing or someone else's.
func ownedThread(tx *bbolt.Tx, o Owner, threadID string) (*threadRecord, error) {
	if err := checkOwner(o); err != nil {
		return nil, err
	}
	if !ValidID(threadID) {
		return nil, ErrNotFound
	}
	v := tx.Bucket(threadsBucket).Get([]byte(threadID))
	if v == nil {
		return nil, ErrNotFound
	}
	rec, err := decodeThreadRecord(v, []byte(threadID))
	if err != nil {
		return nil, err
	}
	if rec.ResourceID != o.ResourceID {
		return nil, ErrNotFound
	}
	return rec, nil
}

// ownedThreadView returns the public form of threadID if o owns it, with its
// damaged mark.
func ownedThreadView(tx *bbolt.Tx, o Owner, threadID string) (Thread, error) {
	rec, err := ownedThread(tx, o, threadID)
	if err != nil {
		return Thread{}, err
	}
	t := rec.thread(threadID, o.Key)
	t.DamagedMessages = markedDamaged(tx, o.ResourceID, threadID)
	t.Model = threadModel(tx, o, threadID)
	return t, nil
}

// writableThread returns the record of a thread that o owns and whose
// sealed fields open with o's key, so that nothing is sealed under the
// wrong key into a thread its owner could then no longer read.
func writableThread(tx *bbolt.Tx, o Owner, threadID string) (*threadRecord, error) {
	rec, err := ownedThread(tx, o, threadID)
	if err != nil {
		return nil, err
	}
	if rec.thread(threadID, o.Key).Damaged {
		return nil, fmt.Errorf("thread %s does not open with this key, so nothing is written to it", threadID)
	}
	return rec, nil
}

// putThread writes a thread record and moves the thread in its resource's
// recent index from previous (zero for a new thread) to rec.UpdatedAt.
func putThread(tx *bbolt.Tx, id string, rec *threadRecord, previous time.Time) error {
	v, err := encodeThreadRecord(rec)
	if err != nil {
		return fmt.Errorf("encode thread %s: %w", id, err)
	}
	if err := tx.Bucket(threadsBucket).Put([]byte(id), v); err != nil {
		return err
	}

	owned, err := tx.Bucket(resourcesBucket).CreateBucketIfNotExists([]byte(rec.ResourceID))
	if err != nil {
		return err
	}
	threads, err := owned.CreateBucketIfNotExists(ownedBucket)
	if err != nil {
		return err
	}
	recent, err := owned.CreateBucketIfNotExists(recentBucket)
	if err != nil {
		return err
	}
	if !previous.IsZero() && !previous.Equal(rec.UpdatedAt) {
		if err := recent.Delete(recentKey(previous, id)); err != nil {
			return err
		}
	}
	if err := recent.Put(recentKey(rec.UpdatedAt, id), nil); err != nil {
		return err
	}
	return threads.Put([]byte(id), binary.BigEndian.AppendUint64(nil, uint64(rec.UpdatedAt.UnixNano())))
}

// deleteThreadData removes a thread's record, messages, indexes and
// thread-scoped working memory. The caller removes it from its resource's
// indexes.
func deleteThreadData(tx *bbolt.Tx, threadID string) error {
	for _, name := range [][]byte{messagesBucket, messageIDsBucket, requestsBucket} {
		b := tx.Bucket(name)
		if b.Bucket([]byte(threadID)) == nil {
			continue
		}
		if err := b.DeleteBucket([]byte(threadID)); err != nil {
			return err
		}
	}
	if err := deleteWorkingMemory(tx, threadScopeKey(threadID)); err != nil {
		return err
	}
	return tx.Bucket(threadsBucket).Delete([]byte(threadID))
}

// threadModels is the sub-bucket of a resource's bucket that holds the model
// chosen for each thread: thread id → model name, sealed with threadModelAD.
// A thread without a chosen model has no entry, so threads stored before
// models could be chosen need no migration.
var threadModels = []byte("models")

func threadModelAD(resourceID, threadID string) []byte {
	return []byte("hearth/memory/thread-model/" + resourceID + "/" + threadID)
}

// checkModelName rejects a model name that no backend could know: one
// longer than maxModelBytes, or with white space or control characters.
// An empty name is accepted; it means the owner's default model.
func checkModelName(model string) error {
	if len(model) > maxModelBytes {
		return &InputError{Field: "model", Reason: fmt.Sprintf("The model name is %d bytes long; use at most %d.", len(model), maxModelBytes)}
	}
	if err := checkText("model", "model name", model, maxModelBytes); err != nil {
		return err
	}
	if strings.ContainsFunc(model, unicode.IsSpace) {
		return &InputError{Field: "model", Reason: fmt.Sprintf("The model name %q contains white space; model names have none, such as llama3.2:3b.", model)}
	}
	return nil
}

// threadModel returns the model chosen for threadID, which o owns, or ""
// when none is chosen.
func threadModel(tx *bbolt.Tx, o Owner, threadID string) string {
	owned := tx.Bucket(resourcesBucket).Bucket([]byte(o.ResourceID))
	if owned == nil {
		return ""
	}
	return threadModelIn(owned.Bucket(threadModels), o, threadID)
}

// threadModelIn is threadModel for a resource's models bucket, which may be
// nil. An entry that does not open counts as no choice: the thread then
// uses the default model, and choosing a model again replaces the entry.
func threadModelIn(models *bbolt.Bucket, o Owner, threadID string) string {
	if models == nil {
		return ""
	}
	sealed := models.Get([]byte(threadID))
	if sealed == nil {
		return ""
	}
	plain, err := o.Key.Open(sealed, threadModelAD(o.ResourceID, threadID))
	if err != nil {
		return ""
	}
	return string(plain)
}

// putThreadModel stores model as the choice for threadID, or removes the
// choice when model is empty.
func putThreadModel(tx *bbolt.Tx, o Owner, threadID, model string) error {
	owned, err := resourceBucket(tx, o.ResourceID)
	if err != nil {
		return err
	}
	if model == "" {
		if models := owned.Bucket(threadModels); models != nil {
			return models.Delete([]byte(threadID))
		}
		return nil
	}
	models, err := owned.CreateBucketIfNotExists(threadModels)
	if err != nil {
		return err
	}
	return models.Put([]byte(threadID), o.Key.Seal([]byte(model), threadModelAD(o.ResourceID, threadID)))
}
