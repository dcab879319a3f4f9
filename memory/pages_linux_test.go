package memory

import (
	"os"
	"strings"
	"testing"
	"time"

	"hearth/internal/smaps"
)

// TestRecallScanReleasesPages checks that once a profile's recall has
// loaded its snapshot and scanned every message, the pages of the data file
// that the scan read no longer count in this process's resident memory,
// and that the data stays readable.
func TestRecallScanReleasesPages(t *testing.T) {
	path := t.TempDir() + "/hearth.db"
	o := newOwner(resourceA)
	f := newRecallFixture(t, path, RecallConfig{})
	f.unlock(t, o)
	th := mustCreateThread(t, f.store, o, "Long notes")
	texts := make([]string, 200)
	for i := range texts {
		texts[i] = strings.Repeat(numbered(i, i+1)[0]+" about the garden shed. ", 150)
	}
	f.say(t, o, th.ID, texts...)
	f.wait(t, o)
	f.recall.Lock(o.ResourceID)
	f.recall.Close()
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() < 2<<20 {
		t.Fatalf("the data file is %d bytes, too small to tell released pages from the rest", info.Size())
	}

	g := newRecallFixture(t, path, RecallConfig{})
	g.unlock(t, o)
	g.wait(t, o)
	// The worker releases the pages in a goroutine of its own after the
	// scan.
	limit := int(info.Size() / 1024 / 10)
	var resident int
	for deadline := time.Now().Add(10 * time.Second); ; {
		resident, err = smaps.MappedResidentKiB(path)
		if err != nil {
			t.Fatal(err)
		}
		if resident <= limit || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if resident > limit {
		t.Errorf("%d KiB of the %d KiB file stay resident 10 s after the scan, want at most %d", resident, info.Size()/1024, limit)
	}
	if n := g.recall.Status(o).Vectors; n != len(texts) {
		t.Errorf("the loaded index holds %d vectors, want %d", n, len(texts))
	}
	msgs, err := g.store.LastMessages(t.Context(), o, th.ID, len(texts))
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(texts) || msgs[len(msgs)-1].Content != texts[len(texts)-1] {
		t.Errorf("after the release the thread reads back %d messages, want %d with the same text", len(msgs), len(texts))
	}
}
