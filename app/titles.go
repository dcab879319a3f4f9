package app

import (
	"context"
	"strings"
	"time"
	"unicode"

	"hearth/memory"
)

// Titles written in the background after a thread's first reply.
const (
	// titleTimeout bounds the model's work on a title.
	titleTimeout = 60 * time.Second
	// maxTitleRunes bounds a title's length.
	maxTitleRunes = 80
	// fallbackTitleWords is how many words of the first message make the
	// title when the model cannot write one.
	fallbackTitleWords = 6
	// maxTitleSourceBytes bounds how much of each message the model reads
	// to write a title.
	maxTitleSourceBytes = 2000
)

// titleInstruction is the system prompt of a title request.
const titleInstruction = "Write a short title, at most six words, for the conversation below. " +
	"Reply with the title only: no quotes, no Markdown, no full stop at the end."

// startTitle writes a title for thread in the background when it still
// has the default title, once its first reply is stored. The job holds its
// own copy of the profile's data key, and is stopped when the profile
// locks.
func (a *App) startTitle(u user, thread memory.Thread) {
	if a.skipTitles || thread.Title != memory.DefaultThreadTitle {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), titleTimeout)
	release, ok := a.generations.startJob("title/"+thread.ID, u.ID, cancel)
	if !ok {
		cancel()
		return
	}
	go func() {
		defer a.idle.backgroundWork()
		defer release()
		defer cancel()
		key, err := a.profiles.DataKey(u.ID)
		if err != nil {
			return // locked since: the title can wait for the next reply
		}
		defer key.Wipe()
		// The request's copy of the key is wiped when it ends.
		u := user{Profile: u.Profile, key: key}
		if err := a.writeTitle(ctx, u, u.owner(), thread.ID); err != nil {
			a.log.Warn("write thread title", "thread", thread.ID, "profile", u.ID, "err", loggedError(err))
		}
	}()
}

// writeTitle requests a title for a thread from the model and stores it, or
// the first words of the first message when the model fails. A title the user
// set in the meantime is kept.
func (a *App) writeTitle(ctx context.Context, u user, owner memory.Owner, threadID string) error {
	thread, err := a.memory.Thread(ctx, owner, threadID)
	if err != nil {
		return err
	}
	first, err := a.memory.MessagesBefore(ctx, owner, threadID, "", memory.MaxLastMessages)
	if err != nil {
		return err
	}
	first = promptable(first)
	if len(first) == 0 {
		return nil
	}
	if len(first) > 2 {
		first = first[:2]
	}

	title := ""
	if turn, err := a.turnFor(ctx, u, thread); err == nil {
		title = a.modelTitle(ctx, turn, first)
	}
	if title == "" {
		title = fallbackTitle(first[0].Content)
	}

	// The user may have named the thread while the model wrote.
	thread, err = a.memory.Thread(ctx, owner, threadID)
	if err != nil || thread.Title != memory.DefaultThreadTitle {
		return err
	}
	_, err = a.memory.UpdateThread(ctx, owner, threadID, memory.ThreadUpdate{Title: &title})
	return err
}

// modelTitle requests a title for the messages from turn's title model. It
// returns "" when the model fails or writes nothing usable.
func (a *App) modelTitle(ctx context.Context, turn Turn, messages []memory.Message) string {
	var conversation strings.Builder
	for _, m := range messages {
		conversation.WriteString(string(m.Role))
		conversation.WriteString(": ")
		conversation.WriteString(shorten(m.Content, maxTitleSourceBytes))
		conversation.WriteString("\n\n")
	}

	temperature := 0.2
	req := ChatRequest{
		Model:       turn.TitleModel,
		Messages:    []ChatMessage{{Role: "system", Content: titleInstruction}, {Role: "user", Content: conversation.String()}},
		Temperature: &temperature,
	}
	if req.Model == "" {
		req.Model = turn.ModelName
	}
	// The chat's window, so that Ollama does not load the model again for
	// a different num_ctx.
	if window, err := a.agent.contextLength(ctx, Turn{Model: turn.Model, ContextLength: turn.ContextLength}, req.Model); err == nil {
		req.ContextLength = window
	}

	var reply strings.Builder
	err := turn.Model.Chat(ctx, req, func(c ChatChunk) error {
		if reply.Len()+len(c.Content) > maxTitleSourceBytes {
			return errTitleTooLong
		}
		reply.WriteString(c.Content)
		return nil
	})
	if err != nil {
		return ""
	}
	return cleanTitle(reply.String())
}

// errTitleTooLong stops a model that writes more than a title.
var errTitleTooLong = &BackendError{Code: CodeReplyTooLong, Message: "The title is too long."}

// cleanTitle turns a model's output into a title: its first line without
// quotes, Markdown marks and a full stop, at most maxTitleRunes long.
func cleanTitle(s string) string {
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		line = strings.TrimLeft(line, "#*-> ")
		line = strings.TrimPrefix(line, "Title:")
		line = strings.Trim(strings.TrimSpace(line), "\"'`*_“”‘’«»")
		line = strings.TrimRight(line, ".")
		if line != "" {
			return limitRunes(strings.Join(strings.Fields(line), " "), maxTitleRunes)
		}
	}
	return ""
}

// fallbackTitle is the title made of the first words of a message.
func fallbackTitle(message string) string {
	words := strings.FieldsFunc(message, func(r rune) bool { return unicode.IsSpace(r) })
	if len(words) == 0 {
		return memory.DefaultThreadTitle
	}
	title := strings.Join(words[:min(len(words), fallbackTitleWords)], " ")
	if len(words) > fallbackTitleWords {
		title += "…"
	}
	return limitRunes(title, maxTitleRunes)
}

// limitRunes cuts s to at most n characters, marking the cut with an
// ellipsis.
func limitRunes(s string, n int) string {
	runes := []rune(s)
	if len(runes) <= n {
		return s
	}
	return string(runes[:n-1]) + "…"
}
