package app

import (
	"context"
	"errors"
	"net/http"

	"hearth/memory"
)

// editRequest is the body of PUT /api/threads/{threadId}/messages/{messageId}.
type editRequest struct {
	Content string `json:"content"`
}

// handleRegenerate serves POST .../messages/{messageId}/regenerate for the
// thread's last message. A reply is written anew and its old text kept as
// an earlier version. A user message left without a reply gets one.
func (a *App) handleRegenerate(w http.ResponseWriter, r *http.Request, u user) error {
	return a.regenerateLast(w, r, u, r.PathValue("threadId"), r.PathValue("messageId"))
}

// regenerateLast writes anew the reply to the last message of threadID,
// which must be messageID when that is given.
func (a *App) regenerateLast(w http.ResponseWriter, r *http.Request, u user, threadID, messageID string) error {
	if messageID == "" {
		last, err := a.memory.LastMessages(r.Context(), u.owner(), threadID, 1)
		if err != nil {
			return err
		}
		if len(last) == 0 {
			return &apiError{Status: http.StatusConflict, Code: CodeConflict, Message: "This thread has no message to regenerate a reply to."}
		}
		messageID = last[0].ID
	}
	thread, target, userMsg, err := a.lastMessageTarget(r.Context(), u, threadID, messageID)
	if err != nil {
		return err
	}
	req := ReplyRequest{ThreadID: thread.ID, ReplyID: memory.NewID()}
	if target.Role == memory.RoleAssistant {
		req.Regenerate = &target
	}
	return a.replyTo(w, r, u, thread, userMsg, req)
}

// handleContinue serves POST .../messages/{messageId}/continue: a reply that
// was stopped, cut off or interrupted is taken up where it ended.
func (a *App) handleContinue(w http.ResponseWriter, r *http.Request, u user) error {
	thread, target, userMsg, err := a.lastMessageTarget(r.Context(), u, r.PathValue("threadId"), r.PathValue("messageId"))
	if err != nil {
		return err
	}
	if target.Role != memory.RoleAssistant || target.Status == memory.StatusComplete || target.Content == "" {
		return &apiError{Status: http.StatusConflict, Code: CodeConflict, Field: "messageId",
			Message: "Only a reply that was stopped or cut off can be continued; this one is finished. Use Regenerate to write it again."}
	}
	return a.replyTo(w, r, u, thread, userMsg, ReplyRequest{ThreadID: thread.ID, Continue: &target})
}

// handleEditMessage serves PUT .../messages/{messageId}: a user message is
// sent again with new text in a fork of the thread that ends before it, so
// the old branch stays as it was. The new thread is named in X-Thread-Id.
func (a *App) handleEditMessage(w http.ResponseWriter, r *http.Request, u user) error {
	var req editRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := checkChatMessage("content", req.Content); err != nil {
		return err
	}
	owner := u.owner()
	threadID, messageID := r.PathValue("threadId"), r.PathValue("messageId")
	around, err := a.memory.MessageWithNeighbours(r.Context(), owner, threadID, messageID, 1)
	if err != nil {
		return err
	}
	index := -1
	for i, m := range around {
		if m.ID == messageID {
			index = i
		}
	}
	if index < 0 {
		return &apiError{Status: http.StatusNotFound, Code: CodeNotFound, Message: msgMessageNotFound}
	}
	if around[index].Role != memory.RoleUser {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "messageId", Message: "Only your own messages can be edited; use Regenerate for a reply."}
	}
	if a.generations.full(u.ID) {
		return a.startError(errTooManyReplies)
	}

	// The fork holds the messages before the edited one, and then the new
	// text; a first message starts a thread of its own.
	msg := memory.Message{Role: memory.RoleUser, Content: req.Content}
	var thread memory.Thread
	var userMsg memory.Message
	if index == 0 {
		thread, userMsg, err = a.memory.StartThread(r.Context(), owner, "", msg)
		// A branch keeps its thread's model, as a fork does.
		if old, oldErr := a.memory.Thread(r.Context(), owner, threadID); err == nil && oldErr == nil && old.Model != "" {
			thread, err = a.memory.UpdateThread(r.Context(), owner, thread.ID, memory.ThreadUpdate{Model: &old.Model})
		}
	} else {
		thread, err = a.memory.ForkThread(r.Context(), owner, threadID, around[index-1].ID)
		if err == nil {
			msg.ThreadID = thread.ID
			userMsg, err = a.memory.AppendMessage(r.Context(), owner, msg)
		}
	}
	if err != nil {
		return err
	}
	ctx, cancel := a.replyContext(r)
	defer cancel()
	release, err := a.generations.start(thread.ID, u.ID, cancel)
	if err != nil {
		// Another reply took the last place since the check above. The
		// branch would hold a message without a reply, so it goes.
		if delErr := a.memory.DeleteThread(context.WithoutCancel(r.Context()), owner, thread.ID); delErr != nil {
			a.log.Error("delete the thread of a rejected edit failed", "thread", thread.ID, "profile", u.ID, "err", delErr)
		}
		return a.startError(err)
	}
	defer release()
	a.streamReply(ctx, w, r, u, thread, userMsg, ReplyRequest{ThreadID: thread.ID, ReplyID: memory.NewID()}, cancel)
	return nil
}

// replyTo registers the reply that req names and streams it.
func (a *App) replyTo(w http.ResponseWriter, r *http.Request, u user, thread memory.Thread, userMsg memory.Message, req ReplyRequest) error {
	ctx, cancel := a.replyContext(r)
	defer cancel()
	release, err := a.generations.start(thread.ID, u.ID, cancel)
	if err != nil {
		return a.startError(err)
	}
	defer release()
	a.streamReply(ctx, w, r, u, thread, userMsg, req, cancel)
	return nil
}

// lastMessageTarget returns the thread, its last message, which must be
// messageID, and the user message that the reply is for (the message itself
// when it is a user message).
func (a *App) lastMessageTarget(ctx context.Context, u user, threadID, messageID string) (memory.Thread, memory.Message, memory.Message, error) {
	owner := u.owner()
	thread, err := a.memory.Thread(ctx, owner, threadID)
	if err != nil {
		return memory.Thread{}, memory.Message{}, memory.Message{}, err
	}
	last, err := a.memory.LastMessages(ctx, owner, threadID, 2)
	if err != nil {
		return memory.Thread{}, memory.Message{}, memory.Message{}, err
	}
	if len(last) == 0 || last[len(last)-1].ID != messageID {
		if _, err := a.memory.MessageWithNeighbours(ctx, owner, threadID, messageID, 0); errors.Is(err, memory.ErrNotFound) {
			return memory.Thread{}, memory.Message{}, memory.Message{}, &apiError{Status: http.StatusNotFound, Code: CodeNotFound, Field: "messageId", Message: msgMessageNotFound}
		}
		return memory.Thread{}, memory.Message{}, memory.Message{}, &apiError{Status: http.StatusConflict, Code: CodeConflict, Field: "messageId",
			Message: "Only the last message of a thread can be regenerated or continued. Edit an earlier message of yours to branch from it instead."}
	}
	target := last[len(last)-1]
	userMsg := target
	if target.Role == memory.RoleAssistant {
		userMsg = memory.Message{}
		if len(last) == 2 && last[0].Role == memory.RoleUser {
			userMsg = last[0]
		}
	}
	if target.Role != memory.RoleAssistant && target.Role != memory.RoleUser {
		return memory.Thread{}, memory.Message{}, memory.Message{}, &apiError{Status: http.StatusConflict, Code: CodeConflict, Field: "messageId",
			Message: "This message cannot be regenerated."}
	}
	return thread, target, userMsg, nil
}
