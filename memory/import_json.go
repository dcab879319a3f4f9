package memory

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// jsonStream reads an imported file one JSON value at a time, so that the
// import limits are checked while the file is read rather than after it was
// decoded whole.
//
// Two kinds of error come out of it. An item error means that one value was
// well-formed JSON but not of the expected form: the stream has moved past
// it, and the caller skips the item and reports it. Any other error is an
// *InputError for the whole file (not JSON, cut off, too large) or a failed
// read, and ends the import before anything is written.
type jsonStream struct {
	in  *importReader
	dec *json.Decoder
	// started is set once a token was read, to tell an empty file from a
	// cut-off one.
	started bool
}

func newJSONStream(r io.Reader) *jsonStream {
	in := &importReader{r: r, remaining: MaxImportBytes}
	return &jsonStream{in: in, dec: json.NewDecoder(in)}
}

// token returns the next JSON token: a delimiter, an object key or a
// scalar value.
func (s *jsonStream) token() (json.Token, error) {
	tok, err := s.dec.Token()
	if err != nil {
		return nil, s.fail(err)
	}
	s.started = true
	return tok, nil
}

// decode reads the next value into v. It returns an item error when the
// value is JSON that does not fit v.
func (s *jsonStream) decode(v any) (itemErr, err error) {
	err = s.dec.Decode(v)
	if err == nil {
		return nil, nil
	}
	// Decode reads a whole value before it fills v, so an error that is
	// neither a read nor a syntax error leaves the stream after the value.
	var syntax *json.SyntaxError
	if s.in.err != nil || errors.As(err, &syntax) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, s.fail(err)
	}
	return err, nil
}

// skip reads the next value and ignores it.
func (s *jsonStream) skip() error {
	var v skippedValue
	_, err := s.decode(&v)
	return err
}

// array reads a JSON array and calls each once for every element, which
// each must read. A null reads as an empty array. label names the value in
// the error for anything else.
func (s *jsonStream) array(label string, each func(i int) error) error {
	tok, err := s.token()
	if err != nil || tok == nil {
		return err
	}
	if tok != json.Delim('[') {
		return invalidFile(fmt.Sprintf("The file is not in the expected form: %s is not a list.", label))
	}
	for i := 0; s.dec.More(); i++ {
		if err := each(i); err != nil {
			return err
		}
	}
	_, err = s.token()
	return err
}

// object reads a JSON object and calls each once for every member with its
// key, and each must read the member's value. A null reads as an empty
// object. label names the value in the error for anything else.
func (s *jsonStream) object(label string, each func(key string) error) error {
	tok, err := s.token()
	if err != nil || tok == nil {
		return err
	}
	if tok != json.Delim('{') {
		return invalidFile(fmt.Sprintf("The file is not in the expected form: %s is not an object.", label))
	}
	for s.dec.More() {
		tok, err := s.token()
		if err != nil {
			return err
		}
		// Inside an object, Token returns every key as a string.
		key, _ := tok.(string)
		if err := each(key); err != nil {
			return err
		}
	}
	_, err = s.token()
	return err
}

// end checks that nothing but white space follows the document.
func (s *jsonStream) end() error {
	_, err := s.dec.Token()
	switch {
	case s.in.err != nil:
		return s.in.err
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return s.fail(err)
	default:
		return invalidFile("The file has more data after the end of the document.")
	}
}

// fail returns the error that ends an import after the decoder failed
// with err.
func (s *jsonStream) fail(err error) error {
	if s.in.err != nil {
		return s.in.err
	}
	if errors.Is(err, io.EOF) && !s.started {
		return invalidFile("The file is empty.")
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return invalidFile("The file ends in the middle of the document; it may have been cut off.")
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return invalidFile(fmt.Sprintf("The file is not valid JSON: %s near byte %d.", syntax.Error(), syntax.Offset))
	}
	return invalidFile(fmt.Sprintf("The file cannot be read: %s.", err.Error()))
}

// importReader reads at most MaxImportBytes from r and then fails with an
// *InputError. It keeps the first error other than io.EOF, so that a failed
// read can be distinguished from a decoding error.
type importReader struct {
	r         io.Reader
	remaining int64
	err       error
}

func (l *importReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	// Reading one byte past the limit distinguishes a file of exactly the
	// limit from a larger one.
	if int64(len(p)) > l.remaining+1 {
		p = p[:l.remaining+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.remaining {
		l.err = invalidFile(fmt.Sprintf("The file is larger than %d MiB, the most that one import reads.", MaxImportBytes>>20))
		return 0, l.err
	}
	l.remaining -= int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		l.err = err
	}
	return n, err
}

// skippedValue accepts any JSON value and keeps nothing of it.
type skippedValue struct{}

func (*skippedValue) UnmarshalJSON([]byte) error { return nil }

// invalidFile returns the error for an imported file that is rejected as a
// whole.
func invalidFile(reason string) error {
	return &InputError{Field: "file", Reason: reason}
}

// pointerIndex and pointerKey return the JSON Pointer (RFC 6901) of an
// element or member of the value at base.
func pointerIndex(base string, i int) string {
	return base + "/" + strconv.Itoa(i)
}

func pointerKey(base, key string) string {
	key = strings.ReplaceAll(key, "~", "~0")
	return base + "/" + strings.ReplaceAll(key, "/", "~1")
}
