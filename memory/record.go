package memory

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"hearth/seal"
)

// Records are stored as JSON. The fields that say what a conversation is
// about (titles, metadata, message text and parts, errors) are sealed with
// the owner's data key in the Sealed field; ids, times, counts, roles and
// statuses stay in the clear so that threads can be listed, ordered and
// paged while only their owner can read them.

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
	Sealed          []byte    `json:"sealed"` // messageSecrets, sealed
}

// messageSecrets are the sealed fields of a message.
type messageSecrets struct {
	Content string `json:"content"`
	Parts   []Part `json:"parts,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Associated data for sealed fields: a sealed value copied to another record
// does not open.
func threadAD(resourceID, threadID string) []byte {
	return []byte("hearth/memory/thread/" + resourceID + "/" + threadID)
}

func messageAD(resourceID, threadID, messageID string) []byte {
	return []byte("hearth/memory/message/" + resourceID + "/" + threadID + "/" + messageID)
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

func decodeThreadRecord(v, id []byte) (*threadRecord, error) {
	var rec threadRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode thread %s: %w", id, err)
	}
	return &rec, nil
}

// thread returns the thread's public form, opening its sealed fields with
// key. A record whose fields do not open is returned with Damaged set
// instead of an error, so that one bad record never hides the others.
func (r *threadRecord) thread(id string, key *seal.Key) Thread {
	t := Thread{
		ID: id, ResourceID: r.ResourceID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		MessageCount: r.MessageCount, Metadata: json.RawMessage("{}"),
	}
	var secrets threadSecrets
	if err := openJSON(key, r.Sealed, threadAD(r.ResourceID, id), &secrets); err != nil {
		t.Damaged = true
		return t
	}
	t.Title = secrets.Title
	if len(secrets.Metadata) > 0 {
		t.Metadata = secrets.Metadata
	}
	return t
}

// message returns the message's public form, opening its sealed fields with
// key, or with Damaged set if they do not open.
func (r *messageRecord) message(resourceID, threadID string, key *seal.Key) Message {
	m := Message{
		ID: r.ID, ThreadID: threadID, Role: r.Role, CreatedAt: r.CreatedAt, Status: r.Status,
		Model: r.Model, PromptTokens: r.PromptTokens, ReplyTokens: r.ReplyTokens, ClientRequestID: r.ClientRequestID,
	}
	var secrets messageSecrets
	if err := openJSON(key, r.Sealed, messageAD(resourceID, threadID, r.ID), &secrets); err != nil {
		m.Damaged = true
		return m
	}
	m.Content, m.Parts, m.Error = secrets.Content, secrets.Parts, secrets.Error
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
