package memory

import (
	"encoding/json"
	"time"
)

// DefaultThreadTitle is the title of a thread created without one.
const DefaultThreadTitle = "New Conversation"

// Thread is one conversation, owned by one resource.
type Thread struct {
	ID           string          `json:"id"`
	ResourceID   string          `json:"resourceId"`
	Title        string          `json:"title"`
	CreatedAt    time.Time       `json:"createdAt"`
	UpdatedAt    time.Time       `json:"updatedAt"`
	Metadata     json.RawMessage `json:"metadata"`
	MessageCount int             `json:"messageCount"`
}
