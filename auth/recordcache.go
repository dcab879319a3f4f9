package auth

import (
	"bytes"
	"sync"

	"go.etcd.io/bbolt"
)

// recordCache holds decoded profile records whose MAC has been checked, each
// with the stored bytes it was decoded from. Verify uses it to skip the JSON
// decoding and the HMAC of a record that has not changed since the last
// request. A lookup still reads the record from bbolt and compares the
// bytes, so a deleted profile, a raised token version or a new signing key
// takes effect at once. The MAC key does not change while a Store is open,
// so equal bytes have the MAC result they had before. It is safe for
// concurrent use.
type recordCache struct {
	mu      sync.Mutex
	records map[string]cachedRecord // profile id → last record seen
}

type cachedRecord struct {
	stored []byte
	// rec is shared by every caller, which must not modify it.
	rec *profileRecord
}

func newRecordCache() *recordCache {
	return &recordCache{records: make(map[string]cachedRecord)}
}

// getProfile returns the record stored under id in profiles, checked as
// Store.getProfile checks it. It decodes the record only when the stored
// bytes differ from the cached ones. The caller must not modify the result.
func (c *recordCache) getProfile(s *Store, profiles *bbolt.Bucket, id string) (*profileRecord, error) {
	v := profiles.Get([]byte(id))
	if v == nil {
		c.forget(id)
		return nil, ErrNotFound
	}

	c.mu.Lock()
	cached, ok := c.records[id]
	c.mu.Unlock()
	if ok && bytes.Equal(cached.stored, v) {
		return cached.rec, nil
	}

	rec, err := s.decodeProfile(id, v)
	if err != nil {
		c.forget(id)
		return nil, err
	}
	// bbolt's bytes are valid only until the transaction ends.
	stored := bytes.Clone(v)
	c.mu.Lock()
	c.records[id] = cachedRecord{stored: stored, rec: rec}
	c.mu.Unlock()
	return rec, nil
}

// forget drops the record of id.
func (c *recordCache) forget(id string) {
	c.mu.Lock()
	delete(c.records, id)
	c.mu.Unlock()
}
