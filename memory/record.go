package memory

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"hearth/seal"
)

// Records are stored as JSON. The fields that say what a conversation is
// about (titles, metadata, message text and parts, errors, the earlier
// versions of a reply) are sealed with the owner's data key in the Sealed
// field. Ids, times, counts, roles, statuses and the streaming flag stay in
// the clear. Threads can then be listed, ordered and paged, and interrupted
// replies marked, while only their owner can read them.

// threadRecord is a thread as stored in the threads bucket.
type threadRecord struct {
	ResourceID   string    `json:"resourceId"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	MessageCount int       `json:"messageCount"`
	Sealed       []byte    `json:"sealed"` // threadSecrets, sealed
}

// threadSecrets are the sealed fields of a thread.
type threadSecrets struct {
	Title    string          `json:"title"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// messageRecord is a message as stored in a thread's messages bucket.
type messageRecord struct {
	ID              string    `json:"id"`
	Role            Role      `json:"role"`
	CreatedAt       time.Time `json:"createdAt"`
	Status          Status    `json:"status"`
	Model           string    `json:"model,omitempty"`
	PromptTokens    int       `json:"promptTokens,omitempty"`
	ReplyTokens     int       `json:"replyTokens,omitempty"`
	ClientRequestID string    `json:"clientRequestId,omitempty"`
	Streaming       bool      `json:"streaming,omitempty"`
	OmittedMessages int       `json:"omittedMessages,omitempty"`
	OmittedRecalled int       `json:"omittedRecalled,omitempty"`
	Sealed          []byte    `json:"sealed"` // messageSecrets, sealed
}

// messageSecrets are the sealed fields of a message.
type messageSecrets struct {
	Content  string           `json:"content"`
	Parts    []Part           `json:"parts,omitempty"`
	Error    string           `json:"error,omitempty"`
	Versions []MessageVersion `json:"versions,omitempty"`
}

// Associated data for sealed fields: a sealed value copied to another record
// does not open.
func threadAD(resourceID, threadID string) []byte {
	return []byte("hearth/memory/thread/" + resourceID + "/" + threadID)
}

func messageAD(resourceID, threadID, messageID string) []byte {
	return []byte("hearth/memory/message/" + resourceID + "/" + threadID + "/" + messageID)
}

// threadSecretsBinary starts the binary layout of sealed thread fields: a
// uvarint title length, the title, then the metadata JSON. Threads are
// listed often, and JSON decoding of these small values dominated listing.
// Values sealed as JSON, which start with '{', are still read.
const threadSecretsBinary byte = 1

// sealThreadSecrets seals a thread's private fields under key.
func sealThreadSecrets(key *seal.Key, secrets threadSecrets, ad []byte) ([]byte, error) {
	plain := make([]byte, 0, 1+binary.MaxVarintLen64+len(secrets.Title)+len(secrets.Metadata))
	plain = append(plain, threadSecretsBinary)
	plain = binary.AppendUvarint(plain, uint64(len(secrets.Title)))
	plain = append(plain, secrets.Title...)
	plain = append(plain, secrets.Metadata...)
	defer clear(plain)
	return key.Seal(plain, ad), nil
}

// openThreadSecrets opens a value sealed by sealThreadSecrets, or an older
// one sealed as JSON, into secrets.
func openThreadSecrets(key *seal.Key, sealed, ad []byte, secrets *threadSecrets) error {
	plain, err := key.Open(sealed, ad)
	if err != nil {
		return err
	}
	defer clear(plain)
	if len(plain) > 0 && plain[0] == '{' {
		return json.Unmarshal(plain, secrets)
	}
	if len(plain) == 0 || plain[0] != threadSecretsBinary {
		return fmt.Errorf("unknown layout of thread fields")
	}
	n, size := binary.Uvarint(plain[1:])
	if size <= 0 || n > uint64(len(plain)-1-size) {
		return fmt.Errorf("thread fields cut short")
	}
	rest := plain[1+size:]
	secrets.Title = string(rest[:n])
	if len(rest) > int(n) {
		secrets.Metadata = bytes.Clone(rest[n:])
	}
	return nil
}

// sealJSON encodes v as JSON and seals it under key. It does not escape
// '<', '>' and '&' as json.Marshal does, because that can make a caller's
// JSON value, such as thread metadata, six times longer than the size it
// was checked at.
func sealJSON(key *seal.Key, v any, ad []byte) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	plain := buf.Bytes()
	defer clear(plain)
	return key.Seal(bytes.TrimSuffix(plain, []byte("\n")), ad), nil
}

// openJSON opens a value sealed by sealJSON into v.
func openJSON(key *seal.Key, sealed, ad []byte, v any) error {
	plain, err := key.Open(sealed, ad)
	if err != nil {
		return err
	}
	defer clear(plain)
	return json.Unmarshal(plain, v)
}

// Thread records are written in a binary layout, because listing a profile's
// threads decodes every one of them and JSON decoding dominated that time:
//
//	byte 0        threadRecordBinary
//	bytes 1–8     CreatedAt, Unix nanoseconds, big-endian
//	bytes 9–16    UpdatedAt, the same
//	bytes 17–20   MessageCount, big-endian
//	bytes 21–22   length n of ResourceID
//	next n bytes  ResourceID
//	the rest      Sealed
//
// Records written as JSON, which start with '{', are still read.
const threadRecordBinary byte = 1

const threadRecordHeader = 1 + 8 + 8 + 4 + 2

func encodeThreadRecord(rec *threadRecord) ([]byte, error) {
	if len(rec.ResourceID) > 0xffff || rec.MessageCount < 0 || rec.MessageCount > 0xffffffff {
		return nil, fmt.Errorf("thread record of %q does not fit the record layout", rec.ResourceID)
	}
	b := make([]byte, 0, threadRecordHeader+len(rec.ResourceID)+len(rec.Sealed))
	b = append(b, threadRecordBinary)
	b = binary.BigEndian.AppendUint64(b, uint64(rec.CreatedAt.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(rec.UpdatedAt.UnixNano()))
	b = binary.BigEndian.AppendUint32(b, uint32(rec.MessageCount))
	b = binary.BigEndian.AppendUint16(b, uint16(len(rec.ResourceID)))
	b = append(b, rec.ResourceID...)
	return append(b, rec.Sealed...), nil
}

func decodeThreadRecord(v, id []byte) (*threadRecord, error) {
	var rec threadRecord
	if len(v) > 0 && v[0] == '{' {
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, fmt.Errorf("decode thread %s: %w", id, err)
		}
		return &rec, nil
	}
	view, err := viewThreadRecord(v)
	if err != nil {
		return nil, fmt.Errorf("decode thread %s: %w", id, err)
	}
	rec.CreatedAt, rec.UpdatedAt, rec.MessageCount = view.createdAt, view.updatedAt, view.messageCount
	rec.ResourceID = string(view.resourceID)
	rec.Sealed = bytes.Clone(view.sealed)
	return &rec, nil
}

// threadRecordView is a thread record in the binary layout, decoded
// without copying: resourceID and sealed point into the stored value, so
// they are valid only in the transaction that read it.
type threadRecordView struct {
	resourceID           []byte
	createdAt, updatedAt time.Time
	messageCount         int
	sealed               []byte
}

// viewThreadRecord decodes a record in the binary layout. It returns an
// error for any other value, including records written as JSON.
func viewThreadRecord(v []byte) (threadRecordView, error) {
	if len(v) < threadRecordHeader || v[0] != threadRecordBinary {
		return threadRecordView{}, errors.New("unknown record layout")
	}
	n := int(binary.BigEndian.Uint16(v[21:23]))
	if len(v) < threadRecordHeader+n {
		return threadRecordView{}, errors.New("record cut short")
	}
	return threadRecordView{
		createdAt:    time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9]))).UTC(),
		updatedAt:    time.Unix(0, int64(binary.BigEndian.Uint64(v[9:17]))).UTC(),
		messageCount: int(binary.BigEndian.Uint32(v[17:21])),
		resourceID:   v[threadRecordHeader : threadRecordHeader+n],
		sealed:       v[threadRecordHeader+n:],
	}, nil
}

// thread returns the thread's public form, opening its sealed fields with
// key. A record whose fields do not open is returned with Damaged set
// instead of an error, so that one bad record never hides the others.
func (r *threadRecord) thread(id string, key *seal.Key) Thread {
	t := Thread{
		ID: id, ResourceID: r.ResourceID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		MessageCount: r.MessageCount,
	}
	openThread(&t, key, r.Sealed, threadAD(r.ResourceID, id))
	return t
}

// openThread fills in t's title and metadata from sealed, or sets Damaged
// when sealed does not open with key and ad.
func openThread(t *Thread, key *seal.Key, sealed, ad []byte) {
	t.Metadata = json.RawMessage("{}")
	var secrets threadSecrets
	if err := openThreadSecrets(key, sealed, ad, &secrets); err != nil {
		t.Damaged = true
		return
	}
	t.Title = secrets.Title
	if len(secrets.Metadata) > 0 {
		t.Metadata = secrets.Metadata
	}
}

// threadLister decodes the thread records of one owner for a listing. It
// reuses one buffer for the associated data of every record, and keeps
// the owner's resource id rather than a copy per thread.
type threadLister struct {
	o      Owner
	ad     []byte // threadAD(o.ResourceID, ""), then the id of the last record
	prefix int    // length of threadAD(o.ResourceID, "")
}

func newThreadLister(o Owner) *threadLister {
	ad := threadAD(o.ResourceID, "")
	return &threadLister{o: o, ad: slices.Grow(ad, 36), prefix: len(ad)}
}

// thread returns the public form of the record v of thread id, as
// threadRecord.thread does.
func (l *threadLister) thread(id, v []byte) (Thread, error) {
	view, err := viewThreadRecord(v)
	if err != nil || string(view.resourceID) != l.o.ResourceID {
		// Records written as JSON, and a record that names another
		// resource, take the general path.
		rec, err := decodeThreadRecord(v, id)
		if err != nil {
			return Thread{}, err
		}
		return rec.thread(string(id), l.o.Key), nil
	}
	t := Thread{
		ID: string(id), ResourceID: l.o.ResourceID, CreatedAt: view.createdAt, UpdatedAt: view.updatedAt,
		MessageCount: view.messageCount,
	}
	l.ad = append(l.ad[:l.prefix], id...)
	openThread(&t, l.o.Key, view.sealed, l.ad)
	return t, nil
}

// message returns the message's public form, opening its sealed fields with
// key, or with Damaged set if they do not open.
func (r *messageRecord) message(resourceID, threadID string, key *seal.Key) Message {
	m := Message{
		ID: r.ID, ThreadID: threadID, Role: r.Role, CreatedAt: r.CreatedAt, Status: r.Status,
		Model: r.Model, PromptTokens: r.PromptTokens, ReplyTokens: r.ReplyTokens, ClientRequestID: r.ClientRequestID,
		Streaming: r.Streaming, OmittedMessages: r.OmittedMessages, OmittedRecalled: r.OmittedRecalled,
	}
	var secrets messageSecrets
	if err := openJSON(key, r.Sealed, messageAD(resourceID, threadID, r.ID), &secrets); err != nil {
		m.Damaged = true
		return m
	}
	m.Content, m.Parts, m.Error, m.Versions = secrets.Content, secrets.Parts, secrets.Error, secrets.Versions
	return m
}

// sequenceKey is the key of the n-th message of a thread: big-endian, so
// that keys sort in the order messages were written.
func sequenceKey(n uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, n)
}

// recentKey is a thread's key in its resource's recent index: the update
// time in big-endian nanoseconds, then the id, so that keys sort by update
// time.
func recentKey(updatedAt time.Time, threadID string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(updatedAt.UnixNano())), threadID...)
}
