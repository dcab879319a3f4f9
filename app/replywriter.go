package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"hearth/memory"
)

// replyWriter stores a reply while it streams in. Saving uses a context
// that outlives the request's, because a stopped reply must still be
// stored.
type replyWriter struct {
	agent   *Agent
	owner   memory.Owner
	ctx     context.Context
	inStore bool // the reply was stored before this turn: Regenerate or Continue

	// mu guards the fields below it.
	mu         sync.Mutex
	reply      memory.Message
	received   bool          // a piece of text arrived in this turn
	startParts []memory.Part // the parts the reply had before this turn
	toolBytes  int           // bytes of the tool parts added in this turn
	started    bool          // this turn has saved the reply
	saved      string
	lastSave   time.Time
	saveErr    error

	stop chan struct{} // closed to end the saver
	done chan struct{} // closed when the saver has ended
	once sync.Once
}

// newReplyWriter prepares the reply of req and starts the saver. When the
// model goes silent, the saver stores the text received so far after the
// progress interval, so a crash loses at most that much of what the user has
// seen. Nothing is stored before the first piece of text.
func (a *Agent) newReplyWriter(ctx context.Context, owner memory.Owner, req ReplyRequest, modelName string) *replyWriter {
	w := &replyWriter{agent: a, owner: owner, ctx: context.WithoutCancel(ctx), stop: make(chan struct{}), done: make(chan struct{})}
	switch {
	case req.Regenerate != nil:
		old := *req.Regenerate
		w.reply = old
		w.reply.Versions = append(append([]memory.MessageVersion(nil), old.Versions...), memory.MessageVersion{
			Content: old.Content, Parts: old.Parts, Model: old.Model, Status: old.Status, Error: old.Error, CreatedAt: old.CreatedAt,
		})
		w.reply.Versions = keepRecentVersions(w.reply.Versions)
		w.reply.Content, w.reply.Parts, w.reply.Error = "", nil, ""
		w.reply.PromptTokens, w.reply.ReplyTokens = 0, 0
		w.inStore = true
	case req.Continue != nil:
		w.reply = *req.Continue
		w.reply.Error = ""
		w.inStore = true
	default:
		w.reply = memory.Message{ID: req.ReplyID, ThreadID: req.ThreadID, Role: memory.RoleAssistant}
	}
	w.reply.Model, w.reply.Status, w.reply.Streaming = modelName, memory.StatusIncomplete, true
	w.startParts = w.reply.Parts
	w.saved = w.reply.Content

	go w.saveWhileSilent()
	return w
}

// saveWhileSilent is the saver goroutine.
func (w *replyWriter) saveWhileSilent() {
	defer close(w.done)
	tick := time.NewTicker(w.agent.progress / 2)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
			w.mu.Lock()
			if w.started && w.saveErr == nil && w.reply.Content != w.saved && w.agent.now().Sub(w.lastSave) >= w.agent.progress {
				w.saveErr = w.saveLocked()
			}
			w.mu.Unlock()
		}
	}
}

// stopSaver ends the saver and waits for it. It may be called more than
// once.
func (w *replyWriter) stopSaver() {
	w.once.Do(func() { close(w.stop) })
	<-w.done
}

// add takes one chunk of the model's stream and returns the part of its
// text that was kept, which is all of it unless the reply outgrows
// memory.MaxContentBytes. The error stops the stream.
func (w *replyWriter) add(c ChatChunk) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.saveErr != nil {
		return "", w.saveErr
	}
	if c.Done {
		w.reply.PromptTokens = c.PromptTokens
		w.reply.ReplyTokens += c.ReplyTokens
	}
	if c.Content == "" {
		return "", nil
	}
	piece, fits := fitContent(w.reply.Content, c.Content)
	w.reply.Content += piece
	w.received = w.received || piece != ""
	if !fits {
		return piece, errReplyTooLong
	}
	if !w.started || w.agent.now().Sub(w.lastSave) >= w.agent.progress {
		w.saveErr = w.saveLocked()
	}
	return piece, w.saveErr
}

// maxStoredErrorBytes bounds the error text stored with a message, within
// the store's limit.
const maxStoredErrorBytes = 2000

// maxKeptToolBytes bounds the tool calls and results kept with a reply,
// well inside the store's limit on a message's parts. Arguments beyond it
// are replaced by a note of their size.
const maxKeptToolBytes = memory.MaxContentBytes / 2

// addTool records a tool call and its result as parts of the reply. They
// are saved with the reply's next save.
func (w *replyWriter) addTool(call ToolCall, result toolResult) {
	w.mu.Lock()
	defer w.mu.Unlock()
	input := toolInput(call.Arguments)
	if w.toolBytes+len(input)+len(result.Output) > maxKeptToolBytes {
		input, _ = json.Marshal(fmt.Sprintf("(%d bytes of arguments, not kept)", len(call.Arguments)))
	}
	w.toolBytes += len(input) + len(result.Output)
	w.reply.Parts = append(w.reply.Parts,
		memory.Part{Type: "tool-call", ToolCallID: call.ID, ToolName: call.Name, Input: input},
		memory.Part{Type: "tool-result", ToolCallID: call.ID, ToolName: call.Name, Output: result.Output, IsError: result.IsError})
}

// saveLocked stores the reply as it is now.
func (w *replyWriter) saveLocked() error {
	var out memory.Message
	var err error
	if w.started || w.inStore {
		out, err = w.agent.memory.UpdateMessage(w.ctx, w.owner, w.reply)
	} else {
		out, err = w.agent.memory.AppendMessage(w.ctx, w.owner, w.reply)
	}
	if err != nil {
		return err
	}
	w.started, w.saved = true, w.reply.Content
	w.reply.CreatedAt = out.CreatedAt
	w.lastSave = w.agent.now()
	return nil
}

// finish stores the reply's outcome after the model's stream ended with
// chatErr, and returns what ReplyStream returns.
func (w *replyWriter) finish(chatErr error) (memory.Message, error) {
	w.stopSaver()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.saveErr != nil {
		if w.started {
			// The reply is in the store, marked streaming: keep its text
			// as stopped, so that it is not left streaming until a
			// restart marks it interrupted.
			w.reply.Parts, w.reply.Streaming, w.reply.Status = nil, false, memory.StatusIncomplete
			w.reply.Error = shorten(w.saveErr.Error(), maxBackendMessage)
			if _, err := w.agent.memory.UpdateMessage(w.ctx, w.owner, w.reply); err != nil && w.agent.log != nil {
				w.agent.log.Error("mark a reply that failed to save as stopped", "thread", w.reply.ThreadID, "message", w.reply.ID, "err", err)
			}
		}
		return memory.Message{}, w.saveErr
	}

	w.reply.Streaming = false
	switch {
	case chatErr == nil:
		w.reply.Status = memory.StatusComplete
	case errors.Is(chatErr, context.Canceled) || errors.Is(chatErr, context.DeadlineExceeded):
		w.reply.Status = memory.StatusIncomplete
	default:
		// The text so far is kept, with the reason it stopped, so the user
		// can continue or regenerate it.
		w.reply.Status = memory.StatusIncomplete
		_, w.reply.Error = backendMessage(chatErr)
		w.reply.Error = shorten(w.reply.Error, maxStoredErrorBytes)
	}
	if !w.received && len(w.reply.Parts) == len(w.startParts) {
		// Neither text nor tool calls arrived: a new reply is not stored,
		// and a reply being regenerated or continued stays as it was.
		status := w.reply.Status
		if chatErr != nil && !errors.Is(chatErr, context.Canceled) {
			status = memory.StatusError
		}
		return memory.Message{Status: status, Error: w.reply.Error}, chatErr
	}
	if err := w.saveLocked(); err != nil {
		return memory.Message{}, err
	}
	return w.reply, chatErr
}

// Bounds on the earlier versions a regenerated reply keeps, well inside the
// store's limits on a message.
const (
	maxKeptVersions     = 20
	maxKeptVersionBytes = 4 * memory.MaxContentBytes
)

// keepRecentVersions drops the oldest versions beyond the bounds.
func keepRecentVersions(versions []memory.MessageVersion) []memory.MessageVersion {
	size := func(v memory.MessageVersion) int {
		n := len(v.Content)
		for _, p := range v.Parts {
			n += len(p.Input) + len(p.Output)
		}
		return n
	}
	total := 0
	for _, v := range versions {
		total += size(v)
	}
	for len(versions) > 1 && (len(versions) > maxKeptVersions || total > maxKeptVersionBytes) {
		total -= size(versions[0])
		versions = versions[1:]
	}
	return versions
}
