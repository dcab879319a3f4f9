// Package auth keeps Hearth's profiles and decides who is making a request.
//
// A profile is one person sharing the computer. It has a name, a role
// (admin or user) and a password, stored only as an argon2id hash.
//
// Each profile has a random 256-bit data key that encrypts its records
// elsewhere in Hearth. The data key is stored only sealed: once under a key
// derived from the password with argon2id (with its own salt), and once
// under a key derived from the recovery key, which is shown to the user once
// when the profile is created. Signing in unwraps the data key and keeps it
// in memory while the profile is unlocked; without the password or the
// recovery key, the profile's data cannot be read, by an admin or by anyone
// who copies the data file.
//
// Signing in also yields a JWT signed with a key that belongs to that
// profile alone. Signing keys are sealed by an install key kept outside the
// data file, so that tokens can be checked while a profile is locked.
//
// Failed sign-ins are counted in the data file per profile name and per
// client, and too many make the next attempt wait. The counters hold names
// only as keyed hashes, so the file does not show which names were typed.
//
// Profiles are stored in the same bbolt file as the rest of Hearth's data.
// The package does not log; callers decide what to record.
package auth
