package memory

import "time"

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
	// StatusIncomplete marks a reply that was stopped or is still being
	// generated.
	StatusIncomplete Status = "incomplete"
	// StatusError marks a reply cut off by a backend error.
	StatusError Status = "error"
)

// MaxContentBytes is the largest message content the store accepts.
const MaxContentBytes = 1 << 20

// Message is one turn of a thread.
type Message struct {
	ID        string    `json:"id"`
	ThreadID  string    `json:"threadId"`
	Role      Role      `json:"role"`
	Content   string    `json:"content"`
	CreatedAt time.Time `json:"createdAt"`
	Status    Status    `json:"status"`
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
	// the message.
	ClientRequestID string `json:"clientRequestId,omitempty"`
}
