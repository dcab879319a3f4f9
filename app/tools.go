package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"hearth/memory"
)

// maxToolRounds is how many rounds of tool calls one user message may cause.
// After that the model is asked once more without tools, so the turn ends
// with a reply.
const maxToolRounds = 3

// workingMemoryToolName is the tool through which the model replaces its
// working memory, named as in Mastra.
const workingMemoryToolName = "updateWorkingMemory"

// workingMemoryTool offers the model the whole-document replacement of its
// working memory.
var workingMemoryTool = Tool{
	Name:        workingMemoryToolName,
	Description: "Replace your working memory about the user with a new version of the whole Markdown document.",
	Parameters: json.RawMessage(`{"type":"object","properties":{"memory":{"type":"string",` +
		`"description":"The whole new working memory document in Markdown. It replaces the current one."}},"required":["memory"]}`),
}

// WorkingMemoryChange is a change the model made to the working memory, as
// the UI shows it.
type WorkingMemoryChange struct {
	ThreadID        string `json:"threadId,omitempty"`
	Version         int    `json:"version"`
	PreviousVersion int    `json:"previousVersion"`
	Previous        string `json:"previous"`
	Content         string `json:"content"`
}

// toolResult is the result of a tool call, for the model and for the UI.
type toolResult struct {
	Output  json.RawMessage
	IsError bool
	// Change is set when the call changed the working memory.
	Change *WorkingMemoryChange
}

// workingMemoryState is the working memory a turn works on: the document
// the model saw and where it lives.
type workingMemoryState struct {
	threadID string // "" for the resource's document
	template string
	doc      memory.WorkingMemory
	// model and maxTokens bound the document the model may write, so that
	// it never crowds the rest out of the prompt; 0 means no bound.
	model     string
	maxTokens int
}

// runTool carries out one tool call of the model. Every failure of the call
// becomes an error result that the model can read and act on. Only a store
// failure unrelated to the call is returned as an error.
func (a *Agent) runTool(ctx context.Context, owner memory.Owner, wm *workingMemoryState, call ToolCall) (toolResult, error) {
	if call.Name != workingMemoryToolName {
		return errorResult(fmt.Sprintf("There is no tool named %q. The only tool is %s.", call.Name, workingMemoryToolName)), nil
	}
	var args struct {
		Memory *string `json:"memory"`
	}
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal([]byte(call.Arguments), &args); errors.As(err, &typeErr) {
		return errorResult(fmt.Sprintf("The argument \"memory\" must be a string holding the whole Markdown document, not %s. Call %s again with {\"memory\": \"the whole document\"}.", typeErr.Value, workingMemoryToolName)), nil
	} else if err != nil {
		return errorResult(fmt.Sprintf("The arguments are not valid JSON (%v). Call %s again with {\"memory\": \"the whole document\"}.", err, workingMemoryToolName)), nil
	}
	if args.Memory == nil {
		return errorResult(fmt.Sprintf("The argument \"memory\" is missing. Call %s again with {\"memory\": \"the whole document\"}.", workingMemoryToolName)), nil
	}

	if wm.maxTokens > 0 {
		if n := a.tokens.message(wm.model, *args.Memory); n > wm.maxTokens {
			return errorResult(fmt.Sprintf("The document is about %d tokens long, but the working memory may take at most %d so that it fits in every prompt. "+
				"Call %s again with a shorter document: keep what matters most.", n, wm.maxTokens, workingMemoryToolName)), nil
		}
	}

	previous := wm.doc
	updated, err := a.memory.ReplaceWorkingMemory(ctx, owner, memory.WorkingMemoryUpdate{
		ThreadID: wm.threadID, Content: *args.Memory, Version: previous.Version, Template: wm.template,
	})
	var inputErr *memory.InputError
	switch {
	case errors.Is(err, memory.ErrConflict):
		// Another conversation changed the document since this one read
		// it. The model gets the current text to merge its change into.
		current, readErr := a.memory.WorkingMemory(ctx, owner, wm.threadID)
		if readErr != nil {
			return toolResult{}, readErr
		}
		wm.doc = current
		return errorResult(fmt.Sprintf("Another conversation changed the working memory since you read it. Its current text is below. "+
			"If your change still matters, call %s again with the whole document, merging your change into this text.\n\n<%s>\n%s\n</%s>",
			workingMemoryToolName, workingMemoryTag, quoteStored(current.Content), workingMemoryTag)), nil
	case errors.As(err, &inputErr):
		return errorResult(inputErr.Reason), nil
	case err != nil:
		return toolResult{}, err
	}

	wm.doc = updated
	out, _ := json.Marshal(map[string]any{"ok": true, "version": updated.Version})
	return toolResult{Output: out, Change: &WorkingMemoryChange{
		ThreadID: wm.threadID, Version: updated.Version, PreviousVersion: previous.Version,
		Previous: previous.Content, Content: updated.Content,
	}}, nil
}

// errorResult is a tool result that reports a failure to the model.
func errorResult(message string) toolResult {
	out, _ := json.Marshal(map[string]string{"error": message})
	return toolResult{Output: out, IsError: true}
}

// toolInput returns a tool call's arguments as JSON for storing and
// streaming: as they are when valid, otherwise as a JSON string.
func toolInput(arguments string) json.RawMessage {
	if strings.TrimSpace(arguments) != "" && json.Valid([]byte(arguments)) {
		return json.RawMessage(arguments)
	}
	quoted, _ := json.Marshal(arguments)
	return quoted
}
