package memory_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"hearth/memory"
	"hearth/seal"
)

func ExampleStore() {
	dir, err := os.MkdirTemp("", "hearth-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, "hearth.db"), 0o600, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.MaxBatchDelay = time.Millisecond

	store, err := memory.Open(db)
	if err != nil {
		log.Fatal(err)
	}
	// The key comes from the signed-in profile, and the store never keeps it.
	owner := memory.Owner{ResourceID: "user_example", Key: seal.NewKey()}

	ctx := context.Background()
	thread, err := store.CreateThread(ctx, owner, "Trip to Kyoto", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range []memory.Message{
		{ThreadID: thread.ID, Role: memory.RoleUser, Content: "Plan two days in Kyoto."},
		{ThreadID: thread.ID, Role: memory.RoleAssistant, Content: "Day 1: Fushimi Inari. Day 2: Arashiyama."},
	} {
		if _, err := store.AppendMessage(ctx, owner, m); err != nil {
			log.Fatal(err)
		}
	}

	messages, err := store.LastMessages(ctx, owner, thread.ID, 10)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range messages {
		fmt.Printf("%s: %s\n", m.Role, m.Content)
	}
	// Output:
	// user: Plan two days in Kyoto.
	// assistant: Day 1: Fushimi Inari. Day 2: Arashiyama.
}
