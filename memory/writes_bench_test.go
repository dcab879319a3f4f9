package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// boltWrites is what a bbolt file has had written to it since it was
// opened: the pages of every commit (data and free list) and one meta page
// per commit. It leaves out the growth of the file, which bbolt does with
// ftruncate.
type boltWrites struct {
	bytes   int64
	commits int64
}

// readBoltWrites returns the writes of db so far. Commits are counted by
// the transaction id, which every commit advances by one, and the pages by
// bbolt's own statistics, which count each page a commit allocates and then
// writes.
func readBoltWrites(tb testing.TB, db *bbolt.DB) boltWrites {
	tb.Helper()
	var txid int
	if err := db.View(func(tx *bbolt.Tx) error {
		txid = tx.ID()
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	st := db.Stats()
	pages := st.TxStats.GetPageAlloc()
	return boltWrites{bytes: pages + int64(txid)*int64(db.Info().PageSize), commits: int64(txid)}
}

// Shape of the profile that BenchmarkChatWrites chats in, the state of one
// profile at the end of the load test in app/load_test.go: 5 threads of
// about 1,000 messages, each embedded by the lexical embedder of the app
// (1,024 dimensions).
const (
	chatBenchThreads = 5
	chatBenchHistory = 1000
	chatBenchDim     = 1024
)

// BenchmarkChatWrites performs the store writes of one chat, as
// app.handleChat and app.Agent.ReplyStream make them, and reports what
// bbolt writes to disk for it:
//
//   - the user's message, appended (AppendMessage, or StartThread for the
//     first chat of a thread);
//   - the reply, appended at its first piece of text, marked streaming;
//   - the reply completed in place (UpdateMessage). The app also saves a
//     reply in between when it streams for longer than its progress
//     interval of 500 ms. The load test's replies take 80 ms, so this one
//     is not saved in between;
//   - for the first chat of a thread, the title the app writes after the
//     reply (UpdateThread);
//   - the vectors of both messages, stored by the recall worker after the
//     app queues the thread.
//
// The index snapshot, which the recall worker saves 30 s after a change,
// is not part of a chat, and the snapshot delay is set past the end of the
// benchmark.
//
// The freelist=synced benchmarks use bbolt's default options, as the app
// does. The freelist=memory ones set NoFreelistSync, so that bbolt keeps
// its list of free pages in memory only and rebuilds it when it opens the
// file (BenchmarkStore1M/OpenNoFreelistSync measures that).
//
// Metrics: written-KB/chat, the pages and meta pages of every commit, as
// bbolt counts them; commits/chat; and freelist-KB, the size of bbolt's
// free list at the end, which each commit writes unless the file is opened
// with NoFreelistSync. write_bytes of /proc/self/io is no substitute: on
// Linux 6.18 it was 1.3 to 12 times bbolt's count, varying from chat to
// chat.
func BenchmarkChatWrites(b *testing.B) {
	for _, freelist := range []string{"synced", "memory"} {
		b.Run("freelist="+freelist, func(b *testing.B) {
			f := newRecallFixture(b, "", RecallConfig{DefaultEmbedder: specOf(chatBenchDim, ""), SnapshotDelay: time.Hour})
			f.db.NoFreelistSync = freelist == "memory"
			o := newOwner(resourceA)
			threads := chatBenchProfile(b, f, o)
			ctx := context.Background()

			b.Run("later", func(b *testing.B) {
				measureChatWrites(b, f, func(i int) {
					threadID := threads[i%len(threads)]
					user, err := f.store.AppendMessage(ctx, o, Message{ThreadID: threadID, Role: RoleUser, Content: chatBenchQuestion(i)})
					if err != nil {
						b.Fatal(err)
					}
					chatBenchReply(b, f, o, user.ThreadID)
				})
			})
			b.Run("first", func(b *testing.B) {
				measureChatWrites(b, f, func(i int) {
					thread, _, err := f.store.StartThread(ctx, o, "", Message{Role: RoleUser, Content: chatBenchQuestion(i)})
					if err != nil {
						b.Fatal(err)
					}
					chatBenchReply(b, f, o, thread.ID)
					title := fmt.Sprintf("Boiler repair %d", i)
					if _, err := f.store.UpdateThread(ctx, o, thread.ID, ThreadUpdate{Title: &title}); err != nil {
						b.Fatal(err)
					}
				})
			})
		})
	}
}

// measureChatWrites runs chat b.N times, each time waiting until recall
// has stored the vectors, and reports the writes per chat.
func measureChatWrites(b *testing.B, f *recallFixture, chat func(i int)) {
	before := readBoltWrites(b, f.db)
	for i := 0; b.Loop(); i++ {
		chat(i)
	}
	after := readBoltWrites(b, f.db)
	chats := float64(b.N)
	b.ReportMetric(float64(after.bytes-before.bytes)/1024/chats, "written-KB/chat")
	b.ReportMetric(float64(after.commits-before.commits)/chats, "commits/chat")
	st := f.db.Stats()
	// The free list holds one 8-byte page id per free page.
	b.ReportMetric(float64(st.FreePageN+st.PendingPageN)*8/1024, "freelist-KB")
}

// chatBenchProfile fills o's profile with chatBenchThreads threads of
// chatBenchHistory messages, embeds them, and saves the index snapshot
// twice. The second save frees the pages of the first, as each save of
// the recall worker does in the app, so the free list is as long as in a
// profile that has been chatting for a while.
func chatBenchProfile(b *testing.B, f *recallFixture, o Owner) []string {
	b.Helper()
	var threads []string
	for range chatBenchThreads {
		th := mustCreateThread(b, f.store, o, "Boiler")
		bulkAppend(b, f.store, o, th.ID, chatBenchHistory)
		threads = append(threads, th.ID)
	}
	for range 2 {
		f.unlock(b, o)
		f.wait(b, o)
		// Lock saves the snapshot, since the index changed.
		f.recall.Lock(o.ResourceID)
		// One more message changes the index again before the next save.
		mustAppend(b, f.store, o, Message{ThreadID: threads[0], Role: RoleUser, Content: chatBenchQuestion(-1)})
		f.recall.Enqueue(o, threads[0])
	}
	f.unlock(b, o)
	f.wait(b, o)
	return threads
}

// chatBenchQuestion is the user's message of chat i, about as long as the
// load test's.
func chatBenchQuestion(i int) string {
	return fmt.Sprintf("When did I say the boiler was fixed, and who fixed it? (client 3, message %d)", i)
}

// chatBenchReply stores a reply the way the app's reply writer does: at
// its first piece of text, then complete, and then waits until recall has
// stored the vectors of the thread's new messages.
func chatBenchReply(b *testing.B, f *recallFixture, o Owner, threadID string) {
	ctx := context.Background()
	reply, err := f.store.AppendMessage(ctx, o, Message{
		ThreadID: threadID, Role: RoleAssistant, Model: "llama3.2", Content: "Noted. ",
		Status: StatusIncomplete, Streaming: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	reply.Content = "Noted. The boiler was fixed on Monday morning."
	reply.Status, reply.Streaming = StatusComplete, false
	reply.PromptTokens, reply.ReplyTokens = 412, 9
	if _, err := f.store.UpdateMessage(ctx, o, reply); err != nil {
		b.Fatal(err)
	}
	f.recall.Enqueue(o, threadID)
	f.wait(b, o)
}
