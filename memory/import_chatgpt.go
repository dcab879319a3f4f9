package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
)

// ImportChatGPT reads conversations.json from a ChatGPT data export and
// creates each conversation as a new thread of o, sealed with o's key. It
// has the limits, checks and transactions of ImportProfile, and returns its
// errors and result in the same way.
//
// A conversation is a tree of messages, in which each edit or regenerated
// reply starts a branch. The import takes the branch that ends at the
// conversation's "current_node", the one ChatGPT showed last, or, if that
// node is missing, the branch that follows the last child from the root.
//
// User, assistant, system and tool messages become messages of the same
// role. Messages that ChatGPT hides, such as its empty system prompt, and
// messages without text are left out without being counted as skipped. The
// text is the string parts of the content, joined by blank lines, and the
// "text" of content such as "code", which is fenced with its language.
// Object parts that carry a "text", such as voice transcripts, give that
// text, and other parts, such as images, leave a note such as
// "[Image not imported]". Content of a type with neither parts nor text,
// such as "thoughts", is left out and reported.
//
// Titles lose line breaks and other control characters and are cut to
// MaxTitleLength. Times are ChatGPT's "create_time". A message without one
// gets the time of the message before it, and a conversation without one
// gets the time of its first message, or else the time of the import.
// "in_progress" and
// "finished_partial_completion" messages are imported as
// StatusIncomplete, all others as StatusComplete. A conversation with no
// message to import is left out and reported.
func (s *Store) ImportChatGPT(ctx context.Context, o Owner, r io.Reader) (ImportResult, error) {
	if err := checkOwner(o); err != nil {
		return ImportResult{}, err
	}
	batch, err := readChatGPTExport(ctx, r, s.now().UTC())
	if err != nil {
		return ImportResult{}, fmt.Errorf("import ChatGPT conversations: %w", err)
	}
	result, err := s.writeImport(ctx, o, batch)
	if err != nil {
		return result, fmt.Errorf("import ChatGPT conversations: %w", err)
	}
	return result, nil
}

// chatGPTConversation is one conversation of conversations.json, with the
// members the import uses.
type chatGPTConversation struct {
	title       *string
	createTime  *float64
	updateTime  *float64
	currentNode string
	mapping     map[string]*chatGPTNode
}

// chatGPTNode is a node of a conversation's "mapping": a message, or none
// for the root, and its place in the tree.
type chatGPTNode struct {
	Message  *chatGPTMessage `json:"message"`
	Parent   *string         `json:"parent"`
	Children []string        `json:"children"`

	// err is set when the node is JSON of another form.
	err error
}

// chatGPTMessage is the "message" of a node.
type chatGPTMessage struct {
	Author struct {
		Role string `json:"role"`
	} `json:"author"`
	// CreateTime is in seconds since 1970, with a fraction.
	CreateTime *float64       `json:"create_time"`
	Content    chatGPTContent `json:"content"`
	Status     string         `json:"status"`
	Metadata   struct {
		Hidden    bool   `json:"is_visually_hidden_from_conversation"`
		ModelSlug string `json:"model_slug"`
	} `json:"metadata"`
}

// chatGPTContent is the "content" of a message: "parts" for "text" and
// "multimodal_text", "text" for types such as "code" and
// "execution_output".
type chatGPTContent struct {
	ContentType string            `json:"content_type"`
	Parts       []json.RawMessage `json:"parts"`
	Text        *string           `json:"text"`
	Language    string            `json:"language"`
}

// chatGPTReader reads conversations.json.
type chatGPTReader struct {
	ctx    context.Context
	stream *jsonStream
	now    time.Time
	batch  importBatch
	// nodes counts the nodes of all conversations for MaxImportMessages.
	nodes int
}

// readChatGPTExport reads and checks conversations.json. It uses now for
// the times that the file leaves out.
func readChatGPTExport(ctx context.Context, r io.Reader, now time.Time) (*importBatch, error) {
	cr := &chatGPTReader{ctx: ctx, stream: newJSONStream(r), now: now}
	tok, err := cr.stream.token()
	if err != nil {
		return nil, err
	}
	if tok == json.Delim('{') {
		return nil, invalidFile("The file is not ChatGPT's conversations.json, which is a list of conversations. If it is a Hearth export, import it as one.")
	}
	if tok != json.Delim('[') {
		return nil, invalidFile("The file is not ChatGPT's conversations.json, which is a list of conversations.")
	}
	for i := 0; cr.stream.dec.More(); i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if i == MaxImportThreads {
			return nil, invalidFile(fmt.Sprintf("The file has more than %d conversations, the maximum for one import.", MaxImportThreads))
		}
		conv, err := cr.conversation(pointerIndex("", i))
		if err != nil {
			return nil, err
		}
		cr.check(pointerIndex("", i), conv)
	}
	if _, err := cr.stream.token(); err != nil {
		return nil, err
	}
	if err := cr.stream.end(); err != nil {
		return nil, err
	}
	return &cr.batch, nil
}

// conversation reads one conversation. Members of another form read as
// missing, except for nodes, which keep their error.
func (cr *chatGPTReader) conversation(pointer string) (*chatGPTConversation, error) {
	conv := &chatGPTConversation{mapping: map[string]*chatGPTNode{}}
	err := cr.stream.object(pointer, func(key string) error {
		var err error
		switch key {
		case "title":
			_, err = cr.stream.decode(&conv.title)
		case "create_time":
			_, err = cr.stream.decode(&conv.createTime)
		case "update_time":
			_, err = cr.stream.decode(&conv.updateTime)
		case "current_node":
			_, err = cr.stream.decode(&conv.currentNode)
		case "mapping":
			err = cr.stream.object(pointerKey(pointer, "mapping"), func(id string) error {
				cr.nodes++
				if cr.nodes > MaxImportMessages {
					return invalidFile(fmt.Sprintf("The file has more than %d messages, the maximum for one import.", MaxImportMessages))
				}
				node := &chatGPTNode{}
				itemErr, err := cr.stream.decode(node)
				node.err = itemErr
				conv.mapping[id] = node
				return err
			})
		default:
			err = cr.stream.skip()
		}
		return err
	})
	return conv, err
}

// check turns a conversation into a thread to import, or reports why it is
// left out.
func (cr *chatGPTReader) check(pointer string, conv *chatGPTConversation) {
	result := &cr.batch.result
	ids, reason := conv.branch()
	if reason != "" {
		result.ThreadsSkipped++
		result.problem(pointer, reason)
		return
	}

	var messages []Message
	skipped := 0
	for _, id := range ids {
		m, keep, reason := chatGPTMessageOf(conv.mapping[id].Message)
		if reason != "" {
			skipped++
			result.problem(pointerKey(pointerKey(pointer, "mapping"), id), reason)
			continue
		}
		if keep {
			messages = append(messages, m)
		}
	}
	result.MessagesSkipped += skipped

	skip := func(reason string) {
		result.ThreadsSkipped++
		result.MessagesSkipped += len(messages)
		result.problem(pointer, reason)
	}
	if len(messages) == 0 {
		skip("The conversation has no messages to import, so it was left out.")
		return
	}
	secrets, err := newThreadSecrets(chatGPTTitle(conv.title), nil)
	if err != nil {
		skip(rejectedReason("conversation", err))
		return
	}

	t := &importThread{pointer: pointer, secrets: secrets, messages: messages}
	var ok bool
	if t.createdAt, ok = chatGPTTime(conv.createTime); !ok {
		t.createdAt = cr.now
		if first := firstTime(messages); !first.IsZero() {
			t.createdAt = first
		}
	}
	fillMessageTimes(messages, t.createdAt)
	if t.updatedAt, ok = chatGPTTime(conv.updateTime); !ok {
		t.updatedAt = messages[len(messages)-1].CreatedAt
	}
	if t.updatedAt.Before(t.createdAt) {
		t.updatedAt = t.createdAt
	}
	cr.batch.threads = append(cr.batch.threads, t)
}

// branch returns the node ids from the root to the current node, or why
// the conversation cannot be imported.
func (conv *chatGPTConversation) branch() ([]string, string) {
	leaf := conv.currentNode
	if _, ok := conv.mapping[leaf]; !ok {
		leaf = conv.lastLeaf()
	}
	var ids []string
	for id := leaf; id != ""; {
		node, ok := conv.mapping[id]
		switch {
		case !ok:
			return nil, fmt.Sprintf("The conversation refers to the message %q, which it does not contain, so it was left out.", id)
		case len(ids) == len(conv.mapping):
			return nil, "The messages of the conversation form a loop, so it was left out."
		case node.err != nil:
			return nil, fmt.Sprintf("The message %q of the conversation is not in the expected form (%v), so the conversation was left out.", id, node.err)
		}
		ids = append(ids, id)
		if node.Parent == nil {
			break
		}
		id = *node.Parent
	}
	slices.Reverse(ids)
	return ids, ""
}

// lastLeaf returns the node reached from the root by following the last
// child, or "" for a conversation without nodes. Of several roots, the one
// with the smallest id is taken, so that the result does not depend on map
// order.
func (conv *chatGPTConversation) lastLeaf() string {
	var roots []string
	for id, node := range conv.mapping {
		if node.err == nil && node.Parent == nil {
			roots = append(roots, id)
		}
	}
	if len(roots) == 0 {
		return ""
	}
	id := slices.Min(roots)
	for range len(conv.mapping) {
		node := conv.mapping[id]
		if node == nil || node.err != nil || len(node.Children) == 0 {
			break
		}
		id = node.Children[len(node.Children)-1]
	}
	return id
}

// chatGPTMessageOf returns the message to import for a node's message.
// keep is false for a message that is left out without a report. A reason
// is returned for one that is left out and reported.
func chatGPTMessageOf(msg *chatGPTMessage) (m Message, keep bool, reason string) {
	if msg == nil || msg.Metadata.Hidden {
		return Message{}, false, ""
	}
	switch msg.Author.Role {
	case "user":
		m.Role = RoleUser
	case "assistant":
		m.Role = RoleAssistant
		m.Model = msg.Metadata.ModelSlug
	case "system":
		m.Role = RoleSystem
	case "tool":
		m.Role = RoleTool
	default:
		return Message{}, false, fmt.Sprintf("The message is from %q, which is not a user, the assistant, the system or a tool, so it was left out.", msg.Author.Role)
	}

	content := msg.Content
	if content.Parts == nil && content.Text == nil {
		if content.ContentType == "" {
			return Message{}, false, ""
		}
		return Message{}, false, fmt.Sprintf("The message has content of type %q, which is not imported, so it was left out.", content.ContentType)
	}
	m.Content = chatGPTText(content)
	if strings.TrimSpace(m.Content) == "" {
		return Message{}, false, ""
	}

	switch msg.Status {
	case "in_progress", "finished_partial_completion":
		m.Status = StatusIncomplete
	default:
		m.Status = StatusComplete
	}
	if t, ok := chatGPTTime(msg.CreateTime); ok {
		m.CreatedAt = t
	}
	if err := checkMessage(&m); err != nil {
		return Message{}, false, rejectedReason("message", err)
	}
	return m, true, ""
}

// chatGPTText returns the text of a message's content.
func chatGPTText(content chatGPTContent) string {
	var pieces []string
	for _, raw := range content.Parts {
		if piece := chatGPTPartText(raw); strings.TrimSpace(piece) != "" {
			pieces = append(pieces, piece)
		}
	}
	if content.Text != nil && strings.TrimSpace(*content.Text) != "" {
		text := *content.Text
		if content.ContentType == "code" {
			text = fencedCode(text, content.Language)
		}
		pieces = append(pieces, text)
	}
	return strings.Join(pieces, "\n\n")
}

// chatGPTPartText returns the text of one part: a string as it is, the
// "text" of an object that has one, and a note for any other part.
func chatGPTPartText(raw json.RawMessage) string {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		return text
	}
	var object struct {
		ContentType string  `json:"content_type"`
		Text        *string `json:"text"`
	}
	if err := json.Unmarshal(raw, &object); err != nil {
		// null, a number or a list.
		if string(raw) == "null" {
			return ""
		}
		return "[Attachment not imported]"
	}
	switch {
	case object.Text != nil:
		return *object.Text
	case object.ContentType == "image_asset_pointer":
		return "[Image not imported]"
	case object.ContentType != "":
		return "[Attachment not imported: " + object.ContentType + "]"
	default:
		return "[Attachment not imported]"
	}
}

// fencedCode returns code in a Markdown code block whose fence is longer
// than any run of backticks in the code. A language of "unknown" is left
// out.
func fencedCode(code, language string) string {
	fence := strings.Repeat("`", max(3, longestRun(code, '`')+1))
	if language == "unknown" || strings.ContainsAny(language, "`\r\n") {
		language = ""
	}
	return fence + language + "\n" + strings.TrimRight(code, "\n") + "\n" + fence
}

// chatGPTTitle returns a conversation's title ready for newThreadSecrets:
// control and formatting characters, which titles may not contain, become
// spaces or are dropped, and a title longer than MaxTitleLength is cut and
// ends with "…". newThreadSecrets still checks the result.
func chatGPTTitle(title *string) string {
	if title == nil {
		return ""
	}
	cleaned := strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp):
			return ' '
		case unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d':
			// Joiners stay, because emoji sequences need them.
			return -1
		}
		return r
	}, *title)
	cleaned = strings.Join(strings.Fields(cleaned), " ")
	if r := []rune(cleaned); len(r) > MaxTitleLength {
		cleaned = strings.TrimSpace(string(r[:MaxTitleLength-1])) + "…"
	}
	return cleaned
}

// chatGPTTime converts ChatGPT's seconds since 1970 to a time, rounded to
// the microsecond. It reports false for a missing time or one out of the
// range the store can order.
func chatGPTTime(seconds *float64) (time.Time, bool) {
	if seconds == nil || *seconds < 0 || *seconds >= float64(maxImportTime.Unix()) {
		return time.Time{}, false
	}
	return time.UnixMicro(int64(math.Round(*seconds * 1e6))).UTC(), true
}

// firstTime returns the first time set among messages, or the zero time.
func firstTime(messages []Message) time.Time {
	for _, m := range messages {
		if !m.CreatedAt.IsZero() {
			return m.CreatedAt
		}
	}
	return time.Time{}
}
