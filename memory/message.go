package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"go.etcd.io/bbolt"
)

// Role is who wrote a message.
type Role string

const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleSystem    Role = "system"
	RoleTool      Role = "tool"
)

// Status tells whether a message is whole.
type Status string

const (
	// StatusComplete marks a message that was written in full.
	StatusComplete Status = "complete"
	// StatusIncomplete marks a reply that was stopped or cut off, or is
	// still being written.
	StatusIncomplete Status = "incomplete"
	// StatusError marks a reply cut off by a backend error, as earlier
	// versions stored it. A reply cut off now keeps StatusIncomplete, with
	// the reason in Error.
	StatusError Status = "error"
	// StatusInterrupted marks a reply whose writer died, with the process,
	// before finishing it. The text written until then is kept.
	StatusInterrupted Status = "interrupted"
)

// Limits on messages.
const (
	// MaxContentBytes is the largest message content the store accepts.
	MaxContentBytes = 1 << 20
	// MaxMessageBytes bounds the content and parts of a message and of all
	// its versions together, so that regenerating a reply many times does
	// not grow its record without limit.
	MaxMessageBytes = 8 * MaxContentBytes
	// MaxMessageVersions is the largest number of earlier versions one
	// message keeps.
	MaxMessageVersions = 100
	// MaxClientRequestIDBytes bounds a client's own request id.
	MaxClientRequestIDBytes = 128

	maxErrorBytes = 4096 // bytes of a message's error text
	maxModelBytes = 256  // bytes of a model name
)

// appendFillPercent is how full bbolt fills the pages of buckets whose keys
// only grow.
const appendFillPercent = 0.95

// Message is one turn of a thread.
type Message struct {
	ID        string    `json:"id"`
	ThreadID  string    `json:"threadId"`
	Role      Role      `json:"role"`
	Content   string    `json:"content"`
	CreatedAt time.Time `json:"createdAt"`
	Status    Status    `json:"status"`
	// Parts are the structured pieces of the message beyond its text, such
	// as tool calls and their results.
	Parts []Part `json:"parts,omitempty"`
	// Model is the model that wrote an assistant message.
	Model string `json:"model,omitempty"`
	// Error is the sentence shown to the user when the message failed: on an
	// assistant message with StatusError, why the reply stopped; on a user
	// message, why no reply was written at all.
	Error string `json:"error,omitempty"`
	// PromptTokens and ReplyTokens are the counts the backend reported, if any.
	PromptTokens int `json:"promptTokens,omitempty"`
	ReplyTokens  int `json:"replyTokens,omitempty"`
	// ClientRequestID is the id the client sent with the request that created
	// the message. It is unique per resource: a second append with the same
	// id, to any thread of the resource, returns ErrDuplicate.
	ClientRequestID string `json:"clientRequestId,omitempty"`
	// Damaged is set when the message's sealed fields do not open with the
	// owner's key. Content, Parts, Error and Versions are then empty.
	Damaged bool `json:"damaged,omitempty"`
	// Streaming is set while a reply is being written. A reply still
	// marked streaming when the store opens was left by a process that
	// died, and RecoverInterrupted marks it StatusInterrupted.
	Streaming bool `json:"streaming,omitempty"`
	// OmittedMessages and OmittedRecalled count the history messages and
	// recalled messages left out of the reply's prompt to fit the model's
	// context window.
	OmittedMessages int `json:"omittedMessages,omitempty"`
	OmittedRecalled int `json:"omittedRecalled,omitempty"`
	// Versions are earlier replies that Regenerate replaced, oldest first.
	Versions []MessageVersion `json:"versions,omitempty"`
}

// MessageVersion is an earlier text of a reply, kept when the reply is
// regenerated.
type MessageVersion struct {
	Content   string    `json:"content"`
	Parts     []Part    `json:"parts,omitempty"`
	Model     string    `json:"model,omitempty"`
	Status    Status    `json:"status"`
	Error     string    `json:"error,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// Part is a structured piece of a message.
type Part struct {
	// Type is "tool-call" or "tool-result".
	Type       string          `json:"type"`
	ToolCallID string          `json:"toolCallId,omitempty"`
	ToolName   string          `json:"toolName,omitempty"`
	Input      json.RawMessage `json:"input,omitempty"`
	Output     json.RawMessage `json:"output,omitempty"`
	// IsError marks a tool result that reports a failure.
	IsError bool `json:"isError,omitempty"`
}

// AppendMessage adds m to the end of thread m.ThreadID if o owns it, and
// returns the message as stored, with its creation time. An empty ID gets a
// new one from NewID; a caller that needs the id before the message exists
// may set one from NewID itself. An empty Status is stored as
// StatusComplete. If o already has a message with m's ClientRequestID, in
// this thread or another, AppendMessage stores nothing and returns that
// message with ErrDuplicate.
func (s *Store) AppendMessage(ctx context.Context, o Owner, m Message) (Message, error) {
	return s.appendWith(s.update, o, m)
}

// appendWith is AppendMessage with the function that runs the write
// transaction: s.update in the store, which shares commits between
// concurrent writers, or db.Update in the benchmark that measures what
// sharing them saves.
func (s *Store) appendWith(commit func(func(*bbolt.Tx) error) error, o Owner, m Message) (Message, error) {
	if err := checkMessage(&m); err != nil {
		return Message{}, err
	}
	if m.ID == "" {
		m.ID = NewID()
	} else if !ValidID(m.ID) {
		return Message{}, fmt.Errorf("append message: invalid message id %q", m.ID)
	}
	m.CreatedAt = s.now().UTC()

	var duplicate *Message
	err := commit(func(tx *bbolt.Tx) error {
		duplicate = nil
		rec, err := writableThread(tx, o, m.ThreadID)
		if err != nil {
			return err
		}
		if m.ClientRequestID != "" {
			if existing, err := requestMessage(tx, o, m.ThreadID, m.ClientRequestID); err != nil || existing != nil {
				duplicate = existing
				return err
			}
		}
		previous := rec.UpdatedAt
		if err := appendMessage(tx, o, &m, rec); err != nil {
			return err
		}
		return putThread(tx, m.ThreadID, rec, previous)
	})
	if err != nil {
		return Message{}, fmt.Errorf("append message to thread %s: %w", m.ThreadID, err)
	}
	if duplicate != nil {
		return *duplicate, ErrDuplicate
	}
	return m, nil
}

// UpdateMessage replaces the content, parts, status, error, token counts,
// omitted counts and streaming flag of the stored message m.ID in thread
// m.ThreadID, if o owns the thread. It is how a reply written while it
// streams is completed in place. A nil m.Versions keeps the stored
// versions, so that a writer that does not set them does not drop them. A
// non-nil one, even empty, replaces them. A non-empty Model replaces the
// stored one, as when a reply is regenerated with another model.
// ClientRequestID and CreatedAt keep their stored values.
func (s *Store) UpdateMessage(ctx context.Context, o Owner, m Message) (Message, error) {
	if err := checkMessage(&m); err != nil {
		return Message{}, err
	}
	var stored Message
	err := s.lockedUpdate(o.ResourceID, func(tx *bbolt.Tx, forget *[]string) error {
		rec, err := writableThread(tx, o, m.ThreadID)
		if err != nil {
			return err
		}
		msgs, key, err := messageKey(tx, m.ThreadID, m.ID)
		if err != nil {
			return err
		}
		var mr messageRecord
		if err := json.Unmarshal(msgs.Get(key), &mr); err != nil {
			return fmt.Errorf("decode message %s: %w", m.ID, err)
		}

		versions := m.Versions
		if versions == nil {
			// A record that does not open keeps no versions that could be
			// read, so the new text is stored without them.
			versions = mr.message(o.ResourceID, m.ThreadID, o.Key).Versions
		}
		if err := checkMessageBytes(m.Content, m.Parts, versions); err != nil {
			return err
		}
		mr.Status, mr.PromptTokens, mr.ReplyTokens = m.Status, m.PromptTokens, m.ReplyTokens
		mr.Streaming, mr.OmittedMessages, mr.OmittedRecalled = m.Streaming, m.OmittedMessages, m.OmittedRecalled
		if m.Model != "" {
			mr.Model = m.Model
		}
		secrets := messageSecrets{Content: m.Content, Parts: m.Parts, Error: m.Error, Versions: versions}
		if mr.Sealed, err = sealJSON(o.Key, secrets, messageAD(o.ResourceID, m.ThreadID, m.ID)); err != nil {
			return err
		}
		if err := putMessageRecord(msgs, key, &mr); err != nil {
			return err
		}
		if err := indexStreaming(tx, o.ResourceID, m.ThreadID, m.ID, mr.Streaming); err != nil {
			return err
		}
		stored = mr.message(o.ResourceID, m.ThreadID, o.Key)

		// The vector of the old text no longer fits. The message is
		// embedded again when its writer queues it with Recall.Enqueue.
		if err := deleteMessageVectors(tx, o.ResourceID, []string{m.ID}); err != nil {
			return err
		}
		*forget = append(*forget, indexKey(m.ThreadID, m.ID))

		previous := rec.UpdatedAt
		rec.UpdatedAt = s.now().UTC()
		return putThread(tx, m.ThreadID, rec, previous)
	})
	if err != nil {
		return Message{}, fmt.Errorf("update message %s: %w", m.ID, err)
	}
	return stored, nil
}

// LastMessages returns up to n of the newest messages of a thread owned by
// o, oldest first.
func (s *Store) LastMessages(ctx context.Context, o Owner, threadID string, n int) ([]Message, error) {
	return s.MessagesBefore(ctx, o, threadID, "", n)
}

// MessagesBefore returns up to n of the messages written before beforeID in
// a thread owned by o, oldest first, so that a client can page backwards.
// An empty beforeID starts from the newest message.
func (s *Store) MessagesBefore(ctx context.Context, o Owner, threadID, beforeID string, n int) ([]Message, error) {
	n = min(max(n, 0), MaxLastMessages)
	messages := []Message{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		if _, err := ownedThread(tx, o, threadID); err != nil {
			return err
		}
		msgs := tx.Bucket(messagesBucket).Bucket([]byte(threadID))
		if msgs == nil {
			if beforeID != "" {
				return ErrNotFound
			}
			return nil
		}
		c := msgs.Cursor()
		k, v := c.Last()
		if beforeID != "" {
			_, key, err := messageKey(tx, threadID, beforeID)
			if err != nil {
				return err
			}
			c.Seek(key)
			k, v = c.Prev()
		}
		for ; k != nil && len(messages) < n; k, v = c.Prev() {
			m, err := decodeMessage(v, o, threadID)
			if err != nil {
				return err
			}
			messages = append(messages, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("messages of thread %s: %w", threadID, err)
	}
	slices.Reverse(messages)
	return messages, nil
}

// MessageWithNeighbours returns a message and up to span messages on each
// side of it, oldest first, as semantic recall shows a remembered message in
// its context.
func (s *Store) MessageWithNeighbours(ctx context.Context, o Owner, threadID, messageID string, span int) ([]Message, error) {
	span = min(max(span, 0), MaxLastMessages/2)
	var messages []Message
	err := s.db.View(func(tx *bbolt.Tx) error {
		if _, err := ownedThread(tx, o, threadID); err != nil {
			return err
		}
		var err error
		messages, err = messageWindow(tx, o, threadID, messageID, span)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("message %s with neighbours: %w", messageID, err)
	}
	return messages, nil
}

// DeleteMessage deletes one message of a thread owned by o.
func (s *Store) DeleteMessage(ctx context.Context, o Owner, threadID, messageID string) error {
	err := s.lockedUpdate(o.ResourceID, func(tx *bbolt.Tx, forget *[]string) error {
		rec, err := ownedThread(tx, o, threadID)
		if err != nil {
			return err
		}
		msgs, key, err := messageKey(tx, threadID, messageID)
		if err != nil {
			return err
		}
		var mr messageRecord
		if err := json.Unmarshal(msgs.Get(key), &mr); err != nil {
			return fmt.Errorf("decode message %s: %w", messageID, err)
		}
		if mr.ClientRequestID != "" {
			if err := unindexRequest(tx, o.ResourceID, threadID, mr.ClientRequestID); err != nil {
				return err
			}
		}
		if err := msgs.Delete(key); err != nil {
			return err
		}
		if err := tx.Bucket(messageIDsBucket).Bucket([]byte(threadID)).Delete([]byte(messageID)); err != nil {
			return err
		}
		if err := indexStreaming(tx, o.ResourceID, threadID, messageID, false); err != nil {
			return err
		}
		if err := deleteMessageVectors(tx, o.ResourceID, []string{messageID}); err != nil {
			return err
		}
		*forget = append(*forget, indexKey(threadID, messageID))
		rec.MessageCount--
		previous := rec.UpdatedAt
		rec.UpdatedAt = s.now().UTC()
		return putThread(tx, threadID, rec, previous)
	})
	if err != nil {
		return fmt.Errorf("delete message %s: %w", messageID, err)
	}
	return nil
}

// appendMessage seals m into a new record at the end of its thread and
// counts it in rec, which the caller writes back.
func appendMessage(tx *bbolt.Tx, o Owner, m *Message, rec *threadRecord) error {
	msgs, err := tx.Bucket(messagesBucket).CreateBucketIfNotExists([]byte(m.ThreadID))
	if err != nil {
		return err
	}
	ids, err := tx.Bucket(messageIDsBucket).CreateBucketIfNotExists([]byte(m.ThreadID))
	if err != nil {
		return err
	}
	// Both buckets grow at their end (sequence numbers and time-ordered
	// ids), so full pages waste no room; bbolt's default of half-full pages
	// would double the file.
	msgs.FillPercent, ids.FillPercent = appendFillPercent, appendFillPercent
	if ids.Get([]byte(m.ID)) != nil {
		return fmt.Errorf("message id %s already exists", m.ID)
	}
	seq, err := msgs.NextSequence()
	if err != nil {
		return err
	}
	key := sequenceKey(seq)

	mr := messageRecord{
		ID: m.ID, Role: m.Role, CreatedAt: m.CreatedAt, Status: m.Status, Model: m.Model,
		PromptTokens: m.PromptTokens, ReplyTokens: m.ReplyTokens, ClientRequestID: m.ClientRequestID,
		Streaming: m.Streaming, OmittedMessages: m.OmittedMessages, OmittedRecalled: m.OmittedRecalled,
	}
	secrets := messageSecrets{Content: m.Content, Parts: m.Parts, Error: m.Error, Versions: m.Versions}
	if mr.Sealed, err = sealJSON(o.Key, secrets, messageAD(o.ResourceID, m.ThreadID, m.ID)); err != nil {
		return err
	}
	if err := putMessageRecord(msgs, key, &mr); err != nil {
		return err
	}
	if err := ids.Put([]byte(m.ID), key); err != nil {
		return err
	}
	if m.ClientRequestID != "" {
		if err := indexRequest(tx, o.ResourceID, m.ThreadID, m.ID, m.ClientRequestID); err != nil {
			return err
		}
	}
	if m.Streaming {
		if err := indexStreaming(tx, o.ResourceID, m.ThreadID, m.ID, true); err != nil {
			return err
		}
	}

	rec.MessageCount++
	if m.CreatedAt.After(rec.UpdatedAt) {
		rec.UpdatedAt = m.CreatedAt
	}
	return nil
}

// messageKey returns a thread's messages bucket and the key of messageID in
// it, or ErrNotFound.
func messageKey(tx *bbolt.Tx, threadID, messageID string) (*bbolt.Bucket, []byte, error) {
	msgs := tx.Bucket(messagesBucket).Bucket([]byte(threadID))
	ids := tx.Bucket(messageIDsBucket).Bucket([]byte(threadID))
	if msgs == nil || ids == nil || !ValidID(messageID) {
		return nil, nil, ErrNotFound
	}
	key := ids.Get([]byte(messageID))
	if key == nil || msgs.Get(key) == nil {
		return nil, nil, ErrNotFound
	}
	return msgs, slices.Clone(key), nil
}

func decodeMessage(v []byte, o Owner, threadID string) (Message, error) {
	var mr messageRecord
	if err := json.Unmarshal(v, &mr); err != nil {
		// A record that is not even JSON is shown as damaged, like one that
		// does not open, rather than failing the whole read.
		return Message{ThreadID: threadID, Damaged: true}, nil
	}
	return mr.message(o.ResourceID, threadID, o.Key), nil
}

func putMessageRecord(msgs *bbolt.Bucket, key []byte, mr *messageRecord) error {
	v, err := json.Marshal(mr)
	if err != nil {
		return fmt.Errorf("encode message %s: %w", mr.ID, err)
	}
	return msgs.Put(key, v)
}

// checkMessage validates the fields a caller sets and fills in defaults. It
// may give m a copy of its versions, so that the caller's slice is never
// changed.
func checkMessage(m *Message) error {
	switch m.Role {
	case RoleUser, RoleAssistant, RoleSystem, RoleTool:
	default:
		return fmt.Errorf("invalid message role %q", m.Role)
	}
	if m.Status == "" {
		m.Status = StatusComplete
	}
	if !validStatus(m.Status) {
		return fmt.Errorf("invalid message status %q", m.Status)
	}
	if m.Streaming && m.Status != StatusIncomplete {
		return &InputError{Field: "streaming", Reason: fmt.Sprintf("A message that is still being written must have status %q, not %q.", StatusIncomplete, m.Status)}
	}
	if m.OmittedMessages < 0 {
		return &InputError{Field: "omittedMessages", Reason: fmt.Sprintf("The count of omitted messages is %d, but it must be 0 or more.", m.OmittedMessages)}
	}
	if m.OmittedRecalled < 0 {
		return &InputError{Field: "omittedRecalled", Reason: fmt.Sprintf("The count of omitted recalled messages is %d, but it must be 0 or more.", m.OmittedRecalled)}
	}

	if len(m.Content) > MaxContentBytes {
		return &InputError{Field: "message", Reason: fmt.Sprintf("The message is %d bytes long; the limit is %d bytes. Split it into shorter messages.", len(m.Content), MaxContentBytes)}
	}
	if !utf8.ValidString(m.Content) {
		return &InputError{Field: "message", Reason: "The message is not valid UTF-8 text."}
	}
	partBytes, err := checkParts("parts", "the message", m.Parts)
	if err != nil {
		return err
	}
	if partBytes > MaxContentBytes {
		return &InputError{Field: "parts", Reason: fmt.Sprintf("The message's parts are %d bytes long; the limit is %d bytes.", partBytes, MaxContentBytes)}
	}
	if len(m.Error) > maxErrorBytes || len(m.Model) > maxModelBytes || !utf8.ValidString(m.Error) || !utf8.ValidString(m.Model) {
		return &InputError{Field: "message", Reason: fmt.Sprintf("The message's error text (at most %d bytes) or model name (at most %d bytes) is too long or not valid UTF-8.", maxErrorBytes, maxModelBytes)}
	}
	if len(m.ClientRequestID) > MaxClientRequestIDBytes || !utf8.ValidString(m.ClientRequestID) || bytes.ContainsRune([]byte(m.ClientRequestID), 0) {
		return &InputError{Field: "clientRequestId", Reason: fmt.Sprintf("The clientRequestId must be text of at most %d bytes.", MaxClientRequestIDBytes)}
	}

	if len(m.Versions) > MaxMessageVersions {
		return &InputError{Field: "versions", Reason: fmt.Sprintf("The message has %d earlier versions, over the limit of %d. Drop the oldest ones.", len(m.Versions), MaxMessageVersions)}
	}
	if len(m.Versions) > 0 {
		m.Versions = slices.Clone(m.Versions)
	}
	for i := range m.Versions {
		if err := checkVersion(i, &m.Versions[i]); err != nil {
			return err
		}
	}
	return checkMessageBytes(m.Content, m.Parts, m.Versions)
}

// checkVersion validates version i of a message like the message's own
// fields and fills in its default status.
func checkVersion(i int, v *MessageVersion) error {
	if v.Status == "" {
		v.Status = StatusComplete
	}
	if !validStatus(v.Status) {
		return &InputError{Field: "versions", Reason: fmt.Sprintf("Version %d of the message has the invalid status %q.", i+1, v.Status)}
	}
	if len(v.Content) > MaxContentBytes {
		return &InputError{Field: "versions", Reason: fmt.Sprintf("Version %d of the message is %d bytes long, over the limit of %d bytes.", i+1, len(v.Content), MaxContentBytes)}
	}
	if !utf8.ValidString(v.Content) {
		return &InputError{Field: "versions", Reason: fmt.Sprintf("Version %d of the message is not valid UTF-8 text.", i+1)}
	}
	partBytes, err := checkParts("versions", fmt.Sprintf("version %d of the message", i+1), v.Parts)
	if err != nil {
		return err
	}
	if partBytes > MaxContentBytes {
		return &InputError{Field: "versions", Reason: fmt.Sprintf("The parts of version %d of the message are %d bytes long, over the limit of %d bytes.", i+1, partBytes, MaxContentBytes)}
	}
	if len(v.Error) > maxErrorBytes || len(v.Model) > maxModelBytes || !utf8.ValidString(v.Error) || !utf8.ValidString(v.Model) {
		return &InputError{Field: "versions", Reason: fmt.Sprintf("The error text (at most %d bytes) or model name (at most %d bytes) of version %d of the message is too long or not valid UTF-8.", maxErrorBytes, maxModelBytes, i+1)}
	}
	return nil
}

// checkParts checks that every part's input and output is valid JSON and
// returns the size of the parts in bytes. owner names what the parts
// belong to in the error.
func checkParts(field, owner string, parts []Part) (int, error) {
	size := 0
	for i, p := range parts {
		if (len(p.Input) > 0 && !json.Valid(p.Input)) || (len(p.Output) > 0 && !json.Valid(p.Output)) {
			return 0, &InputError{Field: field, Reason: fmt.Sprintf("Part %d of %s has an input or output that is not valid JSON.", i+1, owner)}
		}
		size += partSize(p)
	}
	return size, nil
}

func partSize(p Part) int {
	return len(p.Input) + len(p.Output) + len(p.ToolName) + len(p.ToolCallID) + len(p.Type)
}

// checkMessageBytes rejects a message whose content and parts, with those
// of its versions, pass MaxMessageBytes.
func checkMessageBytes(content string, parts []Part, versions []MessageVersion) error {
	total := len(content)
	for _, p := range parts {
		total += partSize(p)
	}
	for _, v := range versions {
		total += len(v.Content)
		for _, p := range v.Parts {
			total += partSize(p)
		}
	}
	if total > MaxMessageBytes {
		return &InputError{Field: "versions", Reason: fmt.Sprintf("The message and its earlier versions are %d bytes long together, over the limit of %d bytes. Drop the oldest versions.", total, MaxMessageBytes)}
	}
	return nil
}

func validStatus(s Status) bool {
	switch s {
	case StatusComplete, StatusIncomplete, StatusError, StatusInterrupted:
		return true
	}
	return false
}
