package app

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"hearth/memory"
)

// handleExportThread serves GET /api/threads/{threadId}/export: the thread
// with all its messages as Markdown (?format=markdown, the default) or as a
// Hearth JSON document (?format=json) that POST /api/import reads back.
//
// The export is written to memory first and sent after: the store holds a
// read transaction while it writes, and a slow client must not hold up
// writers. It is never written to disk, where it would lie unencrypted.
func (a *App) handleExportThread(w http.ResponseWriter, r *http.Request, u user) error {
	format := r.URL.Query().Get("format")
	owner := u.owner()
	threadID := r.PathValue("threadId")
	var write func(io.Writer) error
	var contentType, extension string
	switch format {
	case "", "markdown":
		write = func(out io.Writer) error { return a.memory.ExportThreadMarkdown(r.Context(), owner, threadID, out) }
		contentType, extension = "text/markdown; charset=utf-8", "md"
	case "json":
		write = func(out io.Writer) error { return a.memory.ExportThreadJSON(r.Context(), owner, threadID, out) }
		contentType, extension = "application/json; charset=utf-8", "json"
	default:
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "format",
			Message: fmt.Sprintf("The export format %q is not known; use markdown or json.", shorten(format, 40))}
	}
	t, err := a.memory.Thread(r.Context(), owner, threadID)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	sendDownload(w, contentType, exportFileName(t.Title, t.CreatedAt, extension), buf.Bytes())
	return nil
}

// handleExportProfile serves GET /api/export: every thread of the profile
// with its messages and its working memory, as one Hearth JSON document.
func (a *App) handleExportProfile(w http.ResponseWriter, r *http.Request, u user) error {
	var buf bytes.Buffer
	if err := a.memory.ExportProfile(r.Context(), u.owner(), &buf); err != nil {
		return err
	}
	name := fmt.Sprintf("hearth-%s-%s.json", fileNamePart(u.Name, "profile"), time.Now().Format("2006-01-02"))
	sendDownload(w, "application/json; charset=utf-8", name, buf.Bytes())
	return nil
}

// handleImport serves POST /api/import: a Hearth JSON export, of one thread
// or a whole profile, or the conversations.json of a ChatGPT data export,
// detected by the document's first character. Everything imported
// becomes new threads of the profile. Its body may be up to
// memory.MaxImportBytes, far more than other routes accept, and it must be
// UTF-8 without escaped NUL characters or lone surrogates.
func (a *App) handleImport(w http.ResponseWriter, r *http.Request, u user) error {
	if err := checkContentType(r); err != nil {
		return err
	}
	// An import holds its file and what it reads from it in memory, a few
	// hundred MiB for the largest, so imports run one at a time.
	select {
	case a.importSlot <- struct{}{}:
		defer func() { <-a.importSlot }()
	default:
		return &apiError{Status: http.StatusTooManyRequests, Code: CodeRateLimited, RetryAfter: importBusyRetry,
			Message: "Hearth is importing another file right now. Try again when it has finished."}
	}

	// The file is read whole, at most 64 MiB, so that its text can be
	// checked before anything is imported: encoding/json would replace
	// invalid UTF-8 and lone surrogates with U+FFFD without a word.
	var buf bytes.Buffer
	if r.ContentLength > 0 && r.ContentLength <= memory.MaxImportBytes {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, memory.MaxImportBytes)); err != nil {
		return jsonError(err)
	}
	data := buf.Bytes()
	if !utf8.Valid(data) {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest,
			Message: "The file is not valid UTF-8 text, which JSON must be. Save it again as UTF-8 and import it again."}
	}
	if err := checkEscapes(data, true); err != nil {
		return err
	}
	body := bufio.NewReader(bytes.NewReader(data))
	first, err := firstNonSpace(body)
	if err != nil {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: "The request body is empty; send the file to import."}
	}

	owner := u.owner()
	var result memory.ImportResult
	switch first {
	case '{':
		result, err = a.memory.ImportProfile(r.Context(), owner, body)
	case '[':
		result, err = a.memory.ImportChatGPT(r.Context(), owner, body)
	default:
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest,
			Message: "The file is neither a Hearth export (a JSON object) nor ChatGPT's conversations.json (a JSON array)."}
	}
	for _, id := range result.ThreadIDs {
		a.recall.Enqueue(owner, id)
	}
	if err != nil {
		if len(result.ThreadIDs) > 0 {
			a.log.Error("import stopped part way", "profile", u.ID, "threads", len(result.ThreadIDs), "err", err)
		}
		return err
	}
	writeJSON(w, http.StatusOK, result)
	return nil
}

// importBusyRetry is the Retry-After of an import refused because another
// one is running.
const importBusyRetry = 5 * time.Second

// firstNonSpace returns the first byte of r that is not JSON white space,
// leaving it unread.
func firstNonSpace(r *bufio.Reader) (byte, error) {
	for {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		if b != ' ' && b != '\t' && b != '\r' && b != '\n' {
			return b, r.UnreadByte()
		}
	}
}

// sendDownload sends body as a file the browser saves under name.
func sendDownload(w http.ResponseWriter, contentType, name string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// exportFileName names the export of a thread after its title and the day
// it began, such as "Trip-to-Lisbon-2026-12-04.md".
func exportFileName(title string, created time.Time, extension string) string {
	return fmt.Sprintf("%s-%s.%s", fileNamePart(title, "thread"), created.Format("2006-01-02"), extension)
}

// fileNamePart turns text into a part of a file name that every file system
// accepts: letters and digits in any script, with runs of anything else
// made one hyphen, at most 60 characters. Text with no letters or digits
// gives fallback.
func fileNamePart(text, fallback string) string {
	var b strings.Builder
	hyphen := false
	n := 0
	for _, c := range text {
		if n == 60 {
			break
		}
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
				n++
			}
			b.WriteRune(c)
			n++
			hyphen = false
			continue
		}
		hyphen = true
	}
	if b.Len() == 0 {
		return fallback
	}
	return b.String()
}
