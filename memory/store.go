package memory

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"go.etcd.io/bbolt"

	"hearth/seal"
)

// schemaVersion is the layout version this code reads and writes. Version 1,
// used before records were sealed, is not migrated: no release wrote it.
// Version 3 added each resource's index of client request ids. The
// streaming index and the message fields Streaming, OmittedMessages,
// OmittedRecalled and Versions came later without a new version, because a
// file without them reads as messages that have none and Open creates the
// empty index.
const schemaVersion = 3

var (
	metaBucket       = []byte("meta")
	threadsBucket    = []byte("threads")
	resourcesBucket  = []byte("resources")
	messagesBucket   = []byte("messages")
	messageIDsBucket = []byte("message_ids")
	requestsBucket   = []byte("client_requests")
	workingBucket    = []byte("working_memory")
	// vectorsBucket is declared in vectors.go, streamingBucket in
	// streaming.go.

	// Sub-buckets of a resource's bucket.
	ownedBucket    = []byte("threads")  // thread id → update time (recentKey prefix)
	recentBucket   = []byte("recent")   // recentKey → empty
	requestsIndex  = []byte("requests") // client request id → thread id
	damagedThreads = []byte("damaged")  // thread id → time a damaged message was found

	schemaKey = []byte("schema")
)

// migrations upgrade a data file from the version of their index to the
// next one, inside the transaction that opens the store.
var migrations = map[uint64]func(tx *bbolt.Tx) error{
	2: indexClientRequests,
}

// Limits on caller input.
const (
	MaxTitleLength    = 200  // characters
	MaxMetadataBytes  = 8192 // bytes of JSON
	MaxLastMessages   = 1000 // messages returned by one call
	maxResourceIDSize = 256
)

// Owner is the resource an operation acts for, with the data key that seals
// and opens its records. The key comes from the signed-in profile; the
// store never keeps it.
type Owner struct {
	ResourceID string
	Key        *seal.Key
}

// Store keeps threads, messages and working memory in a bbolt database. It is
// safe for concurrent use. Writes from concurrent callers are grouped into
// shared commits with bbolt's Batch.
type Store struct {
	db  *bbolt.DB
	now func() time.Time
	// recall, when set by NewRecall, receives the deleted messages so
	// that its loaded indexes drop them.
	recall *Recall
}

// Open prepares the memory buckets in db, checks the schema version and runs
// any migrations in the same transaction, and returns a Store that uses
// them. The caller keeps ownership of db.
func Open(db *bbolt.DB) (*Store, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{metaBucket, threadsBucket, resourcesBucket, messagesBucket, messageIDsBucket, requestsBucket, workingBucket, vectorsBucket, streamingBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return migrate(tx)
	})
	if err != nil {
		return nil, fmt.Errorf("open memory store: %w", err)
	}
	return &Store{db: db, now: time.Now}, nil
}

// migrate brings the data file to schemaVersion.
func migrate(tx *bbolt.Tx) error {
	meta := tx.Bucket(metaBucket)
	v := meta.Get(schemaKey)
	if v == nil {
		// A new file, or one that has only profiles so far.
		if tx.Bucket(threadsBucket).Stats().KeyN > 0 {
			return fmt.Errorf("%w: threads without a schema version", ErrOldSchema)
		}
		return meta.Put(schemaKey, binary.BigEndian.AppendUint64(nil, schemaVersion))
	}
	if len(v) != 8 {
		return fmt.Errorf("schema version has %d bytes, want 8", len(v))
	}
	found := binary.BigEndian.Uint64(v)
	if found > schemaVersion {
		return fmt.Errorf("%w: schema %d, this version reads up to %d", ErrNewerSchema, found, schemaVersion)
	}
	for ; found < schemaVersion; found++ {
		step, ok := migrations[found]
		if !ok {
			return fmt.Errorf("%w: schema %d", ErrOldSchema, found)
		}
		if err := step(tx); err != nil {
			return fmt.Errorf("migrate schema %d to %d: %w", found, found+1, err)
		}
	}
	return meta.Put(schemaKey, binary.BigEndian.AppendUint64(nil, schemaVersion))
}

// ValidID reports whether id has the form of a thread or message id, so that
// callers can reject malformed ids before any lookup.
func ValidID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && len(id) == 36 && u.Version() == 7 && strings.ToLower(id) == id
}

// NewID returns a new thread or message id: a time-ordered UUIDv7 in its
// canonical lowercase form.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// DeleteResource erases every thread of resourceID with its messages,
// working memory and recall vectors, in one transaction, and drops its
// loaded recall index. It needs no key: it is how a deleted
// profile's data is erased. Deleting a resource that has no data is not an
// error.
func (s *Store) DeleteResource(ctx context.Context, resourceID string) error {
	if s.recall != nil {
		l := s.recall.writeLock(resourceID)
		l.Lock()
		defer l.Unlock()
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(vectorsBucket).Bucket([]byte(resourceID)) != nil {
			if err := tx.Bucket(vectorsBucket).DeleteBucket([]byte(resourceID)); err != nil {
				return err
			}
		}
		resources := tx.Bucket(resourcesBucket)
		if owned := resources.Bucket([]byte(resourceID)); owned != nil {
			var threadIDs [][]byte
			err := owned.Bucket(ownedBucket).ForEach(func(k, _ []byte) error {
				threadIDs = append(threadIDs, slices.Clone(k))
				return nil
			})
			if err != nil {
				return err
			}
			for _, id := range threadIDs {
				if err := deleteThreadData(tx, string(id)); err != nil {
					return err
				}
			}
			if err := resources.DeleteBucket([]byte(resourceID)); err != nil {
				return err
			}
		}
		if err := unindexResourceStreaming(tx, resourceID); err != nil {
			return err
		}
		return deleteWorkingMemory(tx, resourceScopeKey(resourceID))
	})
	if err != nil {
		return fmt.Errorf("delete resource %s: %w", resourceID, err)
	}
	if s.recall != nil {
		s.recall.dropLocked(resourceID)
	}
	return nil
}

// update runs fn in a write transaction shared with concurrent writers.
// bbolt may run fn again after a rollback, so fn must only change state
// inside the transaction.
func (s *Store) update(fn func(tx *bbolt.Tx) error) error {
	return s.db.Batch(fn)
}

// checkOwner rejects an Owner that cannot seal or open anything.
func checkOwner(o Owner) error {
	if o.ResourceID == "" || len(o.ResourceID) > maxResourceIDSize {
		return fmt.Errorf("invalid resource id %q", o.ResourceID)
	}
	if o.Key == nil {
		return fmt.Errorf("no data key for resource %s", o.ResourceID)
	}
	return nil
}

// checkText rejects text that is not valid UTF-8 or that holds control or
// invisible formatting characters, for short fields such as titles.
func checkText(field, label, text string, maxLength int) error {
	if !utf8.ValidString(text) {
		return &InputError{Field: field, Reason: fmt.Sprintf("The %s is not valid UTF-8 text.", label)}
	}
	if n := utf8.RuneCountInString(text); n > maxLength {
		return &InputError{Field: field, Reason: fmt.Sprintf("The %s has %d characters; use at most %d.", label, n, maxLength)}
	}
	for _, r := range text {
		joiner := r == '\u200c' || r == '\u200d'
		if unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) || (unicode.Is(unicode.Cf, r) && !joiner) {
			return &InputError{Field: field, Reason: fmt.Sprintf("The %s contains the control or formatting character U+%04X, such as a line break; remove it.", label, r)}
		}
	}
	return nil
}
