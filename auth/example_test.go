package auth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/pquerna/otp/totp"
	"go.etcd.io/bbolt"

	"hearth/auth"
	"hearth/seal"
)

// Example shows a profile's life: creation, sign-in, reading its data key
// and sign-out, after which the key is locked away again.
func Example() {
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

	// The install key is kept outside the data file, such as in the
	// operating system's keychain.
	store, err := auth.Open(db, seal.NewKey())
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ctx := context.Background()
	ada, recoveryKey, err := store.CreateProfile(ctx, "", "Ada", "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ada.Name, ada.Role, len(recoveryKey), "characters in the recovery key")

	_, err = store.DataKey(ada.ID)
	fmt.Println("before sign-in:", err)

	token, err := store.Login(ctx, "Ada", "correct horse battery", "127.0.0.1")
	if err != nil {
		log.Fatal(err)
	}
	sess, err := store.Verify(ctx, token.Token)
	if err != nil {
		log.Fatal(err)
	}
	key, err := store.DataKey(sess.Profile.ID)
	if err != nil {
		log.Fatal(err)
	}
	sealed := key.Seal([]byte("first thread"), []byte("threads/1"))
	key.Wipe()
	fmt.Println("signed in, locked:", sess.Locked)

	if err := store.Logout(ctx, sess); err != nil {
		log.Fatal(err)
	}
	_, err = store.DataKey(ada.ID)
	fmt.Println("after sign-out:", errors.Is(err, auth.ErrLocked))
	_, err = store.Verify(ctx, token.Token)
	fmt.Println("old token:", err)

	// Signing in again unlocks the same data key.
	if _, err := store.Login(ctx, "Ada", "correct horse battery", "127.0.0.1"); err != nil {
		log.Fatal(err)
	}
	key, err = store.DataKey(ada.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer key.Wipe()
	plaintext, err := key.Open(sealed, []byte("threads/1"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in again:", string(plaintext))

	// Output:
	// Ada admin 39 characters in the recovery key
	// before sign-in: profile locked
	// signed in, locked: false
	// after sign-out: true
	// old token: invalid token
	// signed in again: first thread
}

// ExampleStore_CompleteLogin shows two-step sign-in: enrolment with a code
// from an authenticator app, then a sign-in whose password step returns a
// challenge that a code completes. The clock is fixed so that the codes are
// the same on every run.
func ExampleStore_CompleteLogin() {
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

	now := time.Date(2025, 3, 1, 12, 0, 10, 0, time.UTC)
	store, err := auth.Open(db, seal.NewKey(), auth.WithClock(func() time.Time { return now }))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ctx := context.Background()
	const password, client = "correct horse battery", "127.0.0.1"
	ada, _, err := store.CreateProfile(ctx, "", "Ada", password)
	if err != nil {
		log.Fatal(err)
	}
	first, err := store.Login(ctx, "Ada", password, client)
	if err != nil {
		log.Fatal(err)
	}

	// Enrolment needs the profile unlocked. The app shows the secret as a
	// QR code of setup.URI, and computes its codes from it.
	setup, err := store.SetUpTOTP(ctx, ada.ID)
	if err != nil {
		log.Fatal(err)
	}
	code, err := totp.GenerateCode(setup.Secret, now)
	if err != nil {
		log.Fatal(err)
	}
	// Enrolment revokes every older token, so the first one stops working
	// and the session goes on with the new one.
	enrolment, err := store.EnableTOTP(ctx, ada.ID, password, code, client)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(enrolment.BackupCodes), "backup codes")
	_, err = store.Verify(ctx, first.Token)
	fmt.Println("the token from before:", err)
	sess, err := store.Verify(ctx, enrolment.Token.Token)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Logout(ctx, sess); err != nil {
		log.Fatal(err)
	}

	// Half a minute later, the next sign-in takes two steps.
	now = now.Add(30 * time.Second)
	_, err = store.Login(ctx, "Ada", password, client)
	var mfa *auth.MFARequiredError
	if !errors.As(err, &mfa) {
		log.Fatal(err)
	}
	fmt.Println("after the password, unlocked:", store.IsUnlocked(ada.ID))

	code, err = totp.GenerateCode(setup.Secret, now)
	if err != nil {
		log.Fatal(err)
	}
	token, err := store.CompleteLogin(ctx, mfa.Challenge, code, client)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("after the code, signed in as", token.Profile.Name)
	_, err = store.CompleteLogin(ctx, mfa.Challenge, code, client)
	fmt.Println("the same challenge again:", err)

	// Output:
	// 10 backup codes
	// the token from before: invalid token
	// after the password, unlocked: false
	// after the code, signed in as Ada
	// the same challenge again: sign-in challenge unknown or expired
}
