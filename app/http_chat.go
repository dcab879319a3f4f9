package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"hearth/memory"
)

// maxClientRequestIDBytes bounds the client's own id for a chat request.
const maxClientRequestIDBytes = 128

// chatRequest is the body of POST /api/chat: Hearth's own, with message,
// or the one the AI SDK's DefaultChatTransport sends, with id, messages and
// trigger.
type chatRequest struct {
	Message         string `json:"message"`
	ThreadID        string `json:"threadId"`
	ClientRequestID string `json:"clientRequestId"`

	// ID is the chat id of the AI SDK, which is the thread id.
	ID string `json:"id"`
	// Messages is the chat as the client holds it. Only the last message
	// is read: the history comes from the store.
	Messages []json.RawMessage `json:"messages"`
	// Trigger is "submit-message" or "regenerate-message".
	Trigger string `json:"trigger"`
	// MessageID names the message to regenerate.
	MessageID string `json:"messageId"`

	// chatID is the client's own chat id, sent as id, when it is not a
	// Hearth thread id: the thread bound to it is used, or made.
	chatID string
}

// The triggers of the AI SDK's chat requests.
const (
	triggerSubmit     = "submit-message"
	triggerRegenerate = "regenerate-message"
)

// uiMessage is the part of an AI SDK UIMessage that Hearth reads.
type uiMessage struct {
	ID    string `json:"id"`
	Role  string `json:"role"`
	Parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"parts"`
}

// isTransport reports whether req is the AI SDK's body.
func (req chatRequest) isTransport() bool {
	return req.Messages != nil || req.Trigger != "" || req.ID != "" || req.MessageID != ""
}

// fromTransport turns the AI SDK's body into Hearth's: the chat id becomes
// the thread id, the last message's text the message, and its id the
// clientRequestId, so that a retried request is recognised.
func (req chatRequest) fromTransport() (chatRequest, error) {
	if req.Message != "" || req.ThreadID != "" || req.ClientRequestID != "" {
		return chatRequest{}, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "messages",
			Message: "Send either message, threadId and clientRequestId, or the AI SDK's id, messages and trigger, not both."}
	}

	out := chatRequest{Trigger: req.Trigger, MessageID: req.MessageID}
	if memory.ValidID(req.ID) {
		out.ThreadID = req.ID
	} else if req.ID != "" {
		if err := memory.CheckChatID("id", req.ID); err != nil {
			return chatRequest{}, err
		}
		out.chatID = req.ID
	}

	switch req.Trigger {
	case triggerRegenerate:
		if req.ID == "" {
			return chatRequest{}, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "id",
				Message: "A regenerate-message request needs the id of the chat's thread."}
		}
		return out, nil
	case triggerSubmit:
	default:
		return chatRequest{}, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "trigger",
			Message: fmt.Sprintf("The trigger %q is not known; use submit-message or regenerate-message.", shorten(req.Trigger, 40))}
	}

	if len(req.Messages) == 0 {
		return chatRequest{}, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "messages",
			Message: "messages is empty; it must end with the user's new message."}
	}
	var last uiMessage
	if err := json.Unmarshal(req.Messages[len(req.Messages)-1], &last); err != nil {
		return chatRequest{}, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "messages",
			Message: "The last of messages is not a UI message with id, role and parts."}
	}
	if memory.Role(last.Role) != memory.RoleUser {
		return chatRequest{}, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "messages",
			Message: fmt.Sprintf("The last of messages has the role %q; a submit-message request must end with the user's message.", shorten(last.Role, 40))}
	}

	var text strings.Builder
	for _, p := range last.Parts {
		if p.Type != "text" {
			return chatRequest{}, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "messages",
				Message: fmt.Sprintf("The user's message has a part of type %q; Hearth accepts only text parts.", shorten(p.Type, 40))}
		}
		if text.Len() > 0 {
			text.WriteString("\n\n")
		}
		text.WriteString(p.Text)
	}

	if len(last.ID) > maxClientRequestIDBytes {
		return chatRequest{}, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "messages",
			Message: fmt.Sprintf("The id of the user's message is %d bytes long; the limit is %d.", len(last.ID), maxClientRequestIDBytes)}
	}
	out.Message, out.ClientRequestID = text.String(), last.ID
	return out, nil
}

// handleChat stores the user's message, then streams the assistant's reply
// as a UI message stream. Everything that can be checked is checked before
// the stream starts, so those errors are plain JSON errors; a failure of the
// model arrives as an error part inside the stream.
func (a *App) handleChat(w http.ResponseWriter, r *http.Request, u user) error {
	var req chatRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	messageField := "message"
	if req.isTransport() {
		var err error
		if req, err = req.fromTransport(); err != nil {
			return err
		}
		if req.chatID != "" {
			// A chat seen before continues in its thread.
			t, err := a.memory.ThreadByChat(r.Context(), u.owner(), req.chatID)
			switch {
			case err == nil:
				req.ThreadID, req.chatID = t.ID, ""
			case !errors.Is(err, memory.ErrNotFound) || req.Trigger == triggerRegenerate:
				return err
			}
		}
		if req.Trigger == triggerRegenerate {
			return a.regenerateLast(w, r, u, req.ThreadID, req.MessageID)
		}
		messageField = "messages"
	} else if err := checkThreadIDField("threadId", req.ThreadID); err != nil {
		return err
	}
	if err := checkChatMessage(messageField, req.Message); err != nil {
		return err
	}
	if len(req.ClientRequestID) > maxClientRequestIDBytes || !utf8.ValidString(req.ClientRequestID) {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "clientRequestId", Message: "The clientRequestId must be valid text of at most 128 bytes."}
	}

	ctx, cancel := a.replyContext(r)
	defer cancel()
	thread, userMsg, release, err := a.storeChatMessage(r.Context(), u, req, cancel)
	if err != nil {
		return err
	}
	defer release()
	a.streamReply(ctx, w, r, u, thread, userMsg, ReplyRequest{ThreadID: thread.ID, ReplyID: memory.NewID()}, cancel)
	return nil
}

// checkChatMessage checks the text of a message to send, sent in field.
func checkChatMessage(field, text string) error {
	if strings.TrimSpace(text) == "" {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: field, Message: "The message is empty; type something to send."}
	}
	if len(text) > memory.MaxContentBytes {
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Field: field,
			Message: fmt.Sprintf("The message is %d bytes long; the limit is %d bytes. Split it into shorter messages.", len(text), memory.MaxContentBytes)}
	}
	return nil
}

// replyContext returns the context a reply is written under. It ends on a
// stop request or when Hearth closes, and in the browser also when the
// client goes away. In the desktop window a reply goes on when the page
// stops reading, as when the user switches threads, and is there on return.
func (a *App) replyContext(r *http.Request) (context.Context, context.CancelFunc) {
	if a.keepRepliesOnDisconnect {
		return context.WithCancel(context.WithoutCancel(r.Context()))
	}
	return context.WithCancel(r.Context())
}

// streamReply writes the reply that req names as a UI message stream.
// userMsg is the message the reply is for, on which the reason is noted when no reply
// could be written at all.
func (a *App) streamReply(ctx context.Context, w http.ResponseWriter, r *http.Request, u user, thread memory.Thread, userMsg memory.Message, req ReplyRequest, cancel context.CancelFunc) {
	owner := u.owner()
	replyID := cmp.Or(messageIDOf(req.Regenerate), messageIDOf(req.Continue), req.ReplyID)
	w.Header().Set("X-Thread-Id", thread.ID)
	onBroken := cancel
	if a.keepRepliesOnDisconnect {
		onBroken = func() {}
	}
	stream := startUIStream(w, onBroken, keepAliveInterval)
	defer stream.close()

	textID := "text-" + replyID
	stream.send(streamPart{Type: "start", MessageID: replyID, MessageMetadata: map[string]string{"threadId": thread.ID, "userMessageId": userMsg.ID}})
	stream.send(streamPart{Type: "start-step"})
	stream.send(streamPart{Type: "text-start", ID: textID})

	var reply memory.Message
	turn, err := a.turnFor(ctx, u, thread)
	if err == nil {
		toolRound := 0
		reply, err = a.agent.ReplyStream(ctx, owner, turn, req, ReplyEvents{
			// The UI shows under the reply which earlier messages it used.
			OnRecall: func(found []memory.Recalled) {
				if len(found) > 0 {
					stream.send(streamPart{Type: recallPartType, ID: "recall-" + replyID, Data: viewRecalled(found)})
				}
			},
			OnContext: func(report ContextReport) {
				stream.send(streamPart{Type: contextPartType, ID: "context-" + replyID, Data: report})
			},
			OnDelta: func(delta string) {
				stream.send(streamPart{Type: "text-delta", ID: textID, Delta: delta})
			},
			OnToolCall: func(call ToolCall) {
				stream.send(streamPart{Type: "tool-input-available", ToolCallID: call.ID, ToolName: &call.Name, Input: toolInput(call.Arguments)})
			},
			OnToolResult: func(call ToolCall, output json.RawMessage, isError bool) {
				if isError {
					stream.send(streamPart{Type: "tool-output-error", ToolCallID: call.ID, ErrorText: string(output)})
					return
				}
				stream.send(streamPart{Type: "tool-output-available", ToolCallID: call.ID, Output: output})
			},
			OnWorkingMemory: func(change WorkingMemoryChange) {
				toolRound++
				stream.send(streamPart{Type: workingMemoryPartType, ID: fmt.Sprintf("wm-%s-%d", replyID, toolRound), Data: change})
			},
			OnRetry: func(wait time.Duration) {
				stream.send(streamPart{Type: retryPartType, ID: "retry-" + replyID, Transient: true, Data: map[string]int{"retryInSeconds": retryAfterSeconds(wait)}})
			},
		})
	}

	stream.send(streamPart{Type: "text-end", ID: textID})
	metadata := map[string]string{}
	if err != nil && !errors.Is(err, context.Canceled) {
		code, message := backendMessage(err)
		var be *BackendError
		if errors.As(err, &be) {
			a.log.Warn("reply failed", "thread", thread.ID, "profile", u.ID, "code", code, "err", loggedError(err))
			if be.Model != "" {
				metadata["missingModel"] = be.Model
			}
		} else {
			a.log.Error("reply failed", "thread", thread.ID, "profile", u.ID, "err", loggedError(err))
		}
		metadata["errorCode"] = code
		stream.send(streamPart{Type: "error", ErrorText: message})
		if reply.ID == "" && req.Regenerate == nil && req.Continue == nil && userMsg.ID != "" {
			a.noteFailedReply(r.Context(), owner, userMsg, message)
		}
	}
	if err == nil && reply.ID == "" {
		// The model ended without text or tool calls.
		metadata["errorCode"] = CodeEmptyReply
		stream.send(streamPart{Type: "error", ErrorText: emptyReplyMessage})
		if req.Regenerate == nil && req.Continue == nil && userMsg.ID != "" {
			a.noteFailedReply(r.Context(), owner, userMsg, emptyReplyMessage)
		}
	}
	metadata["status"] = string(cmp.Or(reply.Status, memory.StatusError))
	if reply.ID != "" {
		metadata["assistantMessageId"] = reply.ID
		if userMsg.Error != "" && req.Regenerate == nil && req.Continue == nil {
			// A reply now exists, so the reason none was written is moot.
			userMsg.Error = ""
			if _, err := a.memory.UpdateMessage(context.WithoutCancel(ctx), owner, userMsg); err != nil {
				a.log.Error("clear failed reply reason", "thread", thread.ID, "message", userMsg.ID, "err", err)
			}
		}
		if reply.Status == memory.StatusComplete {
			a.startTitle(u, thread)
		}
	}
	stream.send(streamPart{Type: "finish-step"})
	stream.send(streamPart{Type: "finish", MessageMetadata: metadata})
	stream.finish()
}

// CodeEmptyReply is the error code of a reply the model ended without
// writing anything. The frontend's copy is in frontend/src/api.ts.
const CodeEmptyReply = "empty_reply"

// emptyReplyMessage is the sentence shown for an empty reply.
const emptyReplyMessage = "The model ended its reply without writing anything. Regenerate to try again, or choose another model in Settings."

// Types of the chat stream's data parts besides data-recall. The
// frontend's copies are in frontend/src/chatStream.ts.
const (
	contextPartType       = "data-context"
	workingMemoryPartType = "data-working-memory"
	retryPartType         = "data-retry"
)

// messageIDOf returns m's id, or "" for nil.
func messageIDOf(m *memory.Message) string {
	if m == nil {
		return ""
	}
	return m.ID
}

// noteFailedReply stores on the user's message why no reply was written, so
// that the reason is still shown after the thread is reopened.
func (a *App) noteFailedReply(ctx context.Context, owner memory.Owner, userMsg memory.Message, reason string) {
	userMsg.Error = shorten(reason, maxStoredErrorBytes)
	if _, err := a.memory.UpdateMessage(context.WithoutCancel(ctx), owner, userMsg); err != nil {
		a.log.Error("store failed reply reason", "thread", userMsg.ThreadID, "message", userMsg.ID, "err", err)
	}
}

// storeChatMessage stores the user's message of a chat request, in a new
// thread when the request names none, and registers the reply about to be
// written in its thread. The caller calls release once the reply is stored.
// A retry of a request whose message is stored, known by its
// clientRequestId, stores nothing and returns a duplicate_request error that
// names the thread and message the first request stored.
func (a *App) storeChatMessage(ctx context.Context, u user, req chatRequest, cancel context.CancelFunc) (thread memory.Thread, userMsg memory.Message, release func(), err error) {
	owner := u.owner()
	msg := memory.Message{Role: memory.RoleUser, Content: req.Message, ClientRequestID: req.ClientRequestID}

	if req.ThreadID == "" {
		if a.generations.full(u.ID) {
			return memory.Thread{}, memory.Message{}, nil, a.startError(errTooManyReplies)
		}
		// The thread is stored with its first message, so a retry finds
		// both, and a rejected message leaves no empty thread behind.
		if req.chatID != "" {
			thread, userMsg, err = a.memory.StartChatThread(ctx, owner, req.chatID, msg)
		} else {
			thread, userMsg, err = a.memory.StartThread(ctx, owner, "", msg)
		}
		if errors.Is(err, memory.ErrChatTaken) {
			return memory.Thread{}, memory.Message{}, nil, &apiError{Status: http.StatusConflict, Code: CodeConflict, Field: "id",
				Message: "Another request started this chat at the same moment. Send the message again."}
		}
		if err != nil {
			return memory.Thread{}, memory.Message{}, nil, chatMessageError(err, userMsg)
		}
		release, err := a.generations.start(thread.ID, u.ID, cancel)
		if err != nil {
			// The message is stored; the reason no reply was written is
			// noted on it, so that it shows when the thread is opened.
			// Another request took the last place since the check above.
			rejected := a.startError(err)
			rejected.ThreadID, rejected.MessageID = thread.ID, userMsg.ID
			a.noteFailedReply(ctx, owner, userMsg, rejected.Message)
			return memory.Thread{}, memory.Message{}, nil, rejected
		}
		return thread, userMsg, release, nil
	}

	thread, err = a.memory.Thread(ctx, owner, req.ThreadID)
	if err != nil {
		return memory.Thread{}, memory.Message{}, nil, err
	}
	// A request for a thread whose reply is still being written is refused
	// before its message is stored, unless it is a retry of the request
	// that started that reply.
	release, err = a.generations.start(thread.ID, u.ID, cancel)
	if err != nil {
		if req.ClientRequestID != "" && errors.Is(err, errThreadBusy) {
			if stored, err := a.memory.MessageByRequest(ctx, owner, req.ClientRequestID); err == nil {
				return memory.Thread{}, memory.Message{}, nil, duplicateRequestError(stored)
			}
		}
		return memory.Thread{}, memory.Message{}, nil, a.startError(err)
	}
	msg.ThreadID = thread.ID
	userMsg, err = a.memory.AppendMessage(ctx, owner, msg)
	if err != nil {
		release()
		return memory.Thread{}, memory.Message{}, nil, chatMessageError(err, userMsg)
	}
	return thread, userMsg, release, nil
}

// chatMessageError translates an error from storing a chat message. A
// duplicate becomes a duplicate_request error that names stored, the user's
// message of the first request.
func chatMessageError(err error, stored memory.Message) error {
	if errors.Is(err, memory.ErrDuplicate) {
		return duplicateRequestError(stored)
	}
	return err
}

// duplicateRequestError returns the error for a chat request whose
// clientRequestId already stored a message, stored.
func duplicateRequestError(stored memory.Message) *apiError {
	return &apiError{
		Status: http.StatusConflict, Code: CodeDuplicateRequest, Field: "clientRequestId",
		ThreadID: stored.ThreadID, MessageID: stored.ID,
		Message: "This message was already sent with the same clientRequestId and is stored. Open the thread named by threadId to see it and its reply instead of sending it again.",
	}
}

// startError translates the reason generations.start refused a reply.
func (a *App) startError(err error) *apiError {
	if errors.Is(err, errTooManyReplies) {
		return &apiError{Status: http.StatusTooManyRequests, Code: CodeRateLimited, RetryAfter: tooManyRepliesRetry,
			Message: fmt.Sprintf("Hearth is already writing %d replies for you. Wait for one to finish or stop it, then send again.", a.generations.limit)}
	}
	return &apiError{Status: http.StatusConflict, Code: CodeConflict, Message: "A reply is already being written in this thread. Stop it or wait for it to finish, then send again."}
}

// tooManyRepliesRetry is the Retry-After of a reply refused because the
// profile has too many running.
const tooManyRepliesRetry = 5 * time.Second

// handleStopChat cancels the reply being written in a thread. It answers 204
// whether or not a reply was running, so that a stop racing the reply's end
// is not an error.
func (a *App) handleStopChat(w http.ResponseWriter, r *http.Request, u user) error {
	threadID := r.PathValue("threadId")
	if _, err := a.memory.Thread(r.Context(), u.owner(), threadID); err != nil {
		return err
	}
	a.generations.stop(threadID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
