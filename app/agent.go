package app

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"hearth/memory"
)

// Defaults for prompt assembly.
const (
	// DefaultLastMessages is how many of a thread's newest messages go into
	// each prompt, as Mastra's lastMessages option.
	DefaultLastMessages = 20

	// DefaultSystemPrompt is the system instruction of every conversation.
	DefaultSystemPrompt = "You are Hearth, a private assistant running on the user's own computer. " +
		"Answer helpfully and concisely. If you are not sure of something, say so."

	// progressInterval is the longest time a streaming reply goes without
	// being saved, so a crash loses at most this much of it.
	progressInterval = 500 * time.Millisecond
)

// Agent writes the assistant's replies: it builds the prompt from a thread's
// history, streams the model's answer to the caller and stores it.
type Agent struct {
	memory       *memory.Store
	model        Model
	lastMessages int
	systemPrompt string
	now          func() time.Time
}

// NewAgent returns an Agent that reads and writes threads in store and asks
// model for replies.
func NewAgent(store *memory.Store, model Model) *Agent {
	return &Agent{memory: store, model: model, lastMessages: DefaultLastMessages, systemPrompt: DefaultSystemPrompt, now: time.Now}
}

// Reply asks the model to answer the newest messages of a thread and calls
// onDelta with each piece of text as it arrives. The reply is stored as an
// assistant message from its first piece on: as incomplete while it streams
// (saved at least every progressInterval), then as complete, as incomplete
// if ctx ends first, or as error if the backend fails. A reply that produced
// no text is not stored.
//
// The stored message gets the id replyID, which the caller may already have
// sent to its client. Reply returns the stored message, or when none was
// stored a message with an empty ID that carries only the status and error,
// together with the error that ended the reply early, if any: ctx's error or
// a *BackendError. A reply that outgrows memory.MaxContentBytes is cut there
// and stored as incomplete.
func (a *Agent) Reply(ctx context.Context, owner memory.Owner, threadID, replyID string, onDelta func(string)) (memory.Message, error) {
	history, err := a.memory.LastMessages(ctx, owner, threadID, a.lastMessages)
	if err != nil {
		return memory.Message{}, err
	}
	prompt := a.prompt(history)

	// Saving uses a context that outlives ctx, because a stopped reply must
	// still be stored.
	saveCtx := context.WithoutCancel(ctx)
	reply := memory.Message{ID: replyID, ThreadID: threadID, Role: memory.RoleAssistant, Status: memory.StatusIncomplete, Model: a.model.Describe().Model}
	stored := false
	var lastSave time.Time
	save := func() error {
		var saved memory.Message
		var err error
		if stored {
			saved, err = a.memory.UpdateMessage(saveCtx, owner, reply)
		} else {
			saved, err = a.memory.AppendMessage(saveCtx, owner, reply)
		}
		if err != nil {
			return err
		}
		stored = true
		reply.CreatedAt = saved.CreatedAt
		lastSave = a.now()
		return nil
	}

	var saveErr error
	chatErr := a.model.Chat(ctx, ChatRequest{Messages: prompt}, func(c ChatChunk) error {
		if c.Done {
			reply.PromptTokens, reply.ReplyTokens = c.PromptTokens, c.ReplyTokens
		}
		if c.Content == "" {
			return nil
		}
		piece, fits := fitContent(reply.Content, c.Content)
		reply.Content += piece
		if piece != "" {
			onDelta(piece)
		}
		if !fits {
			return errReplyTooLong
		}
		if !stored || a.now().Sub(lastSave) >= progressInterval {
			saveErr = save()
			return saveErr
		}
		return nil
	})
	if saveErr != nil {
		return memory.Message{}, saveErr
	}

	switch {
	case chatErr == nil:
		reply.Status = memory.StatusComplete
	case errors.Is(chatErr, context.Canceled) || errors.Is(chatErr, context.DeadlineExceeded):
		reply.Status = memory.StatusIncomplete
	case errors.Is(chatErr, errReplyTooLong):
		reply.Status = memory.StatusIncomplete
		_, reply.Error = backendMessage(chatErr)
	default:
		reply.Status = memory.StatusError
		_, reply.Error = backendMessage(chatErr)
	}
	if reply.Content == "" {
		return memory.Message{Status: reply.Status, Error: reply.Error}, chatErr
	}
	if err := save(); err != nil {
		return memory.Message{}, err
	}
	return reply, chatErr
}

// errReplyTooLong ends a reply that would not fit in one stored message.
var errReplyTooLong = &BackendError{
	Code:    CodeReplyTooLong,
	Message: fmt.Sprintf("The reply reached the limit of %d bytes for one message and was cut off here.", memory.MaxContentBytes),
	Err:     errors.New("reply exceeds the message size limit"),
}

// fitContent returns the part of piece that can be added to content without
// passing memory.MaxContentBytes, cut at a character boundary, and whether
// all of piece fits.
func fitContent(content, piece string) (string, bool) {
	room := memory.MaxContentBytes - len(content)
	if len(piece) <= room {
		return piece, true
	}
	cut := max(room, 0)
	for cut > 0 && !utf8.RuneStart(piece[cut]) {
		cut--
	}
	return piece[:cut], false
}

// prompt turns a thread's history into the messages sent to the model.
func (a *Agent) prompt(history []memory.Message) []ChatMessage {
	prompt := make([]ChatMessage, 0, len(history)+1)
	prompt = append(prompt, ChatMessage{Role: "system", Content: a.systemPrompt})
	for _, m := range history {
		if m.Content == "" || (m.Role != memory.RoleUser && m.Role != memory.RoleAssistant) {
			continue
		}
		prompt = append(prompt, ChatMessage{Role: string(m.Role), Content: m.Content})
	}
	return prompt
}
