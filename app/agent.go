package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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

// Agent writes the assistant's replies: it builds the prompt from the
// profile's instructions, working memory, recalled messages and the thread's
// history, streams the model's answer to the caller, carries out the
// model's tool calls and stores the reply.
type Agent struct {
	memory   *memory.Store
	recall   *memory.Recall // nil: no semantic recall
	log      *slog.Logger   // nil: no logging
	tokens   *tokenEstimator
	now      func() time.Time
	progress time.Duration // see progressInterval
}

// NewAgent returns an Agent that reads and writes threads in store.
func NewAgent(store *memory.Store) *Agent {
	return &Agent{memory: store, tokens: newTokenEstimator(), now: time.Now, progress: progressInterval}
}

// Turn is the part of a profile's settings and a thread's choices that
// shapes one reply. App.turnFor builds it from the stored settings.
type Turn struct {
	// Model is the backend that writes the reply.
	Model Model
	// ModelName is the model to ask; empty means the backend's default.
	ModelName string
	// TitleModel is the model that writes thread titles; empty means
	// ModelName.
	TitleModel string
	// ContextLength is the context window to fill, in tokens; 0 means the
	// model's own, as Model.ContextLength reports it.
	ContextLength int
	// Temperature overrides the model's default when set.
	Temperature *float64
	// SystemPrompt replaces DefaultSystemPrompt when not empty.
	SystemPrompt string
	// LastMessages is how many of the thread's newest messages go into the
	// prompt; 0 means none besides the new one.
	LastMessages int
	// WorkingMemoryTemplate is the empty form of the working memory
	// document, shown to the model while the document is empty.
	WorkingMemoryTemplate string
	// WorkingMemoryScope is "resource", one document for the profile, or
	// "thread", one per thread.
	WorkingMemoryScope string
	// Recall is the semantic recall of earlier messages for the reply.
	Recall TurnRecall
}

// TurnRecall is the semantic recall of one reply. Its zero value recalls
// with memory's defaults.
type TurnRecall struct {
	// Disabled leaves recalled messages out of the prompt.
	Disabled bool
	// TopK, MessageRange and Scope are read as memory.RecallQuery reads
	// them: 0 or empty means memory's default, and a negative MessageRange
	// means no messages around a match.
	TopK         int
	MessageRange int
	Scope        memory.RecallScope
}

// Working memory scopes.
const (
	ScopeResource = "resource"
	ScopeThread   = "thread"
)

// DefaultWorkingMemoryTemplate is the working memory document a profile
// starts with, as Mastra's default template.
const DefaultWorkingMemoryTemplate = `# About the user

- **Name**:
- **Preferences**:
- **Ongoing projects**:
- **Important facts**:
`

// ReplyEvents receives what happens while a reply is written. Each
// callback may be nil.
type ReplyEvents struct {
	// OnRecall is called once, before the model is asked, with the recalled
	// messages that fit in the prompt (possibly none).
	OnRecall func([]memory.Recalled)
	// OnContext is called once, before the model is asked, when messages
	// were left out of the prompt to fit the context window.
	OnContext func(ContextReport)
	// OnDelta is called with each piece of text as it arrives.
	OnDelta func(string)
	// OnToolCall and OnToolResult are called for each tool call the model
	// makes and its result.
	OnToolCall   func(ToolCall)
	OnToolResult func(call ToolCall, output json.RawMessage, isError bool)
	// OnWorkingMemory is called after the model changed the working memory.
	OnWorkingMemory func(WorkingMemoryChange)
	// OnRetry is called when the backend waits before trying again.
	OnRetry func(wait time.Duration)
}

// ContextReport describes how a prompt was fitted into the context window.
type ContextReport struct {
	OmittedMessages int `json:"omittedMessages"`
	OmittedRecalled int `json:"omittedRecalled"`
	ContextLength   int `json:"contextLength"`
	PromptTokens    int `json:"promptTokens"`
}

// ReplyRequest names the reply to write.
type ReplyRequest struct {
	ThreadID string
	// ReplyID is the id of a new reply, which the caller may already have
	// sent to its client. Ignored when Regenerate or Continue is set.
	ReplyID string
	// Regenerate, when set, is the thread's last reply, to be written
	// again. Its text is kept as an earlier version.
	Regenerate *memory.Message
	// Continue, when set, is a reply that was cut off, to be taken up
	// where it stopped.
	Continue *memory.Message
}

// ReplyStream requests from the model the reply to the newest user message
// of a thread and reports each event to ev. The reply is stored from its
// first piece of text on, marked streaming while it is written and saved at
// least every progressInterval, also while the model is silent.
//
// The reply ends as complete, or as incomplete when ctx ends first or the
// backend fails midway, with the backend's error. A reply with neither text
// nor tool calls is not stored. Afterwards the thread's new messages are
// queued for embedding.
//
// ReplyStream returns the stored message, or when none was stored a message
// with an empty ID that carries only the status and error, together with
// the error that ended the reply early, if any: ctx's error or a
// *BackendError. A reply that outgrows memory.MaxContentBytes is cut there
// and stored as incomplete.
func (a *Agent) ReplyStream(ctx context.Context, owner memory.Owner, turn Turn, req ReplyRequest, ev ReplyEvents) (memory.Message, error) {
	if a.recall != nil {
		defer a.recall.Enqueue(owner, req.ThreadID)
	}
	modelName := cmp.Or(turn.ModelName, turn.Model.Describe().Model)
	// Token counts are calibrated per server and model, so that one
	// profile's server cannot skew another's estimates.
	tokenKey := turn.Model.Describe().Kind + " " + turn.Model.Describe().URL + " " + modelName

	// Step 1: the parts of the prompt, from the store and from recall.
	parts, wm, err := a.promptParts(ctx, owner, turn, req)
	if err != nil {
		return memory.Message{}, err
	}
	// Step 2: fit them into the model's window.
	window, err := a.contextLength(ctx, turn, modelName)
	if err != nil {
		return memory.Message{Status: memory.StatusError}, err
	}
	fitted, err := parts.fit(window-replyReserve(window), a.tokens, tokenKey)
	if err != nil {
		return memory.Message{Status: memory.StatusError}, err
	}
	// The UI lists the recalled messages the prompt kept.
	if ev.OnRecall != nil {
		ev.OnRecall(fitted.recalled)
	}
	// The working memory is never trimmed, so the model may not make it
	// take more than half of the prompt.
	wm.model, wm.maxTokens = tokenKey, (window-replyReserve(window))/2
	if (fitted.omittedMessages > 0 || fitted.omittedRecalled > 0) && ev.OnContext != nil {
		ev.OnContext(ContextReport{OmittedMessages: fitted.omittedMessages, OmittedRecalled: fitted.omittedRecalled, ContextLength: window, PromptTokens: fitted.estimate})
	}

	// Step 3: the reply as it will be stored.
	w := a.newReplyWriter(ctx, owner, req, modelName)
	w.reply.OmittedMessages, w.reply.OmittedRecalled = fitted.omittedMessages, fitted.omittedRecalled
	defer w.stopSaver()

	// Step 4: ask the model, carrying out its tool calls, for at most
	// maxToolRounds rounds of them.
	prompt := fitted.messages
	usedIDs := map[string]bool{}
	var chatErr error
	for round := 0; ; round++ {
		chatReq := ChatRequest{Model: turn.ModelName, Messages: prompt, ContextLength: window, Temperature: turn.Temperature}
		if round < maxToolRounds {
			chatReq.Tools = parts.tools
		}
		var roundText strings.Builder
		var calls []ToolCall
		callBytes := 0
		chatErr = turn.Model.Chat(ctx, chatReq, func(c ChatChunk) error {
			if c.RetryIn > 0 && ev.OnRetry != nil {
				ev.OnRetry(c.RetryIn)
			}
			if c.Done && round == 0 && c.PromptTokens > 0 {
				a.tokens.calibrate(tokenKey, fitted.estimate, c.PromptTokens)
			}
			for _, call := range c.ToolCalls {
				callBytes += len(call.Arguments)
			}
			calls = append(calls, c.ToolCalls...)
			if len(calls) > maxToolCallsPerRound || callBytes > maxToolArgumentBytes {
				return errToolCallsTooLarge
			}
			piece, err := w.add(c)
			roundText.WriteString(piece)
			if piece != "" && ev.OnDelta != nil {
				ev.OnDelta(piece)
			}
			return err
		})
		if chatErr != nil || len(calls) == 0 {
			break
		}
		if round >= maxToolRounds {
			// Tools were not offered this round, so calls are ignored.
			if a.log != nil {
				a.log.Warn("model called tools after the last tool round", "thread", req.ThreadID, "calls", len(calls))
			}
			break
		}
		calls = uniqueCallIDs(calls, round, usedIDs)
		prompt = append(prompt, ChatMessage{Role: string(memory.RoleAssistant), Content: roundText.String(), ToolCalls: calls})
		for _, call := range calls {
			if ev.OnToolCall != nil {
				ev.OnToolCall(call)
			}
			result, err := a.runTool(context.WithoutCancel(ctx), owner, wm, call)
			if err != nil {
				chatErr = err
				break
			}
			w.addTool(call, result)
			if ev.OnToolResult != nil {
				ev.OnToolResult(call, result.Output, result.IsError)
			}
			if result.Change != nil && ev.OnWorkingMemory != nil {
				ev.OnWorkingMemory(*result.Change)
			}
			prompt = append(prompt, ChatMessage{Role: "tool", Content: string(result.Output), ToolCallID: call.ID, ToolName: call.Name})
		}
		if chatErr != nil || ctx.Err() != nil {
			chatErr = cmp.Or(chatErr, ctx.Err())
			break
		}
	}

	// Step 5: store the outcome.
	return w.finish(chatErr)
}

// promptParts gathers what goes into the prompt: the instructions, the
// working memory, the thread's history and the recalled messages.
func (a *Agent) promptParts(ctx context.Context, owner memory.Owner, turn Turn, req ReplyRequest) (promptParts, *workingMemoryState, error) {
	p := promptParts{system: cmp.Or(turn.SystemPrompt, DefaultSystemPrompt), tools: []Tool{workingMemoryTool}}

	// The history ends with the message the reply is for: the newest
	// message, or for Regenerate and Continue the one before that reply.
	beforeID := ""
	switch {
	case req.Regenerate != nil:
		beforeID = req.Regenerate.ID
	case req.Continue != nil:
		beforeID = req.Continue.ID
		p.continuing = req.Continue.Content
	}
	history, err := a.memory.MessagesBefore(ctx, owner, req.ThreadID, beforeID, turn.LastMessages+1)
	if err != nil {
		return promptParts{}, nil, err
	}
	history = promptable(history)
	if n := len(history); n > 0 && history[n-1].Role == memory.RoleUser {
		p.newMessage = history[n-1]
		history = history[:n-1]
	}
	if len(history) > turn.LastMessages {
		history = history[len(history)-turn.LastMessages:]
	}
	p.history = history

	wm := &workingMemoryState{template: cmp.Or(turn.WorkingMemoryTemplate, DefaultWorkingMemoryTemplate)}
	if turn.WorkingMemoryScope == ScopeThread {
		wm.threadID = req.ThreadID
	}
	wm.doc, err = a.memory.WorkingMemory(ctx, owner, wm.threadID)
	if err != nil {
		return promptParts{}, nil, err
	}
	if wm.doc.Damaged {
		// A document that does not open cannot be shown or replaced.
		if a.log != nil {
			a.log.Warn("working memory does not open; replying without it", "thread", req.ThreadID)
		}
		p.tools = nil
	} else {
		if !a.supportsTools(ctx, turn) {
			p.tools = nil
		}
		p.workingMemory = workingMemoryBlock(wm.doc, wm.template, len(p.tools) > 0)
	}

	exclude := make([]string, 0, len(history)+2)
	for _, m := range history {
		exclude = append(exclude, m.ID)
	}
	if p.newMessage.ID != "" {
		exclude = append(exclude, p.newMessage.ID)
	}
	if beforeID != "" {
		// The reply being written again is not a memory of the past.
		exclude = append(exclude, beforeID)
	}
	p.recalled = a.recalled(ctx, owner, turn.Recall, req.ThreadID, p.newMessage.Content, exclude)
	return p, wm, nil
}

// uniqueCallIDs gives each call an id not used before in the reply, since
// backends that send none number the calls from 1 in every round, and the
// stored parts and the UI match results to calls by id.
func uniqueCallIDs(calls []ToolCall, round int, used map[string]bool) []ToolCall {
	for i := range calls {
		if calls[i].ID == "" || used[calls[i].ID] {
			calls[i].ID = fmt.Sprintf("call_r%d_%d", round+1, i+1)
		}
		used[calls[i].ID] = true
	}
	return calls
}

// toolChecker is a Model that reports whether a model can call tools.
type toolChecker interface {
	SupportsTools(ctx context.Context, model string) (bool, error)
}

// supportsTools reports whether turn's model can call tools. Models whose
// backend does not report it are offered them. A failed check is reported
// by the chat request that follows.
func (a *Agent) supportsTools(ctx context.Context, turn Turn) bool {
	checker, ok := turn.Model.(toolChecker)
	if !ok {
		return true
	}
	tools, err := checker.SupportsTools(ctx, turn.ModelName)
	return err != nil || tools
}

// promptable keeps the messages a prompt can show: user and assistant
// messages with text that opens.
func promptable(messages []memory.Message) []memory.Message {
	kept := messages[:0:0]
	for _, m := range messages {
		if m.Damaged || strings.TrimSpace(m.Content) == "" || (m.Role != memory.RoleUser && m.Role != memory.RoleAssistant) {
			continue
		}
		kept = append(kept, m)
	}
	return kept
}

// contextLength returns the window to fill for a turn: the settings' value,
// or the model's own capped at maxDefaultOllamaContext for Ollama, or
// fallbackContextLength when the backend reports none. Asking the backend
// also finds a model that is not installed or a server that is down before
// anything is streamed.
func (a *Agent) contextLength(ctx context.Context, turn Turn, modelName string) (int, error) {
	if turn.ContextLength > 0 {
		return turn.ContextLength, nil
	}
	n, err := turn.Model.ContextLength(ctx, modelName)
	if err != nil {
		return 0, err
	}
	if n <= 0 {
		return fallbackContextLength, nil
	}
	if turn.Model.Describe().Kind == BackendOllama {
		n = min(n, maxDefaultOllamaContext)
	}
	return n, nil
}

// recalled returns the earlier messages of owner most like query, as
// settings chooses them, leaving out those already in the prompt. Recall
// must never stop a reply: a failure is logged and the reply goes on
// without.
func (a *Agent) recalled(ctx context.Context, owner memory.Owner, settings TurnRecall, threadID, query string, exclude []string) []memory.Recalled {
	if a.recall == nil || settings.Disabled || strings.TrimSpace(query) == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, recallTimeout)
	defer cancel()
	found, err := a.recall.Search(ctx, owner, memory.RecallQuery{
		Text: query, ThreadID: threadID, Exclude: exclude,
		TopK: settings.TopK, MessageRange: settings.MessageRange, Scope: settings.Scope,
	})
	if err != nil {
		if a.log != nil {
			a.log.Warn("recall failed; replying without recalled messages", "thread", threadID, "err", loggedError(err))
		}
		return nil
	}
	return found
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
