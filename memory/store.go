package memory

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"go.etcd.io/bbolt"
)

// schemaVersion is the layout version this code reads and writes.
const schemaVersion = 1

var (
	metaBucket       = []byte("meta")
	threadsBucket    = []byte("threads")
	resourcesBucket  = []byte("resources")
	messagesBucket   = []byte("messages")
	messageIDsBucket = []byte("message_ids")

	schemaKey = []byte("schema")
)

// Limits on thread fields.
const (
	MaxTitleLength    = 200  // characters
	MaxMetadataBytes  = 8192 // bytes of JSON
	MaxLastMessages   = 1000 // messages returned by one LastMessages call
	maxResourceIDSize = 256
)

// threadRecord is a thread as stored in bbolt.
type threadRecord struct {
	ResourceID   string          `json:"resourceId"`
	Title        string          `json:"title"`
	CreatedAt    time.Time       `json:"createdAt"`
	UpdatedAt    time.Time       `json:"updatedAt"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
	MessageCount int             `json:"messageCount"`
}

// Store keeps threads and messages in a bbolt database. It is safe for
// concurrent use.
type Store struct {
	db  *bbolt.DB
	now func() time.Time
}

// Open prepares the memory buckets in db, checks the schema version, and
// returns a Store that uses them. The caller keeps ownership of db.
func Open(db *bbolt.DB) (*Store, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{metaBucket, threadsBucket, resourcesBucket, messagesBucket, messageIDsBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}

		meta := tx.Bucket(metaBucket)
		if v := meta.Get(schemaKey); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("schema version has %d bytes, want 8", len(v))
			}
			if found := binary.BigEndian.Uint64(v); found > schemaVersion {
				return fmt.Errorf("%w: schema %d, this version reads up to %d", ErrNewerSchema, found, schemaVersion)
			}
			return nil
		}
		return meta.Put(schemaKey, binary.BigEndian.AppendUint64(nil, schemaVersion))
	})
	if err != nil {
		return nil, fmt.Errorf("open memory store: %w", err)
	}
	return &Store{db: db, now: time.Now}, nil
}

// ValidID reports whether id has the form of a thread or message id, so that
// callers can reject malformed ids before any lookup.
func ValidID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && len(id) == 36 && u.Version() == 7 && strings.ToLower(id) == id
}

// CreateThread creates an empty thread owned by resourceID. An empty title
// becomes DefaultThreadTitle.
func (s *Store) CreateThread(ctx context.Context, resourceID, title string) (Thread, error) {
	if err := checkResourceID(resourceID); err != nil {
		return Thread{}, err
	}
	title = strings.TrimSpace(title)
	if title == "" {
		title = DefaultThreadTitle
	}
	if err := checkTitle(title); err != nil {
		return Thread{}, err
	}

	id := NewID()
	now := s.now().UTC()
	rec := threadRecord{ResourceID: resourceID, Title: title, CreatedAt: now, UpdatedAt: now}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		owned, err := tx.Bucket(resourcesBucket).CreateBucketIfNotExists([]byte(resourceID))
		if err != nil {
			return err
		}
		if err := owned.Put([]byte(id), nil); err != nil {
			return err
		}
		return putThread(tx, id, &rec)
	})
	if err != nil {
		return Thread{}, fmt.Errorf("create thread: %w", err)
	}
	return rec.thread(id), nil
}

// Thread returns the thread with the given id if resourceID owns it.
func (s *Store) Thread(ctx context.Context, resourceID, threadID string) (Thread, error) {
	var t Thread
	err := s.db.View(func(tx *bbolt.Tx) error {
		rec, err := ownedThread(tx, resourceID, threadID)
		if err != nil {
			return err
		}
		t = rec.thread(threadID)
		return nil
	})
	if err != nil {
		return Thread{}, fmt.Errorf("get thread %s: %w", threadID, err)
	}
	return t, nil
}

// Threads returns the threads owned by resourceID, most recently updated
// first.
func (s *Store) Threads(ctx context.Context, resourceID string) ([]Thread, error) {
	threads := []Thread{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		owned := tx.Bucket(resourcesBucket).Bucket([]byte(resourceID))
		if owned == nil {
			return nil
		}
		all := tx.Bucket(threadsBucket)
		return owned.ForEach(func(k, _ []byte) error {
			rec, err := decodeThread(all.Get(k), k)
			if err != nil {
				return err
			}
			threads = append(threads, rec.thread(string(k)))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list threads of %s: %w", resourceID, err)
	}
	// TODO: keep an index ordered by update time so that listing does not
	// read and sort every thread of the resource.
	slices.SortStableFunc(threads, func(a, b Thread) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return threads, nil
}

// DeleteResource erases every thread of resourceID with its messages, in one
// transaction. Deleting a resource that has no threads is not an error.
func (s *Store) DeleteResource(ctx context.Context, resourceID string) error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		resources := tx.Bucket(resourcesBucket)
		owned := resources.Bucket([]byte(resourceID))
		if owned == nil {
			return nil
		}
		var threadIDs [][]byte
		if err := owned.ForEach(func(k, _ []byte) error {
			threadIDs = append(threadIDs, slices.Clone(k))
			return nil
		}); err != nil {
			return err
		}
		for _, id := range threadIDs {
			if err := deleteThread(tx, id); err != nil {
				return err
			}
		}
		return resources.DeleteBucket([]byte(resourceID))
	})
	if err != nil {
		return fmt.Errorf("delete resource %s: %w", resourceID, err)
	}
	return nil
}

// AppendMessage adds m to the end of thread m.ThreadID if resourceID owns
// it, and returns the message as stored, with its creation time. An empty ID
// gets a new one from NewID; a caller that needs the id before the message
// exists may set one from NewID itself. An empty Status is stored as
// StatusComplete.
func (s *Store) AppendMessage(ctx context.Context, resourceID string, m Message) (Message, error) {
	if err := checkMessage(&m); err != nil {
		return Message{}, err
	}
	if m.ID == "" {
		m.ID = NewID()
	} else if !ValidID(m.ID) {
		return Message{}, fmt.Errorf("append message: invalid message id %q", m.ID)
	}
	m.CreatedAt = s.now().UTC()

	err := s.db.Update(func(tx *bbolt.Tx) error {
		rec, err := ownedThread(tx, resourceID, m.ThreadID)
		if err != nil {
			return err
		}

		msgs, err := tx.Bucket(messagesBucket).CreateBucketIfNotExists([]byte(m.ThreadID))
		if err != nil {
			return err
		}
		ids, err := tx.Bucket(messageIDsBucket).CreateBucketIfNotExists([]byte(m.ThreadID))
		if err != nil {
			return err
		}
		seq, err := msgs.NextSequence()
		if err != nil {
			return err
		}
		key := binary.BigEndian.AppendUint64(nil, seq)
		if err := putMessage(msgs, key, &m); err != nil {
			return err
		}
		if ids.Get([]byte(m.ID)) != nil {
			return fmt.Errorf("message id %s already exists", m.ID)
		}
		if err := ids.Put([]byte(m.ID), key); err != nil {
			return err
		}

		rec.MessageCount++
		rec.UpdatedAt = m.CreatedAt
		return putThread(tx, m.ThreadID, rec)
	})
	if err != nil {
		return Message{}, fmt.Errorf("append message to thread %s: %w", m.ThreadID, err)
	}
	return m, nil
}

// UpdateMessage replaces the content, status, error and token counts of the
// stored message m.ID in thread m.ThreadID, if resourceID owns the thread.
// It is how a reply written while it streams is completed in place.
func (s *Store) UpdateMessage(ctx context.Context, resourceID string, m Message) (Message, error) {
	if err := checkMessage(&m); err != nil {
		return Message{}, err
	}
	var stored Message
	err := s.db.Update(func(tx *bbolt.Tx) error {
		rec, err := ownedThread(tx, resourceID, m.ThreadID)
		if err != nil {
			return err
		}
		msgs := tx.Bucket(messagesBucket).Bucket([]byte(m.ThreadID))
		ids := tx.Bucket(messageIDsBucket).Bucket([]byte(m.ThreadID))
		if msgs == nil || ids == nil {
			return ErrNotFound
		}
		key := ids.Get([]byte(m.ID))
		if key == nil {
			return ErrNotFound
		}
		key = slices.Clone(key)
		if err := decodeMessage(msgs.Get(key), &stored); err != nil {
			return err
		}

		stored.Content = m.Content
		stored.Status = m.Status
		stored.Error = m.Error
		stored.PromptTokens = m.PromptTokens
		stored.ReplyTokens = m.ReplyTokens
		if err := putMessage(msgs, key, &stored); err != nil {
			return err
		}

		rec.UpdatedAt = s.now().UTC()
		return putThread(tx, m.ThreadID, rec)
	})
	if err != nil {
		return Message{}, fmt.Errorf("update message %s: %w", m.ID, err)
	}
	return stored, nil
}

// LastMessages returns up to n of the newest messages of a thread owned by
// resourceID, oldest first.
func (s *Store) LastMessages(ctx context.Context, resourceID, threadID string, n int) ([]Message, error) {
	n = min(max(n, 0), MaxLastMessages)
	messages := []Message{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		if _, err := ownedThread(tx, resourceID, threadID); err != nil {
			return err
		}
		msgs := tx.Bucket(messagesBucket).Bucket([]byte(threadID))
		if msgs == nil {
			return nil
		}
		c := msgs.Cursor()
		for k, v := c.Last(); k != nil && len(messages) < n; k, v = c.Prev() {
			var m Message
			if err := decodeMessage(v, &m); err != nil {
				return err
			}
			messages = append(messages, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("last messages of thread %s: %w", threadID, err)
	}
	slices.Reverse(messages)
	return messages, nil
}

// deleteThread removes a thread's record and its message buckets.
func deleteThread(tx *bbolt.Tx, threadID []byte) error {
	for _, name := range [][]byte{messagesBucket, messageIDsBucket} {
		b := tx.Bucket(name)
		if b.Bucket(threadID) == nil {
			continue
		}
		if err := b.DeleteBucket(threadID); err != nil {
			return err
		}
	}
	return tx.Bucket(threadsBucket).Delete(threadID)
}

// ownedThread returns the record of threadID if resourceID owns it, and
// ErrNotFound otherwise, whether the thread is missing or someone else's.
func ownedThread(tx *bbolt.Tx, resourceID, threadID string) (*threadRecord, error) {
	if resourceID == "" || !ValidID(threadID) {
		return nil, ErrNotFound
	}
	v := tx.Bucket(threadsBucket).Get([]byte(threadID))
	if v == nil {
		return nil, ErrNotFound
	}
	rec, err := decodeThread(v, []byte(threadID))
	if err != nil {
		return nil, err
	}
	if rec.ResourceID != resourceID {
		return nil, ErrNotFound
	}
	return rec, nil
}

func decodeThread(v, id []byte) (*threadRecord, error) {
	var rec threadRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode thread %s: %w", id, err)
	}
	return &rec, nil
}

func putThread(tx *bbolt.Tx, id string, rec *threadRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode thread %s: %w", id, err)
	}
	return tx.Bucket(threadsBucket).Put([]byte(id), v)
}

func (r *threadRecord) thread(id string) Thread {
	metadata := r.Metadata
	if len(metadata) == 0 {
		metadata = json.RawMessage("{}")
	}
	return Thread{
		ID: id, ResourceID: r.ResourceID, Title: r.Title, CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt, Metadata: slices.Clone(metadata), MessageCount: r.MessageCount,
	}
}

func decodeMessage(v []byte, m *Message) error {
	if err := json.Unmarshal(v, m); err != nil {
		return fmt.Errorf("decode message: %w", err)
	}
	return nil
}

func putMessage(msgs *bbolt.Bucket, key []byte, m *Message) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode message %s: %w", m.ID, err)
	}
	return msgs.Put(key, v)
}

// checkMessage validates the fields a caller sets and fills in defaults.
func checkMessage(m *Message) error {
	switch m.Role {
	case RoleUser, RoleAssistant, RoleSystem, RoleTool:
	default:
		return fmt.Errorf("invalid message role %q", m.Role)
	}
	switch m.Status {
	case "":
		m.Status = StatusComplete
	case StatusComplete, StatusIncomplete, StatusError:
	default:
		return fmt.Errorf("invalid message status %q", m.Status)
	}
	if len(m.Content) > MaxContentBytes {
		return &InputError{Field: "message", Reason: fmt.Sprintf("The message is %d bytes long; the limit is %d bytes. Split it into shorter messages.", len(m.Content), MaxContentBytes)}
	}
	if !utf8.ValidString(m.Content) {
		return &InputError{Field: "message", Reason: "The message is not valid UTF-8 text."}
	}
	return nil
}

func checkResourceID(resourceID string) error {
	if resourceID == "" || len(resourceID) > maxResourceIDSize {
		return fmt.Errorf("invalid resource id %q", resourceID)
	}
	return nil
}

func checkTitle(title string) error {
	if !utf8.ValidString(title) {
		return &InputError{Field: "title", Reason: "The title is not valid UTF-8 text."}
	}
	if n := utf8.RuneCountInString(title); n > MaxTitleLength {
		return &InputError{Field: "title", Reason: fmt.Sprintf("The title has %d characters; use at most %d.", n, MaxTitleLength)}
	}
	for _, r := range title {
		joiner := r == '\u200c' || r == '\u200d'
		if unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) || (unicode.Is(unicode.Cf, r) && !joiner) {
			return &InputError{Field: "title", Reason: fmt.Sprintf("The title contains the control or formatting character U+%04X, such as a line break; remove it.", r)}
		}
	}
	return nil
}

// NewID returns a new thread or message id: a time-ordered UUIDv7 in its
// canonical lowercase form.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}
