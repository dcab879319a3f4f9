package memory

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"go.etcd.io/bbolt"

	"hearth/seal"
)

// Vectors for semantic recall live in their own bucket, one sub-bucket per
// resource and, inside it, one per embedding space: the vectors of one
// embedder, which are comparable only with each other.
//
//	vectors/<resourceID>                  "state" → sealed recallState JSON
//	vectors/<resourceID>/<space>          "info" → sealed spaceInfo JSON
//	vectors/<resourceID>/<space>/vec      message id → write sequence (8 bytes,
//	                                      big-endian) + sealed vector payload
//	vectors/<resourceID>/<space>/snap     "head" → sealed snapshotHead JSON,
//	                                      part number (4 bytes) → sealed part
//
// A space's name is derived from the embedder id with a key made from the
// owner's data key, so the file does not say which embedder a profile uses.
// A vector payload is the message's thread id followed by the vector's
// float32 elements in little-endian order. An empty payload marks a message
// that has nothing to embed, such as a tool result, so that it is not
// looked at again. The write sequence is the space bucket's sequence at the
// time of the write, which tells which records are newer than a snapshot.

var (
	vectorsBucket  = []byte("vectors")
	stateKey       = []byte("state")
	spaceInfoKey   = []byte("info")
	vecBucket      = []byte("vec")
	snapBucket     = []byte("snap")
	snapHeadKey    = []byte("head")
	spaceKeyPrefix = "s-"
)

// snapshotPartSize is the size of the pieces a sealed snapshot is split
// into, so that no single bbolt value grows with the index.
const snapshotPartSize = 4 << 20

// recallState names a resource's current embedding space and, while its
// messages are embedded again after a change of embedder, the previous one,
// which serves searches until the current one is complete.
type recallState struct {
	Current  string `json:"current"`
	Previous string `json:"previous,omitempty"`
}

// spaceInfo describes an embedding space: the embedder's id, the dimension
// of its vectors once known, and the embedder's settings as the caller
// gave them, which may hold an API key and so are sealed.
type spaceInfo struct {
	EmbedderID string          `json:"embedderId"`
	Dim        int             `json:"dim"`
	Spec       json.RawMessage `json:"spec"`
}

// snapshotHead describes a saved index: how many parts it has, its size,
// and the space's write sequence when it was taken.
type snapshotHead struct {
	Sequence uint64 `json:"sequence"`
	Parts    int    `json:"parts"`
	Size     int    `json:"size"`
	// ID binds the parts to this head, so parts of an older snapshot do not
	// open as parts of a newer one.
	ID string `json:"id"`
}

// spaceName returns the bucket name of the space of embedderID for the
// owner of key.
func spaceName(key *seal.Key, embedderID string) string {
	mac := hmac.New(sha256.New, key.Bytes())
	mac.Write([]byte("hearth/memory/vector-space/"))
	mac.Write([]byte(embedderID))
	return spaceKeyPrefix + hex.EncodeToString(mac.Sum(nil)[:8])
}

func recallStateAD(resourceID string) []byte {
	return []byte("hearth/memory/recall-state/" + resourceID)
}

func spaceInfoAD(resourceID, space string) []byte {
	return []byte("hearth/memory/vector-space/" + resourceID + "/" + space)
}

func vectorAD(resourceID, space, messageID string) []byte {
	return []byte("hearth/memory/vector/" + resourceID + "/" + space + "/" + messageID)
}

func snapshotAD(resourceID, space, id string, part int) []byte {
	return []byte("hearth/memory/vector-snapshot/" + resourceID + "/" + space + "/" + id + "/" + strconv.Itoa(part))
}

// resourceVectors returns the vectors bucket of a resource, or nil.
func resourceVectors(tx *bbolt.Tx, resourceID string) *bbolt.Bucket {
	return tx.Bucket(vectorsBucket).Bucket([]byte(resourceID))
}

// readRecallState returns the resource's recall state; a resource that has
// none yet gets the zero state.
func readRecallState(tx *bbolt.Tx, o Owner) (recallState, error) {
	var st recallState
	b := resourceVectors(tx, o.ResourceID)
	if b == nil {
		return st, nil
	}
	v := b.Get(stateKey)
	if v == nil {
		return st, nil
	}
	if err := openJSON(o.Key, v, recallStateAD(o.ResourceID), &st); err != nil {
		return st, fmt.Errorf("open recall state: %w", err)
	}
	return st, nil
}

func writeRecallState(tx *bbolt.Tx, o Owner, st recallState) error {
	b, err := tx.Bucket(vectorsBucket).CreateBucketIfNotExists([]byte(o.ResourceID))
	if err != nil {
		return err
	}
	sealed, err := sealJSON(o.Key, st, recallStateAD(o.ResourceID))
	if err != nil {
		return err
	}
	return b.Put(stateKey, sealed)
}

// readSpaceInfo returns the info of a space, and false when the space does
// not exist.
func readSpaceInfo(tx *bbolt.Tx, o Owner, space string) (spaceInfo, bool, error) {
	var info spaceInfo
	b := spaceBucket(tx, o.ResourceID, space)
	if b == nil {
		return info, false, nil
	}
	v := b.Get(spaceInfoKey)
	if v == nil {
		return info, false, nil
	}
	if err := openJSON(o.Key, v, spaceInfoAD(o.ResourceID, space), &info); err != nil {
		return info, false, fmt.Errorf("open vector space info: %w", err)
	}
	return info, true, nil
}

// writeSpaceInfo creates the space if needed and stores its info.
func writeSpaceInfo(tx *bbolt.Tx, o Owner, space string, info spaceInfo) error {
	res, err := tx.Bucket(vectorsBucket).CreateBucketIfNotExists([]byte(o.ResourceID))
	if err != nil {
		return err
	}
	b, err := res.CreateBucketIfNotExists([]byte(space))
	if err != nil {
		return err
	}
	if _, err := b.CreateBucketIfNotExists(vecBucket); err != nil {
		return err
	}
	sealed, err := sealJSON(o.Key, info, spaceInfoAD(o.ResourceID, space))
	if err != nil {
		return err
	}
	return b.Put(spaceInfoKey, sealed)
}

func spaceBucket(tx *bbolt.Tx, resourceID, space string) *bbolt.Bucket {
	res := resourceVectors(tx, resourceID)
	if res == nil || space == "" {
		return nil
	}
	return res.Bucket([]byte(space))
}

// deleteSpace removes a space with its vectors and snapshot.
func deleteSpace(tx *bbolt.Tx, resourceID, space string) error {
	res := resourceVectors(tx, resourceID)
	if res == nil || space == "" || res.Bucket([]byte(space)) == nil {
		return nil
	}
	return res.DeleteBucket([]byte(space))
}

// storedVector is one decoded vector record. An empty Vector marks a message
// with nothing to embed.
type storedVector struct {
	MessageID string
	ThreadID  string
	Vector    []float32
	Sequence  uint64
}

// putVector writes the vector of messageID into a space, with the space's
// next write sequence. An empty vec marks the message as having nothing to
// embed.
func putVector(tx *bbolt.Tx, o Owner, space, threadID, messageID string, vec []float32) error {
	b := spaceBucket(tx, o.ResourceID, space)
	if b == nil {
		return fmt.Errorf("vector space %s does not exist", space)
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	var payload []byte
	if len(vec) > 0 {
		payload = make([]byte, 0, len(threadID)+4*len(vec))
		payload = append(payload, threadID...)
		for _, x := range vec {
			payload = binary.LittleEndian.AppendUint32(payload, math.Float32bits(x))
		}
	}
	sealed := o.Key.Seal(payload, vectorAD(o.ResourceID, space, messageID))
	clear(payload)
	value := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(sealed)), seq)
	return b.Bucket(vecBucket).Put([]byte(messageID), append(value, sealed...))
}

// vectorSequence returns the write sequence of a vector record.
func vectorSequence(v []byte) (uint64, error) {
	if len(v) < 8 {
		return 0, errors.New("vector record is shorter than its sequence number")
	}
	return binary.BigEndian.Uint64(v), nil
}

// openVector decodes a vector record of a space with dim elements per
// vector.
func openVector(o Owner, space, messageID string, v []byte, dim int) (storedVector, error) {
	sv := storedVector{MessageID: messageID}
	seq, err := vectorSequence(v)
	if err != nil {
		return sv, err
	}
	sv.Sequence = seq
	payload, err := o.Key.Open(v[8:], vectorAD(o.ResourceID, space, messageID))
	if err != nil {
		return sv, fmt.Errorf("open vector of message %s: %w", messageID, err)
	}
	if len(payload) == 0 {
		return sv, nil
	}
	const idLen = 36
	if len(payload) < idLen || (len(payload)-idLen)%4 != 0 || (dim > 0 && (len(payload)-idLen)/4 != dim) {
		return sv, fmt.Errorf("vector of message %s has %d bytes, which does not fit dimension %d", messageID, len(payload), dim)
	}
	sv.ThreadID = string(payload[:idLen])
	sv.Vector = make([]float32, (len(payload)-idLen)/4)
	for i := range sv.Vector {
		sv.Vector[i] = math.Float32frombits(binary.LittleEndian.Uint32(payload[idLen+4*i:]))
	}
	return sv, nil
}

// deleteMessageVectors removes the vectors of the given messages from every
// space of a resource.
func deleteMessageVectors(tx *bbolt.Tx, resourceID string, messageIDs []string) error {
	res := resourceVectors(tx, resourceID)
	if res == nil || len(messageIDs) == 0 {
		return nil
	}
	return res.ForEachBucket(func(space []byte) error {
		vecs := res.Bucket(space).Bucket(vecBucket)
		if vecs == nil {
			return nil
		}
		for _, id := range messageIDs {
			if err := vecs.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// threadMessageIDs returns the ids of a thread's messages.
func threadMessageIDs(tx *bbolt.Tx, threadID string) ([]string, error) {
	ids := tx.Bucket(messageIDsBucket).Bucket([]byte(threadID))
	if ids == nil {
		return nil, nil
	}
	var out []string
	err := ids.ForEach(func(k, _ []byte) error {
		out = append(out, string(k))
		return nil
	})
	return out, err
}

// writeSnapshot replaces a space's snapshot with data, sealed in parts.
func writeSnapshot(tx *bbolt.Tx, o Owner, space string, data []byte, seq uint64) error {
	b := spaceBucket(tx, o.ResourceID, space)
	if b == nil {
		return fmt.Errorf("vector space %s does not exist", space)
	}
	if b.Bucket(snapBucket) != nil {
		if err := b.DeleteBucket(snapBucket); err != nil {
			return err
		}
	}
	snap, err := b.CreateBucket(snapBucket)
	if err != nil {
		return err
	}
	snap.FillPercent = appendFillPercent
	head := snapshotHead{Sequence: seq, Size: len(data), ID: NewID()}
	for part := 0; part*snapshotPartSize < len(data) || part == 0; part++ {
		chunk := data[part*snapshotPartSize : min((part+1)*snapshotPartSize, len(data))]
		sealed := o.Key.Seal(chunk, snapshotAD(o.ResourceID, space, head.ID, part))
		if err := snap.Put(binary.BigEndian.AppendUint32(nil, uint32(part)), sealed); err != nil {
			return err
		}
		head.Parts++
	}
	sealed, err := sealJSON(o.Key, head, snapshotAD(o.ResourceID, space, "head", -1))
	if err != nil {
		return err
	}
	return snap.Put(snapHeadKey, sealed)
}

// readSnapshot returns a space's saved index, opened, in the parts it was
// stored in, and the write sequence it covers, or no parts when there is
// none. The parts are opened on up to one goroutine per core. The caller
// clears them once it has read them.
func readSnapshot(tx *bbolt.Tx, o Owner, space string) ([][]byte, uint64, error) {
	b := spaceBucket(tx, o.ResourceID, space)
	if b == nil || b.Bucket(snapBucket) == nil {
		return nil, 0, nil
	}
	snap := b.Bucket(snapBucket)
	v := snap.Get(snapHeadKey)
	if v == nil {
		return nil, 0, nil
	}
	var head snapshotHead
	if err := openJSON(o.Key, v, snapshotAD(o.ResourceID, space, "head", -1), &head); err != nil {
		return nil, 0, fmt.Errorf("open snapshot head: %w", err)
	}
	if head.Size < 0 || head.Parts < 1 || head.Parts > head.Size/snapshotPartSize+1 {
		return nil, 0, fmt.Errorf("invalid snapshot head: %d parts for %d bytes", head.Parts, head.Size)
	}

	// The sealed parts are read here, because a bbolt transaction is not
	// for use by several goroutines, and opened in parallel below. Each
	// part but the last holds snapshotPartSize bytes, as writeSnapshot
	// splits them.
	sealed := make([][]byte, head.Parts)
	for part := range head.Parts {
		if sealed[part] = snap.Get(binary.BigEndian.AppendUint32(nil, uint32(part))); sealed[part] == nil {
			return nil, 0, fmt.Errorf("snapshot part %d of %d is missing", part, head.Parts)
		}
	}
	parts := make([][]byte, head.Parts)
	errs := make([]error, head.Parts)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), head.Parts) {
		wg.Go(func() {
			for part := int(next.Add(1) - 1); part < head.Parts; part = int(next.Add(1) - 1) {
				chunk, err := o.Key.Open(sealed[part], snapshotAD(o.ResourceID, space, head.ID, part))
				want := min(snapshotPartSize, head.Size-part*snapshotPartSize)
				switch {
				case err != nil:
					errs[part] = fmt.Errorf("open snapshot part %d: %w", part, err)
				case len(chunk) != want:
					clear(chunk)
					errs[part] = fmt.Errorf("invalid snapshot: part %d of %d contains %d bytes, want %d", part, head.Parts, len(chunk), want)
				default:
					parts[part] = chunk
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			for _, chunk := range parts {
				clear(chunk)
			}
			return nil, 0, err
		}
	}
	return parts, head.Sequence, nil
}

// sameRecord reports whether a message's stored record is still the one
// read earlier, so that a vector computed from it is not stored for a
// message that changed or was deleted meanwhile.
func sameRecord(tx *bbolt.Tx, threadID, messageID string, record []byte) bool {
	msgs, key, err := messageKey(tx, threadID, messageID)
	if err != nil {
		return false
	}
	return bytes.Equal(msgs.Get(key), record)
}

// missingVectors returns, for the given threads of o (all of them when
// threadIDs is nil), the user and assistant messages that have no record in
// the space, oldest thread first, with the number of messages that do.
func missingVectors(tx *bbolt.Tx, o Owner, space string, threadIDs []string) (missing []pendingMessage, present int, err error) {
	b := spaceBucket(tx, o.ResourceID, space)
	if b == nil {
		return nil, 0, nil
	}
	vecs := b.Bucket(vecBucket)
	if threadIDs == nil {
		if owned := tx.Bucket(resourcesBucket).Bucket([]byte(o.ResourceID)); owned != nil {
			err := owned.Bucket(ownedBucket).ForEach(func(k, _ []byte) error {
				threadIDs = append(threadIDs, string(k))
				return nil
			})
			if err != nil {
				return nil, 0, err
			}
		}
	}
	slices.Sort(threadIDs)
	for _, threadID := range slices.Compact(threadIDs) {
		if _, err := ownedThread(tx, o, threadID); err != nil {
			continue
		}
		ids := tx.Bucket(messageIDsBucket).Bucket([]byte(threadID))
		if ids == nil {
			continue
		}
		err := ids.ForEach(func(k, _ []byte) error {
			if vecs.Get(k) != nil {
				present++
			} else {
				missing = append(missing, pendingMessage{ThreadID: threadID, MessageID: string(k)})
			}
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
	}
	return missing, present, nil
}

// pendingMessage is a message waiting for its vector.
type pendingMessage struct {
	ThreadID  string
	MessageID string
}
