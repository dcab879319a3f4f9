package memory

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"go.etcd.io/bbolt"
)

// Export formats. A document starts with its format name and version, so
// that ImportProfile can tell the two apart and reject a newer version.
//
// A thread document is
//
//	{"format":"hearth-thread","version":1,"thread":Thread,"messages":[Message…]}
//
// and a profile document is
//
//	{"format":"hearth-profile","version":1,"exportedAt":time,
//	 "threads":[{"thread":Thread,"messages":[Message…]}…],
//	 "workingMemory":{"resource":{"versions":[WorkingMemory…]},
//	                  "threads":[{"threadId":id,"versions":[WorkingMemory…]}…]}}
//
// Messages and working memory versions are listed oldest first, and the
// last version of a working memory document is its current one. Damaged
// threads, messages and versions are listed with Damaged set and without
// their sealed fields.
const (
	// ThreadFormat is the format name of a document with one thread.
	ThreadFormat = "hearth-thread"
	// ProfileFormat is the format name of a document with every thread
	// and working memory document of a resource.
	ProfileFormat = "hearth-profile"
	// ExportVersion is the version of both formats that this code writes
	// and the only one it reads.
	ExportVersion = 1
)

// workingMemoryDocument is one working memory document of a profile export
// with its kept versions, oldest first.
type workingMemoryDocument struct {
	// ThreadID is empty for the resource's document.
	ThreadID string          `json:"threadId,omitempty"`
	Versions []WorkingMemory `json:"versions"`
}

// ExportThreadJSON writes the thread threadID of o with all its messages,
// oldest first, to w as a hearth-thread document. Everything is read in one
// transaction, and nothing is written to w if o does not own the thread.
//
// NOTE: the read transaction stays open while w is written, and bbolt cannot
// grow the data file while a read transaction is open, so a slow w can hold
// up writers. Write to a file or a buffer rather than to a slow network peer.
func (s *Store) ExportThreadJSON(ctx context.Context, o Owner, threadID string, w io.Writer) error {
	err := s.db.View(func(tx *bbolt.Tx) error {
		rec, err := ownedThread(tx, o, threadID)
		if err != nil {
			return err
		}
		out := newJSONWriter(w)
		out.raw(`{"format":`)
		out.value(ThreadFormat)
		out.raw(`,"version":`)
		out.value(ExportVersion)
		out.raw(`,"thread":`)
		out.value(rec.thread(threadID, o.Key))
		out.raw(",\n" + `"messages":`)
		if err := writeJSONMessages(ctx, tx, o, threadID, out); err != nil {
			return err
		}
		out.raw("}\n")
		return out.flush()
	})
	if err != nil {
		return fmt.Errorf("export thread %s: %w", threadID, err)
	}
	return nil
}

// ExportProfile writes every thread of o with its messages, and o's working
// memory documents with their kept versions, to w as one hearth-profile
// document. Threads are listed in the order of their ids, which is the order
// they were created or imported in. Everything is read in one transaction and
// written as it is read, so the profile is never held in memory as a whole.
//
// As with ExportThreadJSON, a slow w keeps the read transaction open and can
// hold up writers.
func (s *Store) ExportProfile(ctx context.Context, o Owner, w io.Writer) error {
	if err := checkOwner(o); err != nil {
		return err
	}
	exportedAt := s.now().UTC()
	err := s.db.View(func(tx *bbolt.Tx) error {
		ids, err := ownedThreadIDs(tx, o)
		if err != nil {
			return err
		}
		out := newJSONWriter(w)
		out.raw(`{"format":`)
		out.value(ProfileFormat)
		out.raw(`,"version":`)
		out.value(ExportVersion)
		out.raw(`,"exportedAt":`)
		out.value(exportedAt)
		out.raw(",\n" + `"threads":[`)

		// Each thread with its messages, one message in memory at a time.
		for i, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			if i > 0 {
				out.raw(",")
			}
			out.raw("\n" + `{"thread":`)
			out.value(exportedThread(tx, o, id))
			out.raw(`,"messages":`)
			if err := writeJSONMessages(ctx, tx, o, id, out); err != nil {
				return err
			}
			out.raw("}")
		}

		// The resource's working memory, then each thread's that has one.
		out.raw("],\n" + `"workingMemory":{"resource":`)
		out.value(workingMemoryDocument{Versions: workingMemoryVersions(tx, o, resourceScopeKey(o.ResourceID), "")})
		out.raw(`,"threads":[`)
		first := true
		for _, id := range ids {
			versions := workingMemoryVersions(tx, o, threadScopeKey(id), id)
			if len(versions) == 0 {
				continue
			}
			if !first {
				out.raw(",")
			}
			first = false
			out.raw("\n")
			out.value(workingMemoryDocument{ThreadID: id, Versions: versions})
		}
		out.raw("]}}\n")
		return out.flush()
	})
	if err != nil {
		return fmt.Errorf("export profile of %s: %w", o.ResourceID, err)
	}
	return nil
}

// jsonWriter writes a JSON document in pieces: literal text for the
// document's frame and values encoded with json.Encoder. The first error
// sticks and is returned by flush.
type jsonWriter struct {
	out     *bufio.Writer
	scratch bytes.Buffer
	enc     *json.Encoder
	err     error
}

func newJSONWriter(w io.Writer) *jsonWriter {
	j := &jsonWriter{out: bufio.NewWriterSize(w, 64<<10)}
	j.enc = json.NewEncoder(&j.scratch)
	// The document is data, not HTML: "<" stays "<" as in the store.
	j.enc.SetEscapeHTML(false)
	return j
}

func (j *jsonWriter) raw(s string) {
	if j.err == nil {
		_, j.err = j.out.WriteString(s)
	}
}

// value writes v as compact JSON, without the line break that Encode adds.
func (j *jsonWriter) value(v any) {
	if j.err != nil {
		return
	}
	j.scratch.Reset()
	if j.err = j.enc.Encode(v); j.err != nil {
		return
	}
	_, j.err = j.out.Write(bytes.TrimSuffix(j.scratch.Bytes(), []byte("\n")))
}

func (j *jsonWriter) flush() error {
	if j.err != nil {
		return j.err
	}
	return j.out.Flush()
}

// writeJSONMessages writes the messages of a thread as a JSON array, oldest
// first, one line each.
func writeJSONMessages(ctx context.Context, tx *bbolt.Tx, o Owner, threadID string, out *jsonWriter) error {
	out.raw("[")
	first := true
	err := eachMessage(ctx, tx, o, threadID, func(m Message) error {
		if !first {
			out.raw(",")
		}
		first = false
		out.raw("\n")
		out.value(m)
		return out.err
	})
	if err != nil {
		return err
	}
	out.raw("]")
	return out.err
}

// eachMessage calls fn with every message of a thread, oldest first. A
// message that does not open is passed with Damaged set.
func eachMessage(ctx context.Context, tx *bbolt.Tx, o Owner, threadID string, fn func(Message) error) error {
	msgs := tx.Bucket(messagesBucket).Bucket([]byte(threadID))
	if msgs == nil {
		return nil
	}
	c := msgs.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := decodeMessage(v, o, threadID)
		if err != nil {
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

// ownedThreadIDs returns the ids of o's threads in byte order.
func ownedThreadIDs(tx *bbolt.Tx, o Owner) ([]string, error) {
	owned := tx.Bucket(resourcesBucket).Bucket([]byte(o.ResourceID))
	if owned == nil {
		return nil, nil
	}
	var ids []string
	err := owned.Bucket(ownedBucket).ForEach(func(k, _ []byte) error {
		ids = append(ids, string(k))
		return nil
	})
	return ids, err
}

// exportedThread returns the public form of one of o's threads. A record
// that is not even JSON is returned as damaged, as Threads lists it.
func exportedThread(tx *bbolt.Tx, o Owner, id string) Thread {
	rec, err := decodeThreadRecord(tx.Bucket(threadsBucket).Get([]byte(id)), []byte(id))
	if err != nil {
		return Thread{ID: id, ResourceID: o.ResourceID, Metadata: json.RawMessage("{}"), Damaged: true}
	}
	return rec.thread(id, o.Key)
}

// workingMemoryVersions returns the kept versions of a working memory
// document, oldest first. The current version is the last one, because
// putWorkingMemory stores it under its version number too.
func workingMemoryVersions(tx *bbolt.Tx, o Owner, scope []byte, threadID string) []WorkingMemory {
	versions := []WorkingMemory{}
	b := tx.Bucket(workingBucket).Bucket(scope)
	if b == nil {
		return versions
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if slices.Equal(k, currentKey) {
			continue
		}
		versions = append(versions, openWorkingRecord(v, o, scope, threadID))
	}
	return versions
}
