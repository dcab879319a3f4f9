// Package memory is Hearth's record of every conversation: threads, their
// messages, and the working memory document the assistant keeps about each
// person.
//
// Threads belong to a resource, the owner named by a resource id such as
// "user_<profileId>". Every exported operation on a thread takes an Owner,
// the caller's resource id with its data key, and checks ownership inside
// the same bbolt transaction, so another resource's thread is ErrNotFound,
// exactly like a thread that does not exist. There is no method that reads
// a thread without naming its owner.
//
// What a record says is sealed with the owner's data key
// (XChaCha20-Poly1305, a fresh nonce per write, the record's place as
// associated data): titles, metadata, message text, parts and errors, the
// earlier versions of regenerated replies, and working memory. Ids, times,
// counts, roles, statuses and the streaming flag stay in the clear so that
// threads can be listed and paged. A record that does not open is
// returned with Damaged set rather than failing the whole read. A thread
// whose messages were found damaged can be marked (MarkThreadDamaged), so
// that listings show it without opening its messages.
//
// A client request id is unique per resource: a retried request, with or
// without its thread, finds the message it stored (ErrDuplicate).
//
// A reply is stored with Streaming set while it is written, and each
// message so stored is also listed in the streaming index. If the process
// dies before the reply is finished, the flag stays set. The app calls
// RecoverInterrupted once after Open, which marks every listed reply
// StatusInterrupted and keeps the text written so far.
//
// Layout in bbolt:
//
//	meta                          "schema" → schema version (uint64, big-endian)
//	threads                       thread id → threadRecord (binary, or JSON when older)
//	resources/<resourceID>/threads  thread id → update time
//	resources/<resourceID>/recent   update time (big-endian ns) + thread id → empty
//	resources/<resourceID>/requests client request id → thread id
//	resources/<resourceID>/damaged  thread id → time a damaged message was found (big-endian ns)
//	resources/<resourceID>/models   thread id → the thread's chosen model, sealed
//	resources/<resourceID> "settings" → the resource's settings JSON, sealed
//	messages/<threadID>           sequence (uint64, big-endian) → messageRecord JSON
//	message_ids/<threadID>        message id → sequence
//	client_requests/<threadID>    client request id → message id
//	working_memory/<scope>        "current" and each kept version → workingRecord JSON
//	streaming/<resourceID>        thread id + message id → empty, for each streaming message
//	vectors/<resourceID>/...      recall vectors and index snapshots; see vectors.go
//
// Message keys are per-thread sequence numbers in big-endian, so a cursor
// walks a thread in the order its messages were written, and the recent
// index lists a resource's threads newest first without reading the others.
//
// Threads and whole profiles can be exported as versioned JSON documents
// ("hearth-thread" and "hearth-profile", version 1) and as Markdown, and
// imported again, or from ChatGPT's conversations.json, under another owner;
// imported records are sealed under the importing owner's key.
//
// Recall finds a resource's earlier messages by meaning. It keeps a vector
// index per unlocked resource, built from vectors stored sealed in bbolt.
// A background worker embeds new messages once they are complete, and the
// Store's deletions keep the indexes in step.
//
// The package logs only through the logger given to NewRecall, when
// embedding or saving an index fails, and never logs message text.
package memory
