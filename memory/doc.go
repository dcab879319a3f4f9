// Package memory is Hearth's record of every conversation: threads, their
// messages, and (later) what the assistant remembers about each person.
//
// Threads belong to a resource, the owner named by a resource id such as
// "user_<profileId>". Every exported operation on a thread takes the
// caller's resource id and checks ownership inside the same bbolt
// transaction, so another resource's thread is ErrNotFound, exactly like a
// thread that does not exist. There is no method that reads a thread
// without naming its owner.
//
// Layout in bbolt:
//
//	meta                          "schema" → schema version (uint64, big-endian)
//	threads                       thread id → threadRecord JSON
//	resources/<resourceID>        thread id → empty (the resource's threads)
//	messages/<threadID>           sequence (uint64, big-endian) → messageRecord JSON
//	message_ids/<threadID>        message id → sequence
//
// Message keys are per-thread sequence numbers in big-endian, so a cursor
// walks a thread in the order its messages were written.
//
// NOTE: records are stored as plain JSON. Encryption under each profile's
// data key is not implemented yet, so the data file is readable by anyone
// who can copy it.
//
// The package does not log.
package memory
