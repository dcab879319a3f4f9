package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"hearth/memory/embed"
	"hearth/memory/vector"
	"hearth/seal"
)

// run loads the resource's spaces, then embeds new messages until ctx ends.
func (rr *recallResource) run(ctx context.Context) {
	defer close(rr.done)

	rr.write.Lock()
	switch {
	case rr.dropped || ctx.Err() != nil:
		rr.loadErr = ErrRecallLocked
	case rr.r.cfg.StillUnlocked != nil && !rr.r.cfg.StillUnlocked(rr.owner.ResourceID):
		// A request unlocked recall just after the profile locked.
		rr.loadErr = ErrRecallLocked
		go rr.r.lockIf(rr)
	default:
		rr.loadErr = rr.load()
	}
	close(rr.ready)
	if rr.loadErr == nil {
		rr.updateCounts()
		rr.setStatus(func(st *RecallStatus) { st.State = "ready" })
	}
	rr.write.Unlock()
	if errors.Is(rr.loadErr, ErrRecallLocked) {
		rr.setStatus(func(st *RecallStatus) { st.State = "locked" })
		return
	}
	if rr.loadErr != nil {
		rr.r.log.Warn("loading the recall index failed", "resource", rr.owner.ResourceID, "error", rr.loadErr)
		rr.setStatus(func(st *RecallStatus) { st.State = "failed"; st.LastError = rr.loadErr.Error() })
		return
	}

	retry := time.Duration(0)
	for {
		err := rr.embedPending(ctx)
		rr.r.afterWork()
		if ctx.Err() != nil {
			return
		}
		var wait <-chan time.Time
		if err != nil {
			retry = min(max(2*retry, rr.r.cfg.RetryFirst), rr.r.cfg.RetryMax)
			rr.r.log.Warn("embedding messages for recall failed; retrying later", "resource", rr.owner.ResourceID, "retryIn", retry, "error", embed.LogText(err))
			rr.setStatus(func(st *RecallStatus) { st.LastError = err.Error() })
			wait = time.After(retry)
		} else {
			retry = 0
			rr.setStatus(func(st *RecallStatus) { st.LastError = "" })
			if delay := rr.snapshotDue(); delay >= 0 {
				wait = time.After(delay)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-rr.wake:
		case <-wait:
			if err == nil {
				rr.saveDue()
			} else {
				// Try every waiting message again, not only the
				// threads named since.
				rr.statusMu.Lock()
				rr.fullScan = true
				rr.statusMu.Unlock()
			}
		}
	}
}

// afterWork calls the configured AfterWork, if any.
func (r *Recall) afterWork() {
	if r.cfg.AfterWork != nil {
		r.cfg.AfterWork()
	}
}

// load reads the recall state and loads its spaces. The caller holds the
// write lock.
func (rr *recallResource) load() error {
	o := rr.owner
	var st recallState
	err := rr.r.store.db.View(func(tx *bbolt.Tx) error {
		var err error
		st, err = readRecallState(tx, o)
		return err
	})
	if err != nil {
		return err
	}
	if st.Current == "" {
		e, err := rr.r.cfg.Embedders(rr.r.cfg.DefaultEmbedder)
		if err != nil {
			return err
		}
		sp, err := rr.createSpace(e, rr.r.cfg.DefaultEmbedder)
		if err != nil {
			return err
		}
		rr.current = sp
		return rr.r.store.update(func(tx *bbolt.Tx) error {
			return writeRecallState(tx, o, recallState{Current: sp.name})
		})
	}
	if rr.current, err = rr.loadSpace(st.Current); err != nil {
		return err
	}
	if st.Previous != "" {
		if rr.previous, err = rr.loadSpace(st.Previous); err != nil {
			rr.r.log.Warn("loading the previous recall index failed; searching the new one while it fills", "resource", o.ResourceID, "error", err)
			rr.previous = nil
		}
	}
	return nil
}

// createSpace makes the space of embedder e, or reuses it when it exists.
func (rr *recallResource) createSpace(e Embedder, spec json.RawMessage) (*recallSpace, error) {
	name := spaceName(rr.owner.Key, e.ID())
	var exists bool
	err := rr.r.store.db.View(func(tx *bbolt.Tx) error {
		_, ok, err := readSpaceInfo(tx, rr.owner, name)
		exists = ok
		return err
	})
	if err != nil {
		return nil, err
	}
	if exists {
		sp, err := rr.loadSpace(name)
		if err != nil {
			return nil, err
		}
		sp.info.Spec = spec
		sp.embedder = e
		return sp, rr.r.store.update(func(tx *bbolt.Tx) error { return writeSpaceInfo(tx, rr.owner, name, sp.info) })
	}
	sp := &recallSpace{name: name, embedder: e, info: spaceInfo{EmbedderID: e.ID(), Dim: e.Dim(), Spec: spec}}
	err = rr.r.store.update(func(tx *bbolt.Tx) error { return writeSpaceInfo(tx, rr.owner, name, sp.info) })
	return sp, err
}

// loadSpace loads a space from its snapshot and the vectors written after
// it, or from its vectors alone.
func (rr *recallResource) loadSpace(name string) (*recallSpace, error) {
	o := rr.owner
	sp := &recallSpace{name: name}
	err := rr.r.store.db.View(func(tx *bbolt.Tx) error {
		info, ok, err := readSpaceInfo(tx, o, name)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("vector space %s is missing", name)
		}
		sp.info = info
		if info.Dim > 0 {
			if err := rr.loadIndex(tx, sp); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	e, err := rr.r.cfg.Embedders(sp.info.Spec)
	if err != nil {
		return nil, fmt.Errorf("embedder of vector space: %w", err)
	}
	if e.ID() != sp.info.EmbedderID {
		return nil, fmt.Errorf("the stored embedder settings now make embedder %q, not %q", e.ID(), sp.info.EmbedderID)
	}
	sp.embedder = e
	return sp, nil
}

// loadIndex fills sp.index from the space's snapshot, then brings it up to
// date with the vector records: records newer than the snapshot are added,
// and keys whose record is gone are deleted. A snapshot that does not load
// is ignored and the index is built from the records.
func (rr *recallResource) loadIndex(tx *bbolt.Tx, sp *recallSpace) error {
	o := rr.owner
	index, err := vector.NewIndex(sp.info.Dim, rr.r.cfg.IndexOptions)
	if err != nil {
		return err
	}
	parts, covered, err := readSnapshot(tx, o, sp.name)
	if err == nil && parts != nil {
		// Each part opened, so the snapshot is the one saved: its head
		// names the parts and their size, and each part's associated data
		// its number and the head's id.
		err = index.UnmarshalAuthenticated(parts)
		if err == nil && index.Dim() != sp.info.Dim {
			err = fmt.Errorf("snapshot has dimension %d, the space %d", index.Dim(), sp.info.Dim)
		}
		if err == nil {
			// The snapshot keeps the threshold it was saved with, which
			// may be an older default.
			err = index.SetExactThreshold(rr.r.cfg.IndexOptions.ExactThreshold)
		}
	}
	for _, part := range parts {
		clear(part)
	}
	if err != nil {
		rr.r.log.Warn("the saved recall index does not load; rebuilding it", "resource", o.ResourceID, "error", err)
		index, _ = vector.NewIndex(sp.info.Dim, rr.r.cfg.IndexOptions)
	}
	if parts == nil || err != nil {
		covered = 0
	}

	vecs := spaceBucket(tx, o.ResourceID, sp.name).Bucket(vecBucket)
	loaded := index.Len()
	accounted, err := rr.addNewerVectors(vecs, sp, index, covered)
	if err != nil {
		return err
	}

	// The snapshot contains a key for each record it covers that has a
	// vector, and for the records deleted since it was saved. Only after
	// such deletions are there fewer of those records than keys, and only
	// then are the keys compared with the records.
	if covered != 0 && accounted < loaded {
		present := make(map[string]bool, vecs.Stats().KeyN)
		err := vecs.ForEach(func(k, _ []byte) error {
			present[string(k)] = true
			return nil
		})
		if err != nil {
			return err
		}
		for _, key := range index.Keys() {
			if _, messageID, ok := splitIndexKey(key); !ok || !present[messageID] {
				index.Delete(key)
			}
		}
		sp.markChanged()
	} else if covered == 0 && index.Len() > 0 {
		sp.markChanged()
	}
	sp.index = index
	return nil
}

// releaseScanMemory gives back to the operating system what loading an
// index and scanning every message leave behind: the pages of the data
// file that they read, and the heap of the decrypted snapshot, now garbage.
// Both would otherwise stay in the process's resident memory while it
// idles, about 300 MiB after a profile of 20,000 messages signs in.
func releaseScanMemory(db *bbolt.DB) {
	ReleasePages(db)
	debug.FreeOSMemory()
}

// rebuildBatch is how many vectors loadIndex opens before it adds them to
// the index in one AddBatch.
const rebuildBatch = 4096

// addNewerVectors adds to index the vectors of the records written after
// the snapshot, which covers sequence numbers up to covered, replacing what
// the snapshot contains for their messages. AddBatch links them on one
// goroutine per core. It returns how many of the snapshot's keys it
// accounted for: those of the older records with a vector and those it
// replaced. A record newer than the snapshot replaces it also when it marks
// the message as having nothing to embed any more.
func (rr *recallResource) addNewerVectors(vecs *bbolt.Bucket, sp *recallSpace, index *vector.Index, covered uint64) (accounted int, err error) {
	o := rr.owner
	var keyOf map[string]string // message id → key in the snapshot, made on first use
	newer := false
	var keys []string
	var vectors [][]float32
	add := func() error {
		err := index.AddBatch(keys, vectors, runtime.GOMAXPROCS(0))
		keys, vectors = keys[:0], vectors[:0]
		return err
	}

	err = vecs.ForEach(func(k, v []byte) error {
		seq, err := vectorSequence(v)
		if err != nil {
			return err
		}
		if covered != 0 && seq <= covered {
			// An empty payload, sealed, takes exactly seal.Overhead bytes.
			if len(v) > 8+seal.Overhead {
				accounted++
			}
			return nil
		}
		if covered != 0 {
			newer = true
			if keyOf == nil {
				keyOf = make(map[string]string, index.Len())
				for _, key := range index.Keys() {
					if _, messageID, ok := splitIndexKey(key); ok {
						keyOf[messageID] = key
					}
				}
			}
			if old, ok := keyOf[string(k)]; ok && index.Delete(old) {
				accounted++
			}
		}
		sv, err := openVector(o, sp.name, string(k), v, sp.info.Dim)
		if err != nil {
			// One damaged record costs one message its recall, not the
			// whole index.
			rr.r.log.Warn("skipping a vector record that does not open", "resource", o.ResourceID, "error", err)
			return nil
		}
		if len(sv.Vector) == 0 {
			return nil
		}
		keys = append(keys, indexKey(sv.ThreadID, sv.MessageID))
		vectors = append(vectors, sv.Vector)
		if len(keys) == rebuildBatch {
			return add()
		}
		return nil
	})
	if err == nil && len(keys) > 0 {
		err = add()
	}
	if err == nil && newer {
		// So that the next unlock does not add them again.
		sp.markChanged()
	}
	return accounted, err
}

// switchEmbedder makes e, described by spec, the current embedder. The
// caller holds the write lock.
func (rr *recallResource) switchEmbedder(e Embedder, spec json.RawMessage) error {
	o := rr.owner
	switch {
	case e.ID() == rr.current.info.EmbedderID:
		// Same vectors, new settings, such as another API key.
		rr.current.info.Spec = spec
		rr.current.embedder = e
		rr.updateCounts()
		return rr.r.store.update(func(tx *bbolt.Tx) error { return writeSpaceInfo(tx, o, rr.current.name, rr.current.info) })
	case rr.previous != nil && e.ID() == rr.previous.info.EmbedderID:
		// Back to the embedder whose vectors are complete: drop the
		// unfinished ones.
		dropped := rr.current
		rr.current, rr.previous = rr.previous, nil
		rr.current.info.Spec = spec
		rr.current.embedder = e
		err := rr.r.store.update(func(tx *bbolt.Tx) error {
			if err := writeSpaceInfo(tx, o, rr.current.name, rr.current.info); err != nil {
				return err
			}
			if err := deleteSpace(tx, o.ResourceID, dropped.name); err != nil {
				return err
			}
			return writeRecallState(tx, o, recallState{Current: rr.current.name})
		})
		rr.setStatus(func(st *RecallStatus) { st.Reembedding = nil })
		rr.updateCounts()
		return err
	}

	sp, err := rr.createSpace(e, spec)
	if err != nil {
		return err
	}
	// While a change is under way, the complete vectors stay the ones
	// searched, and the unfinished ones are dropped.
	keep, dropped := rr.current, (*recallSpace)(nil)
	if rr.previous != nil {
		keep, dropped = rr.previous, rr.current
	}
	err = rr.r.store.update(func(tx *bbolt.Tx) error {
		if dropped != nil && dropped.name != sp.name {
			if err := deleteSpace(tx, o.ResourceID, dropped.name); err != nil {
				return err
			}
		}
		return writeRecallState(tx, o, recallState{Current: sp.name, Previous: keep.name})
	})
	if err != nil {
		return err
	}
	rr.current, rr.previous = sp, keep
	rr.setStatus(func(st *RecallStatus) { st.LastError = "" })
	// Count the work now, so that the status shows it before the worker
	// starts.
	var missing []pendingMessage
	var present int
	err = rr.r.store.db.View(func(tx *bbolt.Tx) error {
		var err error
		missing, present, err = missingVectors(tx, o, sp.name, nil)
		return err
	})
	if err != nil {
		return err
	}
	rr.setStatus(func(st *RecallStatus) {
		st.Reembedding = &Reembedding{From: keep.info.EmbedderID, To: sp.info.EmbedderID, Done: present, Total: present + len(missing)}
		st.Pending = len(missing)
	})
	rr.updateCounts()
	return nil
}

// embedPending embeds the messages waiting for a vector in the current
// space, batch by batch, and finishes a change of embedder once none is
// left.
func (rr *recallResource) embedPending(ctx context.Context) error {
	rr.statusMu.Lock()
	full := rr.fullScan
	var threads []string
	if !full {
		for id := range rr.threads {
			threads = append(threads, id)
		}
	}
	rr.fullScan = false
	clear(rr.threads)
	rr.busy = full || len(threads) > 0
	rr.statusMu.Unlock()
	if !rr.busy {
		return nil
	}
	defer func() {
		rr.statusMu.Lock()
		rr.busy = false
		rr.statusMu.Unlock()
	}()

	rr.write.Lock()
	sp, embedder := rr.current, rr.current.embedder
	rr.write.Unlock()

	var pending []pendingMessage
	var present int
	err := rr.r.store.db.View(func(tx *bbolt.Tx) error {
		var err error
		pending, present, err = missingVectors(tx, rr.owner, sp.name, threads)
		return err
	})
	if err != nil {
		return err
	}
	if full {
		// In a goroutine of its own, because returning the heap forces
		// a full collection, and nothing needs to wait for it. A later
		// unlock in the same process pays for the release in page
		// faults: on 2026-12-05, unlocking 100,000 messages again took
		// a median of about 625 ms with it and 450 ms without.
		go releaseScanMemory(rr.r.store.db)
	}
	rr.setStatus(func(st *RecallStatus) {
		st.Pending = len(pending)
		if st.Reembedding != nil && full {
			st.Reembedding.Done, st.Reembedding.Total = present, present+len(pending)
		}
	})

	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := pending[:min(len(pending), rr.r.cfg.EmbedBatch)]
		if err := rr.embedBatch(ctx, sp, embedder, batch); err != nil {
			// The messages stay without a vector; a later scan finds
			// them again.
			if !full {
				rr.statusMu.Lock()
				for _, p := range pending {
					rr.threads[p.ThreadID] = true
				}
				rr.statusMu.Unlock()
			}
			return err
		}
		pending = pending[len(batch):]
		rr.setStatus(func(st *RecallStatus) {
			st.Pending = len(pending)
			if st.Reembedding != nil {
				st.Reembedding.Done += len(batch)
			}
		})
	}

	if full {
		return rr.finishSwitch(sp)
	}
	return nil
}

// finishSwitch drops the previous space once the current one, sp, holds a
// vector for every message.
func (rr *recallResource) finishSwitch(sp *recallSpace) error {
	rr.write.Lock()
	defer rr.write.Unlock()
	if rr.dropped || rr.previous == nil || rr.current != sp {
		return nil
	}
	o := rr.owner
	var missing []pendingMessage
	err := rr.r.store.db.View(func(tx *bbolt.Tx) error {
		var err error
		missing, _, err = missingVectors(tx, o, sp.name, nil)
		return err
	})
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		rr.statusMu.Lock()
		rr.fullScan = true
		rr.statusMu.Unlock()
		rr.poke()
		return nil
	}
	old := rr.previous
	err = rr.r.store.update(func(tx *bbolt.Tx) error {
		if err := deleteSpace(tx, o.ResourceID, old.name); err != nil {
			return err
		}
		return writeRecallState(tx, o, recallState{Current: sp.name})
	})
	if err != nil {
		return err
	}
	rr.previous = nil
	rr.setStatus(func(st *RecallStatus) { st.Reembedding = nil })
	rr.updateCounts()
	return nil
}

// embedBatch embeds one batch of messages into sp and stores the vectors.
func (rr *recallResource) embedBatch(ctx context.Context, sp *recallSpace, embedder Embedder, batch []pendingMessage) error {
	o := rr.owner
	records := make([][]byte, len(batch))
	texts := make([]string, 0, len(batch))
	which := make([]int, 0, len(batch)) // batch index of each text
	err := rr.r.store.db.View(func(tx *bbolt.Tx) error {
		for i, p := range batch {
			msgs, key, err := messageKey(tx, p.ThreadID, p.MessageID)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			v := msgs.Get(key)
			records[i] = append([]byte(nil), v...)
			m, err := decodeMessage(v, o, p.ThreadID)
			if err != nil {
				return err
			}
			if text := embeddableText(m); text != "" {
				texts = append(texts, text)
				which = append(which, i)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	var vectors [][]float32
	if len(texts) > 0 {
		got, err := embedder.Embed(ctx, texts)
		clear(texts)
		if err != nil {
			return err
		}
		if len(got) != len(texts) {
			return fmt.Errorf("embedder %s returned %d vectors for %d texts", embedder.ID(), len(got), len(texts))
		}
		vectors = make([][]float32, len(got))
		for i, v := range got {
			vectors[i] = v
		}
	}
	byBatch := make([][]float32, len(batch))
	for i, bi := range which {
		byBatch[bi] = vectors[i]
	}

	rr.write.Lock()
	defer rr.write.Unlock()
	if rr.dropped || (rr.current != sp && rr.previous != sp) {
		return nil // the resource or the space was dropped meanwhile
	}
	if err := rr.ensureIndex(sp, byBatch); err != nil {
		return err
	}
	var added []int
	err = rr.r.store.update(func(tx *bbolt.Tx) error {
		added = added[:0]
		if spaceBucket(tx, o.ResourceID, sp.name) == nil {
			return nil
		}
		for i, p := range batch {
			if records[i] == nil || !sameRecord(tx, p.ThreadID, p.MessageID, records[i]) {
				continue // deleted or changed since it was read
			}
			if err := putVector(tx, o, sp.name, p.ThreadID, p.MessageID, byBatch[i]); err != nil {
				return err
			}
			added = append(added, i)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, i := range added {
		if byBatch[i] == nil {
			continue
		}
		if err := sp.index.Add(indexKey(batch[i].ThreadID, batch[i].MessageID), byBatch[i]); err != nil {
			return err
		}
	}
	if len(added) > 0 {
		sp.markChanged()
	}
	rr.updateCounts()
	return nil
}

// ensureIndex creates sp's index once the first vectors tell its
// dimension, and checks that every vector has it. The caller holds the
// write lock.
func (rr *recallResource) ensureIndex(sp *recallSpace, vectors [][]float32) error {
	for _, v := range vectors {
		if v == nil {
			continue
		}
		if sp.index == nil {
			index, err := vector.NewIndex(len(v), rr.r.cfg.IndexOptions)
			if err != nil {
				return err
			}
			sp.info.Dim = len(v)
			info := sp.info
			if err := rr.r.store.update(func(tx *bbolt.Tx) error { return writeSpaceInfo(tx, rr.owner, sp.name, info) }); err != nil {
				return err
			}
			sp.index = index
		}
		if len(v) != sp.index.Dim() {
			return fmt.Errorf("embedder %s returned a vector of dimension %d, its earlier vectors have %d; choose the embedder again to rebuild them", sp.info.EmbedderID, len(v), sp.index.Dim())
		}
	}
	return nil
}

// embeddableText returns the text of m that recall should find, or "" when
// m has none: only whole user and assistant messages with text are
// embedded. A reply that is still streaming, was stopped, was interrupted
// or ended in an error is not whole. Completing it with UpdateMessage drops
// its empty vector record, so it is embedded once it is queued again.
func embeddableText(m Message) string {
	if m.Damaged || (m.Role != RoleUser && m.Role != RoleAssistant) || m.Status != StatusComplete {
		return ""
	}
	text := strings.TrimSpace(m.Content)
	if text == "" {
		return ""
	}
	return truncateText(text)
}

// snapshotDue returns how long until a changed space should be saved, or
// -1 when none changed.
func (rr *recallResource) snapshotDue() time.Duration {
	rr.write.Lock()
	defer rr.write.Unlock()
	due := time.Duration(-1)
	for _, sp := range []*recallSpace{rr.current, rr.previous} {
		if sp == nil || sp.changed.IsZero() {
			continue
		}
		d := max(rr.r.cfg.SnapshotDelay-time.Since(sp.changed), 0)
		if due < 0 || d < due {
			due = d
		}
	}
	return due
}

// saveDue saves the spaces whose changes are older than the snapshot
// delay.
func (rr *recallResource) saveDue() {
	rr.write.Lock()
	var due []*recallSpace
	for _, sp := range []*recallSpace{rr.current, rr.previous} {
		if sp != nil && !sp.changed.IsZero() && time.Since(sp.changed) >= rr.r.cfg.SnapshotDelay {
			due = append(due, sp)
		}
	}
	rr.write.Unlock()
	for _, sp := range due {
		if err := rr.saveSnapshot(sp); err != nil {
			rr.r.log.Warn("saving the recall index failed; retrying after the next change", "resource", rr.owner.ResourceID, "error", err)
		}
	}
}

// saveSnapshot writes sp's index into bbolt. It holds the write lock only
// while it copies the index and the write sequence the copy covers, which
// agree because every vector write holds that lock. Writing the copy takes
// seconds for a large index and runs without the lock. A change made
// meanwhile keeps sp marked as changed, so a later save covers it.
func (rr *recallResource) saveSnapshot(sp *recallSpace) error {
	rr.write.Lock()
	if rr.dropped || sp.index == nil {
		sp.changed = time.Time{}
		rr.write.Unlock()
		return nil
	}
	changes := sp.changes
	data, err := sp.index.MarshalBinary()
	var seq uint64
	if err == nil {
		err = rr.r.store.db.View(func(tx *bbolt.Tx) error {
			if b := spaceBucket(tx, rr.owner.ResourceID, sp.name); b != nil {
				seq = b.Sequence()
			}
			return nil
		})
	}
	rr.write.Unlock()
	if err != nil {
		return err
	}
	defer clear(data)

	// The write lock is not held here, so the resource may be erased
	// meanwhile: the write then finds no space bucket and writes nothing.
	err = rr.r.store.db.Update(func(tx *bbolt.Tx) error {
		if spaceBucket(tx, rr.owner.ResourceID, sp.name) == nil {
			return nil
		}
		return writeSnapshot(tx, rr.owner, sp.name, data, seq)
	})
	if err != nil {
		return err
	}
	rr.write.Lock()
	if sp.changes == changes {
		sp.changed = time.Time{}
	}
	rr.write.Unlock()
	return nil
}
