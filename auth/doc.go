// Package auth keeps Hearth's profiles and decides who is making a request.
//
// A profile is one person sharing the computer. It has a name, a role
// (admin or user) and a password, stored only as an argon2id hash. Signing
// in with the right password yields a JWT signed with a key that belongs to
// that profile alone, so a token names the profile that holds it and the
// key that verifies it.
//
// Profiles are stored in the same bbolt file as the rest of Hearth's data.
// The package does not log; callers decide what to record.
//
// NOTE: the signing keys are stored in the clear inside the data file, and
// profile data is not yet encrypted with a per-profile key. Until that key
// hierarchy exists, someone who copies the data file can forge tokens and
// read messages.
package auth
