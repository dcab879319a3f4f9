package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// checkJSONText applies the rules encoding/json does not. No string may
// contain the NUL character, which JSON can only send escaped. Every
// escaped surrogate must be half of a pair, because encoding/json turns a
// lone one into U+FFFD and the stored text would differ from the sent one.
// No object may repeat a key (encoding/json keeps the last), and the
// top-level keys must match dst's field names exactly (encoding/json
// matches them in any case).
func checkJSONText(body []byte, dst any) error {
	if err := checkEscapes(body, false); err != nil {
		return err
	}
	fields := jsonFieldNames(dst)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()

	// objects holds, for each open object, the keys seen so far; for each
	// open array, nil.
	var objects []map[string]bool
	expectKey := false
	// topKey is the top-level field being read, which errors name.
	topKey := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			// The decoder proper reports syntax errors with more context.
			return nil
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				objects = append(objects, map[string]bool{})
				expectKey = true
				continue
			case '[':
				objects = append(objects, nil)
			case '}', ']':
				objects = objects[:len(objects)-1]
			}
		case string:
			if strings.ContainsRune(t, 0) {
				field := topKey
				if expectKey && len(objects) == 1 {
					field = t
				}
				return &apiError{Status: 400, Code: CodeInvalidRequest, Field: field,
					Message: fmt.Sprintf(`The field %q contains the NUL character (\u0000), which Hearth does not accept in text; remove it.`, field)}
			}
			if expectKey {
				keys := objects[len(objects)-1]
				if keys[t] {
					return &apiError{Status: 400, Code: CodeInvalidRequest, Field: t, Message: fmt.Sprintf("The field %q appears twice; send it once.", t)}
				}
				keys[t] = true
				if len(objects) == 1 {
					if fields != nil && !fields[t] {
						return unknownFieldError(t, fields)
					}
					topKey = t
				}
				expectKey = false
				continue
			}
		}
		// After a value inside an object, the next string is a key again.
		expectKey = len(objects) > 0 && objects[len(objects)-1] != nil
	}
}

// unknownFieldError rejects the top-level key name, which is not one of
// fields. A key that differs from a field only in case gets the field's
// spelling, because encoding/json would have accepted it.
func unknownFieldError(name string, fields map[string]bool) *apiError {
	for field := range fields {
		if strings.EqualFold(name, field) {
			return &apiError{Status: 400, Code: CodeInvalidRequest, Field: name,
				Message: fmt.Sprintf("The field %q is not accepted here; field names are case-sensitive, so send it as %q.", name, field)}
		}
	}
	return &apiError{Status: 400, Code: CodeInvalidRequest, Field: name, Message: fmt.Sprintf("The field %q is not accepted here; remove it.", name)}
}

// jsonFieldNames returns the JSON names of the fields of the struct dst
// points to, or nil when dst is not a pointer to a struct.
func jsonFieldNames(dst any) map[string]bool {
	t := reflect.TypeOf(dst)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	names := map[string]bool{}
	for f := range t.Elem().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
		case "":
			names[f.Name] = true
		default:
			names[name] = true
		}
	}
	return names
}

// checkEscapes rejects a JSON text with an escaped UTF-16 surrogate that
// is not half of a pair, such as "\ud800" alone, and, with rejectNUL, one
// with an escaped NUL, the only way JSON can carry that character.
func checkEscapes(body []byte, rejectNUL bool) error {
	invalid := &apiError{Status: 400, Code: CodeInvalidRequest, Message: `The request body contains an escaped lone surrogate such as "\ud800", which is not a character.`}
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 >= len(body) {
				return nil
			}
			if body[i+1] != 'u' {
				i++
				continue
			}
			r, ok := escapedUnit(body, i)
			if !ok {
				return nil // a syntax error, reported by the decoder
			}
			switch {
			case r == 0 && rejectNUL:
				return &apiError{Status: 400, Code: CodeInvalidRequest,
					Message: fmt.Sprintf(`The file contains the NUL character (\u0000) at byte %d, which Hearth does not accept in text; remove it and import the file again.`, i)}
			case r >= 0xDC00 && r <= 0xDFFF:
				return invalid
			case r >= 0xD800 && r <= 0xDBFF:
				low, ok := escapedUnit(body, i+6)
				if !ok || low < 0xDC00 || low > 0xDFFF {
					return invalid
				}
				i += 11
			default:
				i += 5
			}
		}
	}
	return nil
}

// escapedUnit reads the UTF-16 code unit of the escape \uXXXX at body[i:].
func escapedUnit(body []byte, i int) (uint16, bool) {
	if i+6 > len(body) || body[i] != '\\' || body[i+1] != 'u' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(body[i+2:i+6]), 16, 16)
	return uint16(v), err == nil
}
