package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"go.etcd.io/bbolt"
)

// Limits on one import. A file that breaks one is rejected whole with an
// *InputError, before anything is written.
const (
	// MaxImportBytes is the maximum size of a file that an import reads.
	//
	// NOTE: ExportProfile has no such limit, so a profile whose export is
	// larger cannot be imported back whole, and neither can a ChatGPT
	// export of that size.
	MaxImportBytes = 64 << 20
	// MaxImportThreads is the maximum number of threads, or ChatGPT
	// conversations, in one file.
	MaxImportThreads = 10_000
	// MaxImportMessages is the maximum number of messages in one file,
	// counted before any is skipped. For a ChatGPT export it counts every
	// node of every conversation, the branches not imported included.
	MaxImportMessages = 500_000
	// MaxImportProblems is the maximum number of problems that an
	// ImportResult lists. Further problems are only counted.
	MaxImportProblems = 1000
)

// ImportResult reports what an import created and what it left out. The
// skipped counts add up with the created ones to the items of the file,
// except for the ChatGPT messages that are hidden or empty, which are left
// out without being counted.
type ImportResult struct {
	// ThreadIDs are the ids of the new threads, in the order of the file.
	ThreadIDs []string `json:"threadIds"`
	// Threads and Messages count the threads and messages created.
	Threads  int `json:"threads"`
	Messages int `json:"messages"`
	// WorkingMemory counts the working memory documents created, of the
	// resource and of threads.
	WorkingMemory int `json:"workingMemory"`
	// ThreadsSkipped, MessagesSkipped and WorkingMemorySkipped count the
	// items left out. Messages of a skipped thread count as skipped too.
	ThreadsSkipped       int `json:"threadsSkipped"`
	MessagesSkipped      int `json:"messagesSkipped"`
	WorkingMemorySkipped int `json:"workingMemorySkipped"`
	// Problems list the items that were left out or changed, with the
	// reason.
	Problems []ImportProblem `json:"problems"`
	// ProblemsOmitted counts the problems beyond MaxImportProblems.
	ProblemsOmitted int `json:"problemsOmitted"`
}

// ImportProblem is an item of an imported file that was left out or
// changed.
type ImportProblem struct {
	// Pointer is the JSON Pointer (RFC 6901) of the item in the file, such
	// as "/threads/2/messages/5". Array indexes count from 0.
	Pointer string `json:"pointer"`
	// Reason is a sentence for the user about what was wrong and what the
	// import did.
	Reason string `json:"reason"`
}

func (r *ImportResult) problem(pointer, reason string) {
	if len(r.Problems) == MaxImportProblems {
		r.ProblemsOmitted++
		return
	}
	r.Problems = append(r.Problems, ImportProblem{Pointer: pointer, Reason: reason})
}

// Times that an imported record may have. The store orders a resource's
// threads by their update time in nanoseconds since 1970 as an unsigned
// number, which holds the times from 1970 to 2262.
var (
	minImportTime = time.Unix(0, 0).UTC()
	maxImportTime = time.Unix(0, math.MaxInt64).UTC()
)

func importableTime(t time.Time) bool {
	return !t.Before(minImportTime) && !t.After(maxImportTime)
}

// ImportProfile reads a hearth-profile or hearth-thread document from r, as
// ExportProfile and ExportThreadJSON write them, and creates its threads and
// messages as new ones of o, with new ids and sealed with o's key. Titles,
// metadata, times, order, roles, statuses, parts and errors are kept, while
// client request ids are not, because they only matter for retries of the
// original requests. Importing the same file twice creates its threads
// twice.
//
// Every item is checked with the rules of CreateThread, AppendMessage and
// ReplaceWorkingMemory. An item that breaks one is left out and reported in
// the result. A thread whose title or metadata is rejected is left out with
// its messages, and a rejected message is left out of its thread. Damaged
// items carry no content and are left out too, but a damaged thread with
// readable messages is imported under DefaultThreadTitle.
//
// Working memory documents are imported as new versions numbered from 1,
// with their times, keeping the newest WorkingMemoryHistory+1 versions.
// A thread's document is written with its thread. The resource's document
// is imported only when o has no working memory yet, and is otherwise
// reported as skipped.
//
// The whole file is read and checked before anything is written. A file that
// is not a Hearth export, is of a newer version, or breaks an import limit
// is rejected with an *InputError. Then each thread is written in its own
// transaction, so that a thread is imported whole or not at all. If a write
// fails or ctx is cancelled, the error is returned with the result so far,
// and the threads in that result stay imported.
func (s *Store) ImportProfile(ctx context.Context, o Owner, r io.Reader) (ImportResult, error) {
	if err := checkOwner(o); err != nil {
		return ImportResult{}, err
	}
	batch, err := readHearthDocument(ctx, r, s.now().UTC())
	if err != nil {
		return ImportResult{}, fmt.Errorf("import profile: %w", err)
	}
	result, err := s.writeImport(ctx, o, batch)
	if err != nil {
		return result, fmt.Errorf("import profile: %w", err)
	}
	return result, nil
}

// importBatch is the checked content of an imported file, ready to write.
type importBatch struct {
	threads []*importThread
	// resourceMemory is the resource's working memory, or nil.
	resourceMemory *importWorkingMemory
	// result has the problems and skipped counts found while reading.
	result ImportResult
}

// importThread is a checked thread ready to write.
type importThread struct {
	pointer              string
	secrets              threadSecrets
	createdAt, updatedAt time.Time
	// messages have no ids yet and are written in this order.
	messages      []Message
	workingMemory *importWorkingMemory
}

// importWorkingMemory is a checked working memory document ready to write.
type importWorkingMemory struct {
	pointer string
	// versions are the newest WorkingMemoryHistory+1 versions, oldest
	// first.
	versions []WorkingMemory
}

// hearthReader reads a hearth-profile or hearth-thread document.
type hearthReader struct {
	ctx    context.Context
	stream *jsonStream
	now    time.Time
	batch  importBatch

	format  string
	version int
	// threadMembers and profileMembers record whether the document has the
	// members of a thread document or of a profile document.
	threadMembers, profileMembers bool
	// top is the thread of a hearth-thread document, whose "thread" and
	// "messages" are members of the document itself.
	top pendingThread
	// threads are the threads of a hearth-profile document.
	threads []*pendingThread
	// threadMemory are the documents of "workingMemory"/"threads", by the
	// thread id they name.
	threadMemory []threadMemoryDocument

	// Counts for the import limits.
	threadCount, messageCount int
}

// pendingThread is a thread as read, before the thread is checked.
type pendingThread struct {
	pointer   string
	found     bool // whether the "thread" member was read
	thread    Thread
	threadErr error
	// messages are the checked messages, in order, with CreatedAt zero
	// when the file gave no time.
	messages []Message
	skipped  int // messages left out
}

type threadMemoryDocument struct {
	threadID string
	memory   *importWorkingMemory
}

// readHearthDocument reads and checks a Hearth export. It uses now for the
// times that the file leaves out.
func readHearthDocument(ctx context.Context, r io.Reader, now time.Time) (*importBatch, error) {
	hr := &hearthReader{ctx: ctx, stream: newJSONStream(r), now: now, top: pendingThread{pointer: ""}}
	tok, err := hr.stream.token()
	if err != nil {
		return nil, err
	}
	if tok == json.Delim('[') {
		return nil, invalidFile("The file is a list, not a Hearth export. If it is a ChatGPT export (conversations.json), import it as one.")
	}
	if tok != json.Delim('{') {
		return nil, invalidFile("The file is not a Hearth export.")
	}
	for hr.stream.dec.More() {
		tok, err := hr.stream.token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if err := hr.member(key); err != nil {
			return nil, err
		}
	}
	if _, err := hr.stream.token(); err != nil {
		return nil, err
	}
	if err := hr.stream.end(); err != nil {
		return nil, err
	}
	switch {
	case hr.format == "":
		return nil, invalidFile("The file is not a Hearth export: it has no format name.")
	case hr.version == 0:
		return nil, invalidFile("The file is not a Hearth export: it has no format version.")
	case hr.version != ExportVersion:
		return nil, invalidFile(fmt.Sprintf("The file has format version %d, but this version of Hearth reads only version %d.", hr.version, ExportVersion))
	}
	return hr.assemble()
}

// member reads one member of the document.
func (hr *hearthReader) member(key string) error {
	switch key {
	case "format":
		return hr.header("format name", &hr.format)
	case "version":
		return hr.header("format version", &hr.version)
	case "threads":
		hr.profileMembers = true
		return hr.stream.array(`"threads"`, func(i int) error {
			if err := hr.countThread(); err != nil {
				return err
			}
			p := &pendingThread{pointer: pointerIndex("/threads", i)}
			hr.threads = append(hr.threads, p)
			return hr.stream.object(p.pointer, func(key string) error {
				return hr.threadMember(p, key)
			})
		})
	case "thread", "messages":
		hr.threadMembers = true
		return hr.threadMember(&hr.top, key)
	case "workingMemory":
		hr.profileMembers = true
		return hr.stream.object(`"workingMemory"`, hr.workingMemoryMember)
	default:
		// "exportedAt", and members that a later version 1 may add.
		return hr.stream.skip()
	}
}

// header reads the format name or version into v, and rejects a file of
// another format or of a newer version as soon as that is known.
func (hr *hearthReader) header(field string, v any) error {
	itemErr, err := hr.stream.decode(v)
	if err != nil {
		return err
	}
	if itemErr != nil {
		return invalidFile(fmt.Sprintf("The file is not a Hearth export: its %s is not in the expected form.", field))
	}
	if hr.format != "" && hr.format != ProfileFormat && hr.format != ThreadFormat {
		return invalidFile(fmt.Sprintf("The file is a %q document, not a Hearth export.", hr.format))
	}
	if hr.version > ExportVersion {
		return invalidFile(fmt.Sprintf("The file was written by a newer version of Hearth (format version %d). Update Hearth to import it.", hr.version))
	}
	return nil
}

// threadMember reads the "thread" or "messages" member of a thread.
func (hr *hearthReader) threadMember(p *pendingThread, key string) error {
	switch key {
	case "thread":
		p.found = true
		itemErr, err := hr.stream.decode(&p.thread)
		p.threadErr = itemErr
		return err
	case "messages":
		return hr.stream.array(pointerKey(p.pointer, "messages"), func(i int) error {
			return hr.message(p, pointerIndex(pointerKey(p.pointer, "messages"), i))
		})
	default:
		return hr.stream.skip()
	}
}

// message reads and checks one message of p.
func (hr *hearthReader) message(p *pendingThread, pointer string) error {
	hr.messageCount++
	if hr.messageCount > MaxImportMessages {
		return invalidFile(fmt.Sprintf("The file has more than %d messages, the maximum for one import.", MaxImportMessages))
	}
	var m Message
	itemErr, err := hr.stream.decode(&m)
	if err != nil {
		return err
	}
	reason := ""
	if itemErr != nil {
		reason = fmt.Sprintf("The message is not in the expected form (%v), so it was left out.", itemErr)
	} else {
		reason = checkImportedMessage(&m)
	}
	if reason != "" {
		p.skipped++
		hr.batch.result.problem(pointer, reason)
		return nil
	}
	p.messages = append(p.messages, m)
	return nil
}

// checkImportedMessage prepares a message read from a file for
// appendMessage and checks it with the rules of AppendMessage. It returns
// why the message is left out, or "" if it is imported.
func checkImportedMessage(m *Message) string {
	if m.Damaged {
		return "The message was damaged when it was exported and has no content, so it was left out."
	}
	m.ID, m.ThreadID, m.ClientRequestID = "", "", ""
	if err := checkMessage(m); err != nil {
		return rejectedReason("message", err)
	}
	if !m.CreatedAt.IsZero() && !importableTime(m.CreatedAt) {
		return fmt.Sprintf("The message time %s is out of range, so the message was left out.", m.CreatedAt.Format(time.RFC3339))
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return ""
}

// rejectedReason turns an error of a check into a problem's reason.
func rejectedReason(item string, err error) string {
	var ie *InputError
	if errors.As(err, &ie) {
		return ie.Reason + " The " + item + " was left out."
	}
	return fmt.Sprintf("The %s was left out: %v.", item, err)
}

// countThread counts one more thread against MaxImportThreads and checks
// whether the import was cancelled.
func (hr *hearthReader) countThread() error {
	if err := hr.ctx.Err(); err != nil {
		return err
	}
	hr.threadCount++
	if hr.threadCount > MaxImportThreads {
		return invalidFile(fmt.Sprintf("The file has more than %d threads, the maximum for one import.", MaxImportThreads))
	}
	return nil
}

// workingMemoryMember reads the "resource" or "threads" member of
// "workingMemory".
func (hr *hearthReader) workingMemoryMember(key string) error {
	switch key {
	case "resource":
		wm, _, err := hr.workingMemoryDocument("/workingMemory/resource")
		hr.batch.resourceMemory = wm
		return err
	case "threads":
		return hr.stream.array(`"workingMemory"."threads"`, func(i int) error {
			if len(hr.threadMemory) == MaxImportThreads {
				return invalidFile(fmt.Sprintf("The file has more than %d thread working memory documents, the maximum for one import.", MaxImportThreads))
			}
			wm, threadID, err := hr.workingMemoryDocument(pointerIndex("/workingMemory/threads", i))
			hr.threadMemory = append(hr.threadMemory, threadMemoryDocument{threadID: threadID, memory: wm})
			return err
		})
	default:
		return hr.stream.skip()
	}
}

// workingMemoryDocument reads one working memory document with its
// versions. It returns nil for a document without versions to import, and
// counts it as skipped if all its versions were left out.
func (hr *hearthReader) workingMemoryDocument(pointer string) (*importWorkingMemory, string, error) {
	wm := &importWorkingMemory{pointer: pointer}
	threadID := ""
	read := 0 // versions read, the ones left out included
	err := hr.stream.object(pointer, func(key string) error {
		switch key {
		case "threadId":
			itemErr, err := hr.stream.decode(&threadID)
			if itemErr != nil {
				threadID = ""
			}
			return err
		case "versions":
			versionsPointer := pointerKey(pointer, "versions")
			return hr.stream.array(versionsPointer, func(i int) error {
				read++
				return hr.workingMemoryVersion(wm, pointerIndex(versionsPointer, i))
			})
		default:
			return hr.stream.skip()
		}
	})
	if err != nil {
		return nil, threadID, err
	}
	if len(wm.versions) == 0 {
		if read > 0 {
			hr.batch.result.WorkingMemorySkipped++
		}
		return nil, threadID, nil
	}
	return wm, threadID, nil
}

// workingMemoryVersion reads and checks one version of a working memory
// document, and keeps the newest WorkingMemoryHistory+1 versions.
func (hr *hearthReader) workingMemoryVersion(wm *importWorkingMemory, pointer string) error {
	var v WorkingMemory
	itemErr, err := hr.stream.decode(&v)
	if err != nil {
		return err
	}
	switch {
	case itemErr != nil:
		hr.batch.result.problem(pointer, fmt.Sprintf("The working memory version is not in the expected form (%v), so it was left out.", itemErr))
		return nil
	case v.Damaged:
		hr.batch.result.problem(pointer, "The working memory version was damaged when it was exported and has no content, so it was left out.")
		return nil
	case len(v.Content) > MaxWorkingMemoryBytes:
		hr.batch.result.problem(pointer, fmt.Sprintf("The working memory version is %d bytes long, but the limit is %d, so it was left out.", len(v.Content), MaxWorkingMemoryBytes))
		return nil
	}
	if err := checkMessage(&Message{Role: RoleSystem, Content: v.Content}); err != nil {
		hr.batch.result.problem(pointer, rejectedReason("working memory version", err))
		return nil
	}
	if v.UpdatedAt.IsZero() {
		v.UpdatedAt = hr.now
	}
	v.UpdatedAt = v.UpdatedAt.UTC()
	wm.versions = append(wm.versions, WorkingMemory{Content: v.Content, UpdatedAt: v.UpdatedAt})
	if len(wm.versions) > WorkingMemoryHistory+1 {
		wm.versions = wm.versions[1:]
	}
	return nil
}

// assemble checks each thread that was read and attaches the thread
// working memory documents to their threads.
func (hr *hearthReader) assemble() (*importBatch, error) {
	pending := hr.threads
	switch {
	case hr.format == ThreadFormat && !hr.top.found:
		return nil, invalidFile(`The file is a Hearth thread export without its "thread".`)
	case hr.format == ThreadFormat && hr.profileMembers:
		return nil, invalidFile(`The file is a Hearth thread export with the "threads" or "workingMemory" of a profile export.`)
	case hr.format == ThreadFormat:
		pending = []*pendingThread{&hr.top}
	case hr.threadMembers:
		return nil, invalidFile(`The file is a Hearth profile export with the "thread" or "messages" of a thread export.`)
	}

	bySourceID := map[string]*importThread{}
	skippedIDs := map[string]bool{}
	for _, p := range pending {
		t := hr.checkThread(p)
		if t == nil {
			skippedIDs[p.thread.ID] = true
			continue
		}
		hr.batch.threads = append(hr.batch.threads, t)
		if _, dup := bySourceID[p.thread.ID]; !dup && p.thread.ID != "" {
			bySourceID[p.thread.ID] = t
		}
	}

	for _, doc := range hr.threadMemory {
		if doc.memory == nil {
			continue
		}
		t := bySourceID[doc.threadID]
		switch {
		case t == nil && skippedIDs[doc.threadID]:
			hr.skipWorkingMemory(doc.memory.pointer, "The working memory of a thread that was left out was left out too.")
		case t == nil:
			hr.skipWorkingMemory(doc.memory.pointer, fmt.Sprintf("The working memory names the thread %q, which is not in the file, so it was left out.", doc.threadID))
		case t.workingMemory != nil:
			hr.skipWorkingMemory(doc.memory.pointer, "The file has a second working memory document for this thread, and only the first was imported.")
		default:
			t.workingMemory = doc.memory
		}
	}
	return &hr.batch, nil
}

func (hr *hearthReader) skipWorkingMemory(pointer, reason string) {
	hr.batch.result.WorkingMemorySkipped++
	hr.batch.result.problem(pointer, reason)
}

// checkThread checks a thread with the rules of CreateThread and fills in
// the times the file left out. It returns nil, and reports why, when the
// thread is left out.
func (hr *hearthReader) checkThread(p *pendingThread) *importThread {
	result := &hr.batch.result
	skip := func(reason string) *importThread {
		result.ThreadsSkipped++
		result.MessagesSkipped += p.skipped + len(p.messages)
		result.problem(p.pointer, reason)
		return nil
	}
	result.MessagesSkipped += p.skipped
	p.skipped = 0

	switch {
	case !p.found:
		return skip(`The thread has no "thread" member, so it was left out with its messages.`)
	case p.threadErr != nil:
		return skip(fmt.Sprintf("The thread is not in the expected form (%v), so it was left out with its messages.", p.threadErr))
	}
	th := p.thread
	title, metadata := th.Title, th.Metadata
	if string(metadata) == "null" {
		metadata = nil
	}
	if th.Damaged {
		if len(p.messages) == 0 {
			return skip("The thread was damaged when it was exported and has no readable messages, so it was left out.")
		}
		title, metadata = "", nil
		result.problem(p.pointer, fmt.Sprintf("The thread was damaged when it was exported and has no title, so it was imported as %q.", DefaultThreadTitle))
	}
	secrets, err := newThreadSecrets(title, metadata)
	if err != nil {
		return skip(rejectedReason("thread with its messages", err))
	}

	t := &importThread{pointer: p.pointer, secrets: secrets, messages: p.messages, createdAt: th.CreatedAt.UTC(), updatedAt: th.UpdatedAt.UTC()}
	if t.createdAt.IsZero() {
		t.createdAt = hr.now
		if first := firstTime(t.messages); !first.IsZero() {
			t.createdAt = first
		}
	}
	if t.updatedAt.Before(t.createdAt) {
		t.updatedAt = t.createdAt
	}
	if !importableTime(t.createdAt) || !importableTime(t.updatedAt) {
		return skip(fmt.Sprintf("The thread times %s and %s are out of range, so it was left out with its messages.",
			t.createdAt.Format(time.RFC3339), t.updatedAt.Format(time.RFC3339)))
	}
	fillMessageTimes(t.messages, t.createdAt)
	return t
}

// fillMessageTimes gives each message without a time the time of the
// message before it, or start for the first.
func fillMessageTimes(messages []Message, start time.Time) {
	previous := start
	for i := range messages {
		if messages[i].CreatedAt.IsZero() {
			messages[i].CreatedAt = previous
		}
		previous = messages[i].CreatedAt
	}
}

// writeImport writes the threads of a checked batch, each in its own
// transaction, and then the resource's working memory.
func (s *Store) writeImport(ctx context.Context, o Owner, batch *importBatch) (ImportResult, error) {
	result := batch.result
	// Empty lists rather than nil, so that the result encodes as [] in JSON.
	result.ThreadIDs = []string{}
	if result.Problems == nil {
		result.Problems = []ImportProblem{}
	}
	for _, t := range batch.threads {
		if err := ctx.Err(); err != nil {
			return result, err
		}
		id, err := s.writeImportedThread(o, t)
		if err != nil {
			return result, fmt.Errorf("write the thread at %q: %w", t.pointer, err)
		}
		result.ThreadIDs = append(result.ThreadIDs, id)
		result.Threads++
		result.Messages += len(t.messages)
		if t.workingMemory != nil {
			result.WorkingMemory++
		}
	}

	if wm := batch.resourceMemory; wm != nil {
		written, err := s.writeImportedResourceMemory(o, wm)
		if err != nil {
			return result, fmt.Errorf("write the resource's working memory: %w", err)
		}
		if written {
			result.WorkingMemory++
		} else {
			result.WorkingMemorySkipped++
			result.problem(wm.pointer, "This profile already has working memory, so the imported document was left out. Its own is kept.")
		}
	}
	return result, nil
}

// writeImportedThread writes a new thread of o with its messages and working
// memory in one transaction, and returns its id.
func (s *Store) writeImportedThread(o Owner, t *importThread) (string, error) {
	id := NewID()
	rec := threadRecord{ResourceID: o.ResourceID, CreatedAt: t.createdAt, UpdatedAt: t.updatedAt}
	var err error
	if rec.Sealed, err = sealThreadSecrets(o.Key, t.secrets, threadAD(o.ResourceID, id)); err != nil {
		return "", err
	}

	// db.Update rather than the batched update: one import is a large write
	// that gains nothing from sharing a commit, and Batch may run fn twice.
	err = s.db.Update(func(tx *bbolt.Tx) error {
		for _, m := range t.messages {
			// No one is writing an imported reply, whatever the file records.
			m.ID, m.ThreadID, m.Streaming = NewID(), id, false
			if err := appendMessage(tx, o, &m, &rec); err != nil {
				return err
			}
		}
		if err := putThread(tx, id, &rec, time.Time{}); err != nil {
			return err
		}
		if t.workingMemory == nil {
			return nil
		}
		return putWorkingMemoryVersions(tx, o, threadScopeKey(id), id, t.workingMemory.versions)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// writeImportedResourceMemory writes the resource's working memory if o has
// none yet, and reports whether it did.
func (s *Store) writeImportedResourceMemory(o Owner, wm *importWorkingMemory) (bool, error) {
	written := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		scope := resourceScopeKey(o.ResourceID)
		current, err := currentWorkingMemory(tx, o, scope, "")
		if err != nil {
			return err
		}
		if current.Version > 0 || current.Damaged {
			return nil
		}
		written = true
		return putWorkingMemoryVersions(tx, o, scope, "", wm.versions)
	})
	return written, err
}

// putWorkingMemoryVersions stores versions as versions 1, 2 and so on of a
// document that has none, with their own times.
func putWorkingMemoryVersions(tx *bbolt.Tx, o Owner, scope []byte, threadID string, versions []WorkingMemory) error {
	for i, v := range versions {
		if _, err := putWorkingMemory(tx, o, scope, threadID, v.Content, i+1, v.UpdatedAt); err != nil {
			return err
		}
	}
	return nil
}
