package app

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"hearth/memory"
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
	// ClosedFileName is the file in which RecordCleanClose describes the
	// data file after a clean close, so that the next open can skip reading
	// every page. It contains no secret.
	ClosedFileName = "hearth.db.closed"
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
	db, _, err := openBolt(path, false)
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

// pageCheck is how much of a data file openBolt read to find damage.
type pageCheck int

const (
	// checkedStructure means that openBolt read the length, the meta
	// pages, the root bucket and the leftmost pages of each top-level bucket.
	checkedStructure pageCheck = iota + 1
	// checkedEveryPage means that it also read every page of every bucket.
	checkedEveryPage
)

// openBolt opens the bbolt file at path. bbolt reads the file through a
// memory map and faults, rather than returning an error, on some damaged
// files, such as one cut short. A file cut short is found before bbolt opens
// it; any other fault while opening is turned into a DamagedFileError, though
// the memory map then keeps the file locked until the process ends.
//
// The structure of the file is checked at every open. Every page of every
// bucket is also read, so that a damaged page is found now rather than in a
// later request, when walkAll is set or when the file is not as the last
// RecordCleanClose left it. That is the case on the first open of a file,
// after a crash or a power loss, and after the file was copied or changed.
// A clean restart, the common case, skips the walk, whose time and resident
// memory grow with the size of the file.
func openBolt(path string, walkAll bool) (db *bbolt.DB, check pageCheck, err error) {
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
			db, check, err = nil, 0, &DamagedFileError{Path: path, Err: fmt.Errorf("reading it failed: %v", r)}
		}
	}()

	if err := checkBoltLength(path); err != nil {
		return nil, 0, &DamagedFileError{Path: path, Err: err}
	}
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout, OpenFile: openFile})
	switch {
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrChecksum):
		return nil, 0, &DamagedFileError{Path: path, Err: err}
	case err != nil:
		return nil, 0, err
	}

	// The record of the last clean close is read, and removed, only now
	// that this process holds the file's lock.
	closedCleanly := matchesCleanClose(db)
	check = checkedStructure
	err = db.View(checkStructure)
	if err == nil && (walkAll || !closedCleanly) {
		check = checkedEveryPage
		err = db.View(walkEveryPage)
		memory.ReleasePages(db)
	}
	if err != nil {
		db.Close()
		return nil, 0, &DamagedFileError{Path: path, Err: err}
	}
	return db, check, nil
}

// checkStructure reads the root bucket and, in each top-level bucket, the
// pages from its root to its first key. A damaged page there panics or
// faults, which openBolt turns into a DamagedFileError.
func checkStructure(tx *bbolt.Tx) error {
	return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
		b.Cursor().First()
		return nil
	})
}

// walkEveryPage reads the header of every page of every bucket, nested
// buckets included. bbolt panics on a page whose header does not match its
// place, and the memory map faults on a page beyond the end of the file.
func walkEveryPage(tx *bbolt.Tx) error {
	return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
		b.Stats()
		return nil
	})
}

// cleanClose is the content of ClosedFileName: what identifies the data
// file and its last transaction right after a clean close. A file that
// still matches it has not been written, copied or replaced since.
type cleanClose struct {
	Version int    `json:"version"`
	TxID    uint64 `json:"txid"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"modTimeNs"`
	Device  uint64 `json:"device"`
	Inode   uint64 `json:"inode"`
}

// cleanCloseVersion is the layout of cleanClose. A record of another
// version never matches.
const cleanCloseVersion = 1

// RecordCleanClose records the data file in dir as it is now, so that the
// next open can skip reading every page of it. Call it only after App.Close
// returned nil. Without a record, or when the file no longer matches it,
// the next open reads every page.
//
// The record identifies the file by its device and inode, so on systems
// where fileIdentity reports none, nothing is recorded and every open reads
// every page.
func RecordCleanClose(dir string) error {
	path := filepath.Join(dir, DataFileName)
	meta, ok, err := readBoltMeta(path)
	if err != nil || !ok {
		return err
	}
	record, ok, err := describeDataFile(path, meta.txid)
	if err != nil || !ok {
		return err
	}
	b, err := json.Marshal(record)
	if err != nil {
		return err
	}

	// A torn or partly written record fails to parse or to match, which
	// only costs the next open a walk, so the record is not synced.
	tmp, err := os.CreateTemp(dir, "."+ClosedFileName+"-*")
	if err != nil {
		return fmt.Errorf("record clean close: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("record clean close: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("record clean close: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, ClosedFileName)); err != nil {
		return fmt.Errorf("record clean close: %w", err)
	}
	return nil
}

// matchesCleanClose reports whether the open data file of db is the one
// that the record of the last clean close describes, unchanged. It removes
// the record, which describes the file only until this process writes to
// it. The caller must hold the file's lock, which bbolt.Open takes.
func matchesCleanClose(db *bbolt.DB) bool {
	recordPath := filepath.Join(filepath.Dir(db.Path()), ClosedFileName)
	b, err := os.ReadFile(recordPath)
	if err != nil {
		return false
	}
	// A record left behind after a failed removal matches no later state
	// of the file, because any write changes its transaction id and
	// modification time.
	os.Remove(recordPath)

	var recorded cleanClose
	if err := json.Unmarshal(b, &recorded); err != nil || recorded.Version != cleanCloseVersion {
		return false
	}
	var txid uint64
	db.View(func(tx *bbolt.Tx) error {
		txid = uint64(tx.ID())
		return nil
	})
	current, ok, err := describeDataFile(db.Path(), txid)
	return err == nil && ok && current == recorded
}

// describeDataFile returns the clean-close record of the data file at path
// as it is now, whose last transaction was txid. ok is false when the
// system reports no file identity. It opens no descriptor of the file, so
// it cannot release a lock that another descriptor holds.
func describeDataFile(path string, txid uint64) (record cleanClose, ok bool, err error) {
	info, err := os.Stat(path)
	if err != nil {
		return cleanClose{}, false, fmt.Errorf("describe data file: %w", err)
	}
	device, inode, ok := fileIdentity(info)
	if !ok {
		return cleanClose{}, false, nil
	}
	return cleanClose{
		Version: cleanCloseVersion,
		TxID:    txid,
		Size:    info.Size(),
		ModTime: info.ModTime().UnixNano(),
		Device:  device,
		Inode:   inode,
	}, true, nil
}

// checkBoltLength returns an error when the file at path is shorter than its
// bbolt meta page says it is, which is what a copy or a disk cut short
// leaves. It returns nil for files it cannot judge, such as a new empty file
// or one without a valid meta page, and leaves those to bbolt.
func checkBoltLength(path string) error {
	meta, ok, err := readBoltMeta(path)
	if err != nil || !ok {
		return nil
	}
	if want := int64(meta.pages) * int64(meta.pageSize); meta.fileSize < want {
		return fmt.Errorf("the file has %d bytes but its index needs %d: it was cut short", meta.fileSize, want)
	}
	return nil
}

// boltMeta is the current meta page of a bbolt file, with the file's size.
type boltMeta struct {
	fileSize int64
	pageSize uint32
	pages    uint64 // the page count of the current meta page
	txid     uint64 // the transaction id of the current meta page
}

// readBoltMeta reads the current meta page of the bbolt file at path. ok is
// false for an empty file and for one without a valid first meta page.
//
// A bbolt file starts with two meta pages, each a 16-byte page header and a
// meta record: magic, version, page size and flags (4 bytes each), the root
// bucket (16), the free list page (8), the page count (8), the transaction
// id (8), and an FNV-64a checksum of the fields before it. The valid meta
// with the higher transaction id is the current one. The layout is bbolt's
// file format version 2, read here in little-endian, the byte order of the
// platforms Hearth builds for.
func readBoltMeta(path string) (meta boltMeta, ok bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return boltMeta{}, false, nil
	}
	if err != nil {
		return boltMeta{}, false, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return boltMeta{}, false, err
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
		return boltMeta{}, false, nil
	}
	if size, pages1, txid1, ok1 := readMeta(int(pageSize)); ok1 && size == pageSize && txid1 > txid {
		pages, txid = pages1, txid1
	}
	return boltMeta{fileSize: info.Size(), pageSize: pageSize, pages: pages, txid: txid}, true, nil
}

// MoveDamagedAside renames a damaged data file in dir so that Hearth can
// start with an empty one, and returns the new name. It refuses when every
// page of the file reads fine, so it never sets a healthy file aside.
func MoveDamagedAside(dir string) (string, error) {
	path := filepath.Join(dir, DataFileName)
	db, _, err := openBolt(path, true)
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
