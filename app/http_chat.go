package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"hearth/memory"
)

// maxClientRequestIDBytes bounds the client's own id for a chat request.
const maxClientRequestIDBytes = 128

// chatRequest is the body of POST /api/chat.
type chatRequest struct {
	Message         string `json:"message"`
	ThreadID        string `json:"threadId"`
	ClientRequestID string `json:"clientRequestId"`
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
	if strings.TrimSpace(req.Message) == "" {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "message", Message: "The message is empty; type something to send."}
	}
	if len(req.Message) > memory.MaxContentBytes {
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Field: "message",
			Message: fmt.Sprintf("The message is %d bytes long; the limit is %d bytes. Split it into shorter messages.", len(req.Message), memory.MaxContentBytes)}
	}
	if len(req.ClientRequestID) > maxClientRequestIDBytes || !utf8.ValidString(req.ClientRequestID) {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "clientRequestId", Message: "The clientRequestId must be valid text of at most 128 bytes."}
	}

	owner := u.owner()
	// The reply's context ends when the client goes away, when the stream
	// finds it cannot write, or on a stop request.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	thread, userMsg, release, err := a.storeChatMessage(r.Context(), u, req, cancel)
	if err != nil {
		return err
	}
	defer release()

	w.Header().Set("X-Thread-Id", thread.ID)
	stream := startUIStream(w, cancel, keepAliveInterval)
	defer stream.close()

	replyID := memory.NewID()
	textID := "text-" + replyID
	stream.send(streamPart{Type: "start", MessageID: replyID, MessageMetadata: map[string]string{"threadId": thread.ID, "userMessageId": userMsg.ID}})
	stream.send(streamPart{Type: "start-step"})
	stream.send(streamPart{Type: "text-start", ID: textID})

	reply, err := a.agent.ReplyStream(ctx, owner, thread.ID, replyID, ReplyEvents{
		// The UI shows under the reply which earlier messages it used.
		OnRecall: func(found []memory.Recalled) {
			if len(found) > 0 {
				stream.send(streamPart{Type: recallPartType, ID: "recall-" + replyID, Data: viewRecalled(found)})
			}
		},
		OnDelta: func(delta string) {
			stream.send(streamPart{Type: "text-delta", ID: textID, Delta: delta})
		},
	})

	stream.send(streamPart{Type: "text-end", ID: textID})
	if err != nil && !errors.Is(err, context.Canceled) {
		code, message := backendMessage(err)
		var be *BackendError
		if errors.As(err, &be) {
			a.log.Warn("reply failed", "thread", thread.ID, "profile", u.ID, "code", code, "err", err)
		} else {
			a.log.Error("reply failed", "thread", thread.ID, "profile", u.ID, "err", err)
		}
		stream.send(streamPart{Type: "error", ErrorText: message})
		if reply.ID == "" {
			a.noteFailedReply(r.Context(), owner, userMsg, message)
		}
	}
	status := reply.Status
	if status == "" {
		status = memory.StatusError
	}
	metadata := map[string]string{"status": string(status)}
	if reply.ID != "" {
		metadata["assistantMessageId"] = reply.ID
	}
	stream.send(streamPart{Type: "finish-step"})
	stream.send(streamPart{Type: "finish", MessageMetadata: metadata})
	stream.finish()
	return nil
}

// noteFailedReply stores on the user's message why no reply was written, so
// that the reason is still shown after the thread is reopened.
func (a *App) noteFailedReply(ctx context.Context, owner memory.Owner, userMsg memory.Message, reason string) {
	userMsg.Error = reason
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
		// The thread is stored with its first message, so a retry finds
		// both, and a rejected message leaves no empty thread behind.
		thread, userMsg, err = a.memory.StartThread(ctx, owner, "", msg)
		if err != nil {
			return memory.Thread{}, memory.Message{}, nil, chatMessageError(err, userMsg)
		}
		release, ok := a.generations.start(thread.ID, u.ID, cancel)
		if !ok {
			return memory.Thread{}, memory.Message{}, nil, replyRunningError()
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
	release, ok := a.generations.start(thread.ID, u.ID, cancel)
	if !ok {
		if req.ClientRequestID != "" {
			if stored, err := a.memory.MessageByRequest(ctx, owner, req.ClientRequestID); err == nil {
				return memory.Thread{}, memory.Message{}, nil, duplicateRequestError(stored)
			}
		}
		return memory.Thread{}, memory.Message{}, nil, replyRunningError()
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

// replyRunningError returns the error for a chat request to a thread whose
// reply is still being written.
func replyRunningError() *apiError {
	return &apiError{Status: http.StatusConflict, Code: CodeConflict, Message: "A reply is already being written in this thread. Stop it or wait for it to finish, then send again."}
}

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
