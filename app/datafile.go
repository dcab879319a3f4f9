package app

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"hearth/seal"
)

// Names of the files inside the data directory.
const (
	// DataFileName is the bbolt file with every profile's data.
	DataFileName = "hearth.db"
	// InstallKeyFileName holds the key that seals the token signing keys. It
	// is apart from the data file so that a copy of that file alone cannot
	// forge tokens.
	InstallKeyFileName = "install.key"
)

// lockTimeout is how long Open waits for another process to release the
// data file before giving up.
const lockTimeout = 750 * time.Millisecond

// ErrInstallKeyMissing is returned by Open when the install key file is
// missing although the data file has profiles.
var ErrInstallKeyMissing = errors.New("install key missing")

// ErrAlreadyRunning is returned by Open when another Hearth process holds
// the data file.
var ErrAlreadyRunning = errors.New("Hearth is already running")

// openDB opens or creates the data file in dir.
func openDB(dir string) (*bbolt.DB, error) {
	if dir == "" {
		return nil, errors.New("open data file: no data directory set")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, DataFileName)
	db, err := openBolt(path)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w with data directory %s: use that window or stop `hearth serve`, or start this one with another --data directory", ErrAlreadyRunning, dir)
	}
	var damaged *DamagedFileError
	if errors.As(err, &damaged) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("open data file %s: %w", path, err)
	}
	// The memory store groups concurrent writes into shared commits with
	// Batch. bbolt's default wait of 10 ms for more writers would delay
	// every lone write, such as a user's message before the model is asked.
	db.MaxBatchDelay = time.Millisecond
	return db, nil
}

// DamagedFileError is returned by Open when the data file cannot be read as
// a bbolt database: it was truncated, overwritten or corrupted. The file is
// left as it is.
type DamagedFileError struct {
	Path string
	Err  error
}

func (e *DamagedFileError) Error() string {
	return fmt.Sprintf("the data file %s is damaged (%v) and was left untouched; start with --start-fresh to move it aside and begin with an empty one, or restore the data directory from a backup", e.Path, e.Err)
}

func (e *DamagedFileError) Unwrap() error { return e.Err }

// openBolt opens the bbolt file at path. bbolt reads the file through a
// memory map and faults, rather than returning an error, on some damaged
// files, such as one cut short. A file cut short is found before bbolt opens
// it; any other fault while opening is turned into a DamagedFileError, though
// the memory map then keeps the file locked until the process ends. The
// top-level buckets are read once so that a damaged root is found now rather
// than on the first request.
func openBolt(path string) (db *bbolt.DB, err error) {
	// The file is opened here so that it can be closed, and its lock
	// released, when bbolt faults half-way through opening it.
	var file *os.File
	openFile := func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		file = f
		return f, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if file != nil {
				file.Close()
			}
			db, err = nil, &DamagedFileError{Path: path, Err: fmt.Errorf("reading it failed: %v", r)}
		}
	}()

	if err := checkBoltLength(path); err != nil {
		return nil, &DamagedFileError{Path: path, Err: err}
	}
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout, OpenFile: openFile})
	switch {
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrChecksum):
		return nil, &DamagedFileError{Path: path, Err: err}
	case err != nil:
		return nil, err
	}
	err = db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			b.Stats()
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, &DamagedFileError{Path: path, Err: err}
	}
	return db, nil
}

// checkBoltLength returns an error when the file at path is shorter than its
// bbolt meta page says it is, which is what a copy or a disk cut short
// leaves. It returns nil for files it cannot judge, such as a new empty file
// or one without a valid meta page, and leaves those to bbolt.
//
// A bbolt file starts with two meta pages, each a 16-byte page header and a
// meta record: magic, version, page size and flags (4 bytes each), the root
// bucket (16), the free list page (8), the page count (8), the transaction
// id (8), and an FNV-64a checksum of the fields before it. The valid meta
// with the higher transaction id is the current one. The layout is bbolt's
// file format version 2, read here in little-endian, the byte order of the
// platforms Hearth builds for.
func checkBoltLength(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return nil
	}
	head := make([]byte, 2*64<<10)
	n, _ := io.ReadFull(f, head)
	head = head[:n]

	const headerSize, metaSize = 16, 64
	readMeta := func(offset int) (pageSize uint32, pages, txid uint64, ok bool) {
		if offset+headerSize+metaSize > len(head) {
			return 0, 0, 0, false
		}
		m := head[offset+headerSize : offset+headerSize+metaSize]
		le := binary.LittleEndian
		sum := fnv.New64a()
		sum.Write(m[:56])
		if le.Uint32(m[0:]) != 0xED0CDAED || le.Uint32(m[4:]) != 2 || sum.Sum64() != le.Uint64(m[56:]) {
			return 0, 0, 0, false
		}
		return le.Uint32(m[8:]), le.Uint64(m[40:]), le.Uint64(m[48:]), true
	}

	pageSize, pages, txid, ok := readMeta(0)
	if !ok {
		return nil
	}
	if size, pages1, txid1, ok1 := readMeta(int(pageSize)); ok1 && size == pageSize && txid1 > txid {
		pages = pages1
	}
	if want := int64(pages) * int64(pageSize); info.Size() < want {
		return fmt.Errorf("the file has %d bytes but its index needs %d: it was cut short", info.Size(), want)
	}
	return nil
}

// MoveDamagedAside renames a damaged data file in dir so that Hearth can
// start with an empty one, and returns the new name. It refuses when the
// file opens fine, so it never sets a healthy file aside.
func MoveDamagedAside(dir string) (string, error) {
	path := filepath.Join(dir, DataFileName)
	db, err := openBolt(path)
	var damaged *DamagedFileError
	if !errors.As(err, &damaged) {
		if err == nil {
			db.Close()
			return "", fmt.Errorf("the data file %s is not damaged, so it was not moved", path)
		}
		return "", err
	}
	return moveAside(path)
}

// moveAside renames the data file at path to a name that says it is
// damaged and when it was set aside.
func moveAside(path string) (string, error) {
	aside := fmt.Sprintf("%s.damaged-%s", path, time.Now().UTC().Format("20060102-150405"))
	if err := os.Rename(path, aside); err != nil {
		return "", fmt.Errorf("move the damaged data file aside: %w", err)
	}
	return aside, nil
}

// readInstallKey reads the install key at path. A missing file is an error
// wrapping fs.ErrNotExist.
func readInstallKey(path string) (*seal.Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read install key %s: %w", path, err)
	}
	defer clear(b)
	key, err := seal.KeyFrom(b)
	if err != nil {
		return nil, fmt.Errorf("install key %s has %d bytes, want %d: restore it from a backup, or delete it to make a new one (everyone then signs in again)", path, len(b), seal.KeySize)
	}
	return key, nil
}

// createInstallKey writes a new random key to path, readable by the owner
// only. It writes a temporary file and renames it, so a crash never leaves a
// short key behind.
func createInstallKey(path string) (*seal.Key, error) {
	key := seal.NewKey()
	b := key.Bytes()
	defer clear(b)

	tmp, err := os.CreateTemp(filepath.Dir(path), ".install.key-*")
	if err != nil {
		return nil, fmt.Errorf("create install key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("create install key: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write install key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write install key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write install key: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("save install key %s: %w", path, err)
	}
	return key, nil
}
