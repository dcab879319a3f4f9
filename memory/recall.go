package memory

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"hearth/memory/embed"
	"hearth/memory/vector"
	"hearth/seal"
)

// Embedder turns texts into vectors of unit length. The embedders of package
// embed implement it.
type Embedder interface {
	// Embed returns one vector per text, in order.
	Embed(ctx context.Context, texts []string) ([]embed.Vector, error)
	// ID names the vector space: vectors are comparable only when their
	// embedders have the same ID.
	ID() string
	// Dim returns the vector length, or 0 while it is not known yet.
	Dim() int
}

// EmbedderFactory builds an embedder from the settings a caller stored with
// SetEmbedder or gave as RecallConfig.DefaultEmbedder.
type EmbedderFactory func(spec json.RawMessage) (Embedder, error)

// Defaults of RecallConfig.
const (
	DefaultEmbedBatch    = 32
	DefaultSnapshotDelay = 30 * time.Second
	defaultRetryFirst    = 2 * time.Second
	defaultRetryMax      = 5 * time.Minute

	// maxEmbedBytes is the most of a message's text that is embedded. Local
	// embedding models take a few thousand tokens; the start of a long
	// message usually names its subject.
	maxEmbedBytes = 8192
)

// RecallConfig configures semantic recall.
type RecallConfig struct {
	// Embedders builds embedders from their settings. Required.
	Embedders EmbedderFactory
	// DefaultEmbedder is the settings of the embedder a resource uses
	// until SetEmbedder chooses another. Required.
	DefaultEmbedder json.RawMessage
	// Logger receives a warning when embedding or saving an index fails.
	// Records never hold message text. nil means slog.Default().
	Logger *slog.Logger
	// EmbedBatch is how many messages are embedded per call. 0 means
	// DefaultEmbedBatch.
	EmbedBatch int
	// SnapshotDelay is how long after a change the index is saved, so that
	// the next unlock loads it instead of building it. 0 means
	// DefaultSnapshotDelay.
	SnapshotDelay time.Duration
	// RetryFirst and RetryMax bound the wait before embedding is tried
	// again after a failure; it doubles from RetryFirst up to RetryMax.
	// 0 means 2 s and 5 min.
	RetryFirst, RetryMax time.Duration
	// IndexOptions configures the vector index of each space.
	IndexOptions vector.Options
	// StillUnlocked, when set, reports whether a resource is still
	// unlocked. The worker checks it before loading, so that a request
	// that raced a lock cannot leave an index and a key in memory for a
	// locked resource.
	StillUnlocked func(resourceID string) bool
	// AfterWork, when set, is called each time a worker ends a round of
	// work: embedding new messages, or saving an index and checking for
	// new messages. Both read and write the data file outside any request.
	AfterWork func()
}

// Recall finds earlier messages similar to a text, for the assistant's
// prompt. Each resource has its own vector index, held in memory only while
// the resource is unlocked (between Unlock and Lock). It is built from the
// vectors stored sealed in bbolt, and saved there as a sealed snapshot so
// that the next unlock does not rebuild it.
//
// Messages are embedded in the background, after they are stored: Enqueue
// names a thread with new messages, and a worker per unlocked resource
// embeds every message of it that has no vector yet. A failure is logged
// and retried later with backoff; it never reaches the chat.
//
// Deleting a message, a thread or a resource through the Store removes the
// vectors from bbolt and from the loaded index under the same lock that
// the worker holds while it stores a vector, so a message deleted while it
// was being embedded does not come back.
type Recall struct {
	store *Store
	cfg   RecallConfig
	log   *slog.Logger

	mu        sync.Mutex
	resources map[string]*recallResource
	locks     map[string]*sync.Mutex // write lock of each resource
	erased    map[string]bool        // resources whose data was erased
	closed    bool
}

// recallResource is the recall state of one unlocked resource.
type recallResource struct {
	r     *Recall
	owner Owner // with a copy of the data key, wiped by Lock

	// write is held while vectors are written to or deleted from bbolt
	// and the index, so that the two stay the same.
	write *sync.Mutex
	// dropped is set, under write, once the resource's data is erased;
	// nothing may be written for it after that.
	dropped bool

	ready   chan struct{} // closed when the spaces are loaded
	loadErr error         // set before ready is closed

	// The fields below are guarded by write once ready is closed.
	current  *recallSpace
	previous *recallSpace // serves searches while current is filled

	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{} // closed when the worker ends

	view atomic.Pointer[searchView]

	statusMu sync.Mutex
	status   RecallStatus
	threads  map[string]bool // threads to look at for new messages
	fullScan bool            // look at every thread
	busy     bool            // the worker is embedding
}

// recallSpace is one embedding space of a resource, loaded.
type recallSpace struct {
	name     string
	info     spaceInfo
	embedder Embedder
	index    *vector.Index // nil until the dimension is known
	changed  time.Time     // first change not in the saved snapshot; zero if none
	changes  uint64        // count of changes, to tell whether a save missed one
}

// markChanged records a change of sp's index. The caller holds the write
// lock.
func (sp *recallSpace) markChanged() {
	if sp.changed.IsZero() {
		sp.changed = time.Now()
	}
	sp.changes++
}

// searchView is what a search needs of the space that serves searches,
// replaced as a whole under the write lock, so that searches never wait
// for that lock, which a snapshot save may hold for seconds.
type searchView struct {
	index    *vector.Index
	embedder Embedder
	// During a change of embedder, fallback is the space being filled,
	// searched when the old embedder cannot embed the query, such as when
	// its server is down, which is often why the embedder was changed.
	fallback *searchView
}

// RecallStatus reports the progress of a resource's semantic recall.
type RecallStatus struct {
	// State is "locked", "loading", "ready" or "failed".
	State string `json:"state"`
	// Embedder is the id of the embedder new messages are embedded with.
	Embedder string `json:"embedder,omitempty"`
	// Dimension is the length of its vectors, 0 until known.
	Dimension int `json:"dimension"`
	// Vectors is the number of messages recall can find.
	Vectors int `json:"vectors"`
	// Pending is the number of messages waiting to be embedded.
	Pending int `json:"pending"`
	// Reembedding is set while the messages are embedded again after a
	// change of embedder.
	Reembedding *Reembedding `json:"reembedding,omitempty"`
	// LastError is the reason embedding last failed, if it has not
	// succeeded since. Embedding is retried.
	LastError string `json:"lastError,omitempty"`
}

// Reembedding is the progress of embedding a resource's messages again.
type Reembedding struct {
	// From is the embedder whose vectors serve searches until Done
	// reaches Total.
	From  string `json:"from"`
	To    string `json:"to"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// ErrRecallLocked is returned when a resource's recall is used before
// Unlock or after Lock.
var ErrRecallLocked = errors.New("recall is not unlocked for this profile")

// NewRecall returns semantic recall over the messages of store. The store
// then keeps loaded indexes in step with its deletions.
func NewRecall(store *Store, cfg RecallConfig) (*Recall, error) {
	if cfg.Embedders == nil || len(cfg.DefaultEmbedder) == 0 {
		return nil, errors.New("new recall: an embedder factory and default embedder settings are required")
	}
	if _, err := cfg.Embedders(cfg.DefaultEmbedder); err != nil {
		return nil, fmt.Errorf("new recall: default embedder: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.EmbedBatch <= 0 {
		cfg.EmbedBatch = DefaultEmbedBatch
	}
	if cfg.SnapshotDelay <= 0 {
		cfg.SnapshotDelay = DefaultSnapshotDelay
	}
	if cfg.RetryFirst <= 0 {
		cfg.RetryFirst = defaultRetryFirst
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = defaultRetryMax
	}
	r := &Recall{
		store:     store,
		cfg:       cfg,
		log:       cfg.Logger,
		resources: make(map[string]*recallResource),
		locks:     make(map[string]*sync.Mutex),
		erased:    make(map[string]bool),
	}
	store.recall = r
	return r, nil
}

// writeLock returns the write lock of a resource.
func (r *Recall) writeLock(resourceID string) *sync.Mutex {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.locks[resourceID]
	if !ok {
		l = new(sync.Mutex)
		r.locks[resourceID] = l
	}
	return l
}

// Unlock loads o's vector index in the background and starts embedding the
// messages that have no vector yet. Calling it again for an unlocked
// resource does nothing. It keeps a copy of o.Key until Lock.
func (r *Recall) Unlock(o Owner) error {
	if err := checkOwner(o); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("recall is closed")
	}
	if r.erased[o.ResourceID] {
		return ErrRecallLocked
	}
	if _, ok := r.resources[o.ResourceID]; ok {
		return nil
	}
	key, err := seal.KeyFrom(o.Key.Bytes())
	if err != nil {
		return err
	}
	write, ok := r.locks[o.ResourceID]
	if !ok {
		write = new(sync.Mutex)
		r.locks[o.ResourceID] = write
	}
	ctx, cancel := context.WithCancel(context.Background())
	rr := &recallResource{
		r:        r,
		owner:    Owner{ResourceID: o.ResourceID, Key: key},
		write:    write,
		ready:    make(chan struct{}),
		wake:     make(chan struct{}, 1),
		cancel:   cancel,
		done:     make(chan struct{}),
		threads:  make(map[string]bool),
		fullScan: true,
		status:   RecallStatus{State: "loading"},
	}
	r.resources[o.ResourceID] = rr
	go rr.run(ctx)
	return nil
}

// Lock stops o's worker, saves its index if it changed since the last
// snapshot, and drops the index and the key. Locking a resource that is
// not unlocked does nothing.
func (r *Recall) Lock(resourceID string) {
	r.mu.Lock()
	rr := r.resources[resourceID]
	delete(r.resources, resourceID)
	r.mu.Unlock()
	if rr != nil {
		rr.stop(true)
	}
}

// lockIf locks rr's resource if rr is still the one loaded for it.
func (r *Recall) lockIf(rr *recallResource) {
	r.mu.Lock()
	current := r.resources[rr.owner.ResourceID] == rr
	if current {
		delete(r.resources, rr.owner.ResourceID)
	}
	r.mu.Unlock()
	if current {
		rr.stop(false)
	}
}

// Close locks every resource, saving their indexes.
func (r *Recall) Close() {
	r.mu.Lock()
	r.closed = true
	all := r.resources
	r.resources = make(map[string]*recallResource)
	r.mu.Unlock()
	for _, rr := range all {
		rr.stop(true)
	}
}

// dropLocked drops a resource whose data was just erased, without saving
// anything. The caller holds the resource's write lock, which the worker
// may be waiting for, so the worker is stopped without waiting for it.
func (r *Recall) dropLocked(resourceID string) {
	r.mu.Lock()
	rr := r.resources[resourceID]
	delete(r.resources, resourceID)
	r.erased[resourceID] = true
	r.mu.Unlock()
	if rr != nil {
		rr.dropped = true
		rr.cancel()
		go func() {
			<-rr.done
			rr.owner.Key.Wipe()
		}()
	}
}

// unlocked returns the loaded state of o, checking that o's key is the one
// it was unlocked with.
func (r *Recall) unlocked(o Owner) (*recallResource, error) {
	if err := checkOwner(o); err != nil {
		return nil, err
	}
	r.mu.Lock()
	rr := r.resources[o.ResourceID]
	r.mu.Unlock()
	if rr == nil || subtle.ConstantTimeCompare(rr.owner.Key.Bytes(), o.Key.Bytes()) != 1 {
		return nil, ErrRecallLocked
	}
	return rr, nil
}

// Enqueue queues the new messages of a thread of o for embedding. It
// returns at once.
func (r *Recall) Enqueue(o Owner, threadID string) {
	rr, err := r.unlocked(o)
	if err != nil {
		return
	}
	rr.statusMu.Lock()
	rr.threads[threadID] = true
	rr.statusMu.Unlock()
	rr.poke()
}

// Rescan queues every message of o that has no vector for embedding,
// such as after an import.
func (r *Recall) Rescan(o Owner) {
	rr, err := r.unlocked(o)
	if err != nil {
		return
	}
	rr.statusMu.Lock()
	rr.fullScan = true
	rr.statusMu.Unlock()
	rr.poke()
}

// Status returns how far o's recall is. A resource that is not unlocked is
// "locked".
func (r *Recall) Status(o Owner) RecallStatus {
	rr, err := r.unlocked(o)
	if err != nil {
		return RecallStatus{State: "locked"}
	}
	rr.statusMu.Lock()
	defer rr.statusMu.Unlock()
	st := rr.status
	if st.Reembedding != nil {
		re := *st.Reembedding
		st.Reembedding = &re
	}
	return st
}

// Wait blocks until o's index is loaded and no message is waiting to be
// embedded, or until ctx ends. Messages whose embedding failed count as
// waiting.
func (r *Recall) Wait(ctx context.Context, o Owner) error {
	rr, err := r.unlocked(o)
	if err != nil {
		return err
	}
	select {
	case <-rr.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	if rr.loadErr != nil {
		return rr.loadErr
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		rr.statusMu.Lock()
		idle := !rr.busy && !rr.fullScan && len(rr.threads) == 0 && rr.status.Pending == 0 && rr.status.State == "ready"
		rr.statusMu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// SetEmbedder sets the embedder that spec describes for o's new messages.
// When its id differs from the current one, every message is embedded again
// in the background, and until that is done searches use the vectors of the
// embedder before. spec is stored sealed, so it may contain an API key.
// SetEmbedder returns the factory's error for settings it rejects.
func (r *Recall) SetEmbedder(ctx context.Context, o Owner, spec json.RawMessage) error {
	e, err := r.cfg.Embedders(spec)
	if err != nil {
		return err
	}
	rr, err := r.unlocked(o)
	if err != nil {
		return err
	}
	if err := rr.waitReady(ctx); err != nil {
		return err
	}
	rr.write.Lock()
	err = rr.switchEmbedder(e, spec)
	rr.write.Unlock()
	if err != nil {
		return err
	}
	rr.statusMu.Lock()
	rr.fullScan = true
	rr.statusMu.Unlock()
	rr.poke()
	return nil
}

// EmbedderSpec returns the settings of the embedder o's new messages are
// embedded with.
func (r *Recall) EmbedderSpec(ctx context.Context, o Owner) (json.RawMessage, error) {
	rr, err := r.unlocked(o)
	if err != nil {
		return nil, err
	}
	if err := rr.waitReady(ctx); err != nil {
		return nil, err
	}
	rr.write.Lock()
	defer rr.write.Unlock()
	return rr.current.info.Spec, nil
}

func (rr *recallResource) poke() {
	select {
	case rr.wake <- struct{}{}:
	default:
	}
}

func (rr *recallResource) waitReady(ctx context.Context) error {
	select {
	case <-rr.ready:
		return rr.loadErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop ends the worker, saves the indexes when save is set and they
// changed, and wipes the key.
func (rr *recallResource) stop(save bool) {
	rr.cancel()
	<-rr.done
	if save && rr.loadErr == nil {
		rr.write.Lock()
		if rr.dropped {
			rr.write.Unlock()
			rr.owner.Key.Wipe()
			return
		}
		var changed []*recallSpace
		for _, sp := range []*recallSpace{rr.current, rr.previous} {
			if sp != nil && !sp.changed.IsZero() {
				changed = append(changed, sp)
			}
		}
		rr.write.Unlock()
		for _, sp := range changed {
			if err := rr.saveSnapshot(sp); err != nil {
				rr.r.log.Warn("saving the recall index failed; the next unlock rebuilds it", "resource", rr.owner.ResourceID, "error", err)
			}
		}
	}
	rr.owner.Key.Wipe()
}

// setStatus changes the status under its lock.
func (rr *recallResource) setStatus(fn func(st *RecallStatus)) {
	rr.statusMu.Lock()
	fn(&rr.status)
	rr.statusMu.Unlock()
}

// truncateText returns at most maxEmbedBytes of text, cut at a character
// boundary.
func truncateText(text string) string {
	if len(text) <= maxEmbedBytes {
		return text
	}
	cut := maxEmbedBytes
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut]
}

// indexKey is a vector's key in the index: the thread id, then the message
// id, so that a thread-scoped search can tell a key's thread.
func indexKey(threadID, messageID string) string {
	return threadID + messageID
}

// splitIndexKey returns the thread and message ids of an index key.
func splitIndexKey(key string) (threadID, messageID string, ok bool) {
	if len(key) != 72 {
		return "", "", false
	}
	return key[:36], key[36:], true
}

// forget removes the vectors of the given messages from o's loaded
// indexes. The caller holds the resource's write lock.
func (r *Recall) forget(resourceID string, keys []string) {
	r.mu.Lock()
	rr := r.resources[resourceID]
	r.mu.Unlock()
	if rr == nil || len(keys) == 0 {
		return
	}
	select {
	case <-rr.ready:
	default:
		// The loader holds the write lock until ready is closed, so only a
		// load that has not started yet gets here, and it reads bbolt after
		// this change.
		return
	}
	for _, sp := range []*recallSpace{rr.current, rr.previous} {
		if sp == nil || sp.index == nil {
			continue
		}
		for _, k := range keys {
			if sp.index.Delete(k) {
				sp.markChanged()
			}
		}
	}
	rr.updateCounts()
	rr.poke()
}

// updateCounts refreshes the status's vector counts and the search view.
// The caller holds the write lock.
func (rr *recallResource) updateCounts() {
	if sp := rr.searchSpace(); sp != nil {
		view := &searchView{index: sp.index, embedder: sp.embedder}
		if rr.previous != nil && rr.current != nil {
			view.fallback = &searchView{index: rr.current.index, embedder: rr.current.embedder}
		}
		rr.view.Store(view)
	}
	rr.setStatus(func(st *RecallStatus) {
		st.Vectors = 0
		if sp := rr.searchSpace(); sp != nil && sp.index != nil {
			st.Vectors = sp.index.Len()
		}
		if rr.current != nil {
			st.Embedder = rr.current.info.EmbedderID
			st.Dimension = rr.current.info.Dim
		}
	})
}

// searchSpace is the space that serves searches: the previous one while
// the current one is being filled.
func (rr *recallResource) searchSpace() *recallSpace {
	if rr.previous != nil {
		return rr.previous
	}
	return rr.current
}

// lockedUpdate runs fn in a write transaction while holding the write lock
// of resourceID, then removes the index keys fn collected from the loaded
// index. fn may run more than once and must reset what it collects.
func (s *Store) lockedUpdate(resourceID string, fn func(tx *bbolt.Tx, forget *[]string) error) error {
	if s.recall != nil {
		l := s.recall.writeLock(resourceID)
		l.Lock()
		defer l.Unlock()
	}
	var forget []string
	err := s.update(func(tx *bbolt.Tx) error {
		forget = forget[:0]
		return fn(tx, &forget)
	})
	if err == nil && s.recall != nil {
		s.recall.forget(resourceID, forget)
	}
	return err
}
