package memory_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"hearth/memory"
	"hearth/seal"
)

// openExampleStore opens a store in a new temporary directory and returns
// it with a function that closes and removes it.
func openExampleStore() (*memory.Store, func()) {
	dir, err := os.MkdirTemp("", "hearth-example")
	if err != nil {
		log.Fatal(err)
	}
	db, err := bbolt.Open(filepath.Join(dir, "hearth.db"), 0o600, nil)
	if err != nil {
		log.Fatal(err)
	}
	db.MaxBatchDelay = time.Millisecond
	store, err := memory.Open(db)
	if err != nil {
		log.Fatal(err)
	}
	return store, func() {
		db.Close()
		os.RemoveAll(dir)
	}
}

func ExampleStore_ExportProfile() {
	store, closeStore := openExampleStore()
	defer closeStore()
	ctx := context.Background()
	from := memory.Owner{ResourceID: "user_old_laptop", Key: seal.NewKey()}
	to := memory.Owner{ResourceID: "user_new_laptop", Key: seal.NewKey()}

	thread, err := store.CreateThread(ctx, from, "Trip to Kyoto", nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := store.AppendMessage(ctx, from, memory.Message{ThreadID: thread.ID, Role: memory.RoleUser, Content: "Plan two days in Kyoto."}); err != nil {
		log.Fatal(err)
	}

	// The export is plain JSON, not sealed, so keep it as safe as the
	// profile itself.
	var export bytes.Buffer
	if err := store.ExportProfile(ctx, from, &export); err != nil {
		log.Fatal(err)
	}
	result, err := store.ImportProfile(ctx, to, &export)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("imported %d thread with %d message\n", result.Threads, result.Messages)

	messages, err := store.LastMessages(ctx, to, result.ThreadIDs[0], 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(messages[0].Content)
	// Output:
	// imported 1 thread with 1 message
	// Plan two days in Kyoto.
}

func ExampleStore_ExportThreadMarkdown() {
	store, closeStore := openExampleStore()
	defer closeStore()
	ctx := context.Background()
	owner := memory.Owner{ResourceID: "user_example", Key: seal.NewKey()}

	thread, err := store.CreateThread(ctx, owner, "Trip to Kyoto", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range []memory.Message{
		{ThreadID: thread.ID, Role: memory.RoleUser, Content: "# Plan two days in Kyoto."},
		{ThreadID: thread.ID, Role: memory.RoleAssistant, Content: "**Day 1:** Fushimi Inari.\n**Day 2:** Arashiyama."},
	} {
		if _, err := store.AppendMessage(ctx, owner, m); err != nil {
			log.Fatal(err)
		}
	}

	var doc strings.Builder
	if err := store.ExportThreadMarkdown(ctx, owner, thread.ID, &doc); err != nil {
		log.Fatal(err)
	}
	// Leave out the times, which change with every run.
	for line := range strings.Lines(doc.String()) {
		if i := strings.Index(line, " · "); i > 0 {
			line = line[:i] + "\n"
		}
		fmt.Print(line)
	}
	// Output:
	// # Trip to Kyoto
	//
	// ## You
	//
	// > \# Plan two days in Kyoto.
	//
	// ## Assistant
	//
	// > **Day 1:** Fushimi Inari.
	// > **Day 2:** Arashiyama.
	//
}
