package app

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// fillerBucket is a top-level bucket that the tests below add to a data
// file, with fillerKeys keys of 200 bytes each: enough for many leaf pages
// under one branch page.
const (
	fillerBucket = "filler"
	fillerKeys   = 2000
)

// fillerKey returns the key of the i-th record of fillerBucket.
func fillerKey(i int) []byte {
	return fmt.Appendf(nil, "filler-key-%05d", i)
}

// newFilledDataFile creates a data file in a new directory through openDB
// and adds fillerBucket to it in one transaction. It returns the directory
// and the file's path, with the file closed and no clean close recorded.
func newFilledDataFile(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	db, err := openDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	addFiller(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Join(dir, DataFileName)
}

// addFiller adds fillerBucket to db.
func addFiller(t *testing.T, db *bbolt.DB) {
	t.Helper()
	err := db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte(fillerBucket))
		if err != nil {
			return err
		}
		for i := range fillerKeys {
			if err := b.Put(fillerKey(i), bytes.Repeat([]byte{byte(i)}, 200)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// openForTest calls openBolt and closes the database when the test ends.
func openForTest(t *testing.T, path string, walkAll bool) (pageCheck, error) {
	t.Helper()
	db, check, err := openBolt(path, walkAll)
	if err == nil {
		t.Cleanup(func() { db.Close() })
	}
	return check, err
}

// leafPageWith returns the id of the leaf page of the file at path that
// holds key, found in the file's bytes, and the file's page size.
func leafPageWith(t *testing.T, path string, key []byte) (id int64, pageSize int64) {
	t.Helper()
	meta, ok, err := readBoltMeta(path)
	if err != nil || !ok {
		t.Fatalf("read meta of %s: ok %v, err %v", path, ok, err)
	}
	pageSize = int64(meta.pageSize)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const leafPageFlag = 0x02
	for offset := 0; ; {
		i := bytes.Index(data[offset:], key)
		if i < 0 {
			t.Fatalf("no leaf page of %s holds %q", path, key)
		}
		offset += i
		page := int64(offset) / pageSize
		if binary.LittleEndian.Uint16(data[page*pageSize+8:]) == leafPageFlag {
			return page, pageSize
		}
		offset += len(key)
	}
}

// damagePage overwrites the id in the header of page id, as a disk error
// or a write that never reached the disk would leave it. The modification
// time of the file is kept when keepModTime is set.
func damagePage(t *testing.T, path string, id, pageSize int64, keepModTime bool) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xee}, 8), id*pageSize); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if keepModTime {
		if err := os.Chtimes(path, info.ModTime(), info.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenAfterCleanCloseSkipsWalk(t *testing.T) {
	dir, path := newFilledDataFile(t)
	if err := RecordCleanClose(dir); err != nil {
		t.Fatal(err)
	}

	db, check, err := openBolt(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if check != checkedStructure {
		t.Errorf("open after a clean close: check %d, want checkedStructure", check)
	}
	if _, err := os.Stat(filepath.Join(dir, ClosedFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the record of the clean close is still there after the open (stat error %v)", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Closed without a record, as a crash leaves the file.
	if check, err := openForTest(t, path, false); err != nil || check != checkedEveryPage {
		t.Errorf("open without a record: check %d, err %v, want checkedEveryPage", check, err)
	}
}

func TestOpenWalksChangedFile(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, dir, path string)
	}{
		{"no record", func(t *testing.T, dir, path string) {
			if err := os.Remove(filepath.Join(dir, ClosedFileName)); err != nil {
				t.Fatal(err)
			}
		}},
		{"written after the record", func(t *testing.T, dir, path string) {
			db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bbolt.Tx) error {
				return tx.Bucket([]byte(fillerBucket)).Put(fillerKey(0), []byte("changed"))
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		}},
		{"modification time changed", func(t *testing.T, dir, path string) {
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Fatal(err)
			}
		}},
		{"copied with its modification time", func(t *testing.T, dir, path string) {
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			copied := path + ".copy"
			if err := os.WriteFile(copied, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(copied, info.ModTime(), info.ModTime()); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(copied, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"record of another version", func(t *testing.T, dir, path string) {
			record := filepath.Join(dir, ClosedFileName)
			b, err := os.ReadFile(record)
			if err != nil {
				t.Fatal(err)
			}
			b = bytes.Replace(b, []byte(`"version":1`), []byte(`"version":2`), 1)
			if err := os.WriteFile(record, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"record unreadable", func(t *testing.T, dir, path string) {
			if err := os.WriteFile(filepath.Join(dir, ClosedFileName), []byte("{not json"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, path := newFilledDataFile(t)
			if err := RecordCleanClose(dir); err != nil {
				t.Fatal(err)
			}
			tt.change(t, dir, path)

			check, err := openForTest(t, path, false)
			if err != nil {
				t.Fatal(err)
			}
			if check != checkedEveryPage {
				t.Errorf("check %d, want checkedEveryPage", check)
			}
		})
	}

	t.Run("walk requested", func(t *testing.T) {
		dir, path := newFilledDataFile(t)
		if err := RecordCleanClose(dir); err != nil {
			t.Fatal(err)
		}
		if check, err := openForTest(t, path, true); err != nil || check != checkedEveryPage {
			t.Errorf("check %d, err %v, want checkedEveryPage", check, err)
		}
	})
}

func TestDamagedPageFoundAfterCrash(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	env.chat(token, map[string]string{"message": "a message before the crash"})
	env.stop()

	// The filler's last leaf page is not on the path to any bucket's first
	// key, so only the walk of every page reads it.
	path := filepath.Join(env.dataDir, DataFileName)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	addFiller(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	page, pageSize := leafPageWith(t, path, fillerKey(fillerKeys-1))
	damagePage(t, path, page, pageSize, false)
	damaged, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	model, err := NewOllama(env.fake.URL(), testModel, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(Config{DataDir: env.dataDir, Model: model, Logger: slog.New(slog.DiscardHandler)})
	var damagedErr *DamagedFileError
	if !errors.As(err, &damagedErr) || damagedErr.Path != path {
		t.Fatalf("Open error = %v, want a DamagedFileError naming %s", err, path)
	}
	if !strings.Contains(err.Error(), "--start-fresh") {
		t.Errorf("error %q does not name the way out", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, damaged) {
		t.Error("the damaged file was changed by a failed open")
	}
}

func TestDamagedPageFoundAfterCleanClose(t *testing.T) {
	dir, path := newFilledDataFile(t)
	if err := RecordCleanClose(dir); err != nil {
		t.Fatal(err)
	}
	page, pageSize := leafPageWith(t, path, fillerKey(fillerKeys-1))
	damagePage(t, path, page, pageSize, false)

	check, err := openForTest(t, path, false)
	var damaged *DamagedFileError
	if !errors.As(err, &damaged) {
		t.Fatalf("open of a file damaged after its clean close: check %d, error %v, want a DamagedFileError", check, err)
	}
}

func TestStructureCheckedAfterCleanClose(t *testing.T) {
	dir, path := newFilledDataFile(t)
	if err := RecordCleanClose(dir); err != nil {
		t.Fatal(err)
	}
	meta, ok, err := readBoltMeta(path)
	if err != nil || !ok {
		t.Fatalf("read meta: ok %v, err %v", ok, err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var root int64
	db.View(func(tx *bbolt.Tx) error {
		root = int64(tx.Bucket([]byte(fillerBucket)).RootPage())
		return nil
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// The damage keeps the modification time, so the file still matches
	// the record and only the structural check can find it.
	damagePage(t, path, root, int64(meta.pageSize), true)
	check, err := openForTest(t, path, false)
	var damaged *DamagedFileError
	if !errors.As(err, &damaged) {
		t.Fatalf("open with a damaged bucket root: check %d, error %v, want a DamagedFileError", check, err)
	}
}

func TestRecordCleanCloseWithoutDataFile(t *testing.T) {
	dir := t.TempDir()
	if err := RecordCleanClose(dir); err != nil {
		t.Fatalf("RecordCleanClose without a data file: %v, want nil", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ClosedFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a record was written without a data file (stat error %v)", err)
	}
}
