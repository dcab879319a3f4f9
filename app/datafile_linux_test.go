package app

import (
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"

	"hearth/internal/smaps"
)

// mappedResidentKiB returns the resident size, in KiB, of this process's
// memory maps of the file at path.
func mappedResidentKiB(t testing.TB, path string) int {
	t.Helper()
	kib, err := smaps.MappedResidentKiB(path)
	if err != nil {
		t.Fatal(err)
	}
	return kib
}

func TestWalkReleasesPages(t *testing.T) {
	dir := t.TempDir()
	db, err := openDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	// 40,000 records of 200 bytes in 20 transactions: thousands of pages.
	for range 20 {
		err := db.Update(func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte(fillerBucket))
			if err != nil {
				return err
			}
			seq, _ := b.NextSequence()
			for i := range 2000 {
				key := fillerKey(int(seq)*2000 + i)
				if err := b.Put(key, make([]byte, 200)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, DataFileName)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	db, check, err := openBolt(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if check != checkedEveryPage {
		t.Fatalf("check %d, want checkedEveryPage", check)
	}
	resident := mappedResidentKiB(t, path)
	if limit := int(info.Size() / 1024 / 10); resident > limit {
		t.Errorf("%d KiB of the %d KiB file stay resident after the walk, want at most %d", resident, info.Size()/1024, limit)
	}

	// The pages map again on the next read.
	err = db.View(func(tx *bbolt.Tx) error {
		if n := tx.Bucket([]byte(fillerBucket)).Stats().KeyN; n != 40000 {
			t.Errorf("filler has %d keys after the release, want 40000", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkOpenBolt opens a data file of 320,000 records of 200 bytes,
// written in 16 transactions and built once per run: about 170 MB, which
// file-MB reports. walk reads every page, as an open after a crash does,
// and clean opens after RecordCleanClose, which is outside the timer.
// resident-MiB is how much of the file's memory map stays resident once
// openBolt returns.
func BenchmarkOpenBolt(b *testing.B) {
	dir := b.TempDir()
	db, err := openDB(dir)
	if err != nil {
		b.Fatal(err)
	}
	for batch := range 16 {
		err := db.Update(func(tx *bbolt.Tx) error {
			bucket, err := tx.CreateBucketIfNotExists([]byte(fillerBucket))
			if err != nil {
				return err
			}
			for i := range 20_000 {
				if err := bucket.Put(fillerKey(batch*20_000+i), make([]byte, 200)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, DataFileName)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}

	for _, bench := range []struct {
		name  string
		clean bool
		want  pageCheck
	}{
		{"walk", false, checkedEveryPage},
		{"clean", true, checkedStructure},
	} {
		b.Run(bench.name, func(b *testing.B) {
			var residentKiB int
			for range b.N {
				if bench.clean {
					b.StopTimer()
					if err := RecordCleanClose(dir); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				db, check, err := openBolt(path, false)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if check != bench.want {
					b.Fatalf("check %d, want %d", check, bench.want)
				}
				residentKiB = mappedResidentKiB(b, path)
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(residentKiB)/1024, "resident-MiB")
			b.ReportMetric(float64(info.Size())/1e6, "file-MB")
		})
	}
}
