package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"go.etcd.io/bbolt"
)

// MaxSettingsBytes is the largest settings document a resource can store.
const MaxSettingsBytes = 256 << 10

// settingsKey is the key of a resource's settings in its bucket under
// resources, next to the sub-buckets. The value is the settings JSON,
// sealed with settingsAD, so DeleteResource erases it with the bucket.
var settingsKey = []byte("settings")

func settingsAD(resourceID string) []byte {
	return []byte("hearth/memory/settings/" + resourceID)
}

// Settings returns the settings document o stored with PutSettings, or nil
// when o never stored one. The document is the caller's JSON: the store
// only seals it.
func (s *Store) Settings(ctx context.Context, o Owner) (json.RawMessage, error) {
	if err := checkOwner(o); err != nil {
		return nil, err
	}
	var raw json.RawMessage
	err := s.db.View(func(tx *bbolt.Tx) error {
		owned := tx.Bucket(resourcesBucket).Bucket([]byte(o.ResourceID))
		if owned == nil {
			return nil
		}
		sealed := owned.Get(settingsKey)
		if sealed == nil {
			return nil
		}
		plain, err := o.Key.Open(sealed, settingsAD(o.ResourceID))
		if err != nil {
			return fmt.Errorf("the stored settings do not open with this key: %w", err)
		}
		raw = plain
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get settings of %s: %w", o.ResourceID, err)
	}
	return raw, nil
}

// PutSettings replaces o's settings document with raw, which must be a JSON
// object of at most MaxSettingsBytes.
func (s *Store) PutSettings(ctx context.Context, o Owner, raw json.RawMessage) error {
	if err := checkOwner(o); err != nil {
		return err
	}
	if len(raw) > MaxSettingsBytes {
		return &InputError{Field: "settings", Reason: fmt.Sprintf("The settings are %d bytes of JSON; the limit is %d.", len(raw), MaxSettingsBytes)}
	}
	var object map[string]json.RawMessage
	if !utf8.Valid(raw) || json.Unmarshal(raw, &object) != nil || object == nil {
		return &InputError{Field: "settings", Reason: "The settings must be a JSON object."}
	}
	sealed := o.Key.Seal(raw, settingsAD(o.ResourceID))

	err := s.update(func(tx *bbolt.Tx) error {
		owned, err := resourceBucket(tx, o.ResourceID)
		if err != nil {
			return err
		}
		return owned.Put(settingsKey, sealed)
	})
	if err != nil {
		return fmt.Errorf("put settings of %s: %w", o.ResourceID, err)
	}
	return nil
}

// resourceBucket returns the bucket of resourceID under resources, created
// with the sub-buckets that listing and deleting a resource expect.
func resourceBucket(tx *bbolt.Tx, resourceID string) (*bbolt.Bucket, error) {
	owned, err := tx.Bucket(resourcesBucket).CreateBucketIfNotExists([]byte(resourceID))
	if err != nil {
		return nil, err
	}
	for _, name := range [][]byte{ownedBucket, recentBucket} {
		if _, err := owned.CreateBucketIfNotExists(name); err != nil {
			return nil, err
		}
	}
	return owned, nil
}
