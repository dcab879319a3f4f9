package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"

	"hearth/seal"
)

// firstArgonParams are the argon2id parameters that Hearth wrote before
// defaultArgonParams were raised: 19 MiB of memory, 2 passes and 1 lane.
var firstArgonParams = argonParams{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32}

// olderTestArgonParams stand for an older setting in tests that need one
// but do not need its real cost. They differ from insecureTestArgonParams.
var olderTestArgonParams = argonParams{Memory: 32, Time: 2, Threads: 1, KeyLen: 32}

// legacyProfile is a profile written by a Store with older argon2id
// parameters, on a data file that a Store with newer ones opens next.
type legacyProfile struct {
	db          *bbolt.DB
	installKey  *seal.Key
	profile     Profile
	recoveryKey string
	// dataKey is the data key the older Store unlocked at sign-in.
	dataKey []byte
	// token was issued by the older Store.
	token string
}

// newLegacyProfile creates the admin profile "Ada" with a Store that hashes
// passwords with old, signs her in once, and closes that Store.
func newLegacyProfile(t *testing.T, old argonParams) legacyProfile {
	t.Helper()
	db := openDB(t, filepath.Join(t.TempDir(), "hearth.db"))
	installKey := seal.NewKey()
	s := openStore(t, db, installKey, withArgonParams(old))
	p, recoveryKey := mustCreateWithKey(t, s, "", "Ada", testPassword)
	token := mustLogin(t, s, "Ada", testPassword).Token
	dataKey, err := s.DataKey(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer dataKey.Wipe()
	s.Close()
	return legacyProfile{db: db, installKey: installKey, profile: p, recoveryKey: recoveryKey, dataKey: dataKey.Bytes(), token: token}
}

// wantArgonParams checks that the password hash and the password key of rec
// were made with want.
func wantArgonParams(t *testing.T, rec profileRecord, want argonParams) {
	t.Helper()
	hashParams, _, _, err := parseHash(rec.PasswordHash)
	if err != nil {
		t.Fatalf("parse password hash %q: %v", rec.PasswordHash, err)
	}
	if hashParams != want {
		t.Errorf("password hash parameters = %+v, want %+v", hashParams, want)
	}
	kdf := argonParams{Memory: rec.KDF.Memory, Time: rec.KDF.Time, Threads: rec.KDF.Threads, KeyLen: seal.KeySize}
	if kdf != want {
		t.Errorf("password key parameters = %+v, want %+v", kdf, want)
	}
}

// wantDataKey checks that profile id is unlocked with the data key want.
func wantDataKey(t *testing.T, s *Store, id string, want []byte) {
	t.Helper()
	k, err := s.DataKey(id)
	if err != nil {
		t.Fatalf("DataKey error: %v", err)
	}
	defer k.Wipe()
	if !bytes.Equal(k.Bytes(), want) {
		t.Error("the data key differs from the one the profile was created with")
	}
}

// TestLoginRehashesOldParams signs in to a profile written with Hearth's
// first argon2id parameters, with a Store that uses the current ones.
func TestLoginRehashesOldParams(t *testing.T) {
	ctx := context.Background()
	legacy := newLegacyProfile(t, firstArgonParams)
	id := legacy.profile.ID
	before := readRecord(t, legacy.db, id)
	wantArgonParams(t, before, firstArgonParams)

	s := openStore(t, legacy.db, legacy.installKey, withArgonParams(defaultArgonParams))
	if _, err := s.Login(ctx, "Ada", testNewPassword, testClient); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("Login with a wrong password: error = %v, want %v", err, ErrInvalidCredentials)
	}
	if after := readRecord(t, legacy.db, id); after.PasswordHash != before.PasswordHash {
		t.Fatal("a rejected sign-in replaced the password hash")
	}

	mustLogin(t, s, "Ada", testPassword)
	after := readRecord(t, legacy.db, id)
	wantArgonParams(t, after, defaultArgonParams)
	if bytes.Equal(after.KDF.Salt, before.KDF.Salt) {
		t.Error("the password key kept its salt, want a new one")
	}
	if bytes.Equal(after.DataKeyByPassword, before.DataKeyByPassword) {
		t.Error("the data key sealed by password is unchanged, want it sealed under the new key")
	}
	wantDataKey(t, s, id, legacy.dataKey)

	// Everything but the password hash and key stays as it was, so the
	// recovery key and the sessions of the older Store keep working.
	if !bytes.Equal(after.RecoverySalt, before.RecoverySalt) || !bytes.Equal(after.DataKeyByRecovery, before.DataKeyByRecovery) {
		t.Error("the data key sealed by recovery key changed")
	}
	if after.TokenVersion != before.TokenVersion {
		t.Errorf("token version = %d, want %d", after.TokenVersion, before.TokenVersion)
	}
	if !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("UpdatedAt = %v, want %v", after.UpdatedAt, before.UpdatedAt)
	}
	if !bytes.Equal(after.SigningKey, before.SigningKey) {
		t.Error("the signing key changed")
	}
	if sess := mustVerify(t, s, legacy.token); sess.Profile.ID != id {
		t.Errorf("Verify(token of the older Store) profile = %s, want %s", sess.Profile.ID, id)
	}

	// A second sign-in finds nothing to rehash.
	mustLogin(t, s, "Ada", testPassword)
	if again := readRecord(t, legacy.db, id); again.PasswordHash != after.PasswordHash || !bytes.Equal(again.DataKeyByPassword, after.DataKeyByPassword) {
		t.Error("a second sign-in rehashed the password again")
	}

	// The recovery key made before the rehash still opens the same data
	// key. Close locks Ada first, so the key checked below is the one that
	// Recover unwrapped.
	s.Close()
	if _, err := s.Recover(ctx, "Ada", legacy.recoveryKey, testNewPassword, testClient); err != nil {
		t.Fatalf("Recover with the first recovery key: error = %v", err)
	}
	wantDataKey(t, s, id, legacy.dataKey)
}

// TestPasswordChangesUseCurrentParams checks that a password change and a
// recovery on a profile with older parameters write the current ones.
func TestPasswordChangesUseCurrentParams(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(t *testing.T, s *Store, legacy legacyProfile) error
	}{
		{"ChangePassword", func(t *testing.T, s *Store, legacy legacyProfile) error {
			_, err := s.ChangePassword(ctx, legacy.profile.ID, testPassword, testNewPassword, "", testClient)
			return err
		}},
		{"Recover", func(t *testing.T, s *Store, legacy legacyProfile) error {
			_, err := s.Recover(ctx, "Ada", legacy.recoveryKey, testNewPassword, testClient)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			legacy := newLegacyProfile(t, olderTestArgonParams)
			s := openStore(t, legacy.db, legacy.installKey)

			if err := tt.change(t, s, legacy); err != nil {
				t.Fatalf("%s error: %v", tt.name, err)
			}
			wantArgonParams(t, readRecord(t, legacy.db, legacy.profile.ID), insecureTestArgonParams)
			wantDataKey(t, s, legacy.profile.ID, legacy.dataKey)
			mustLogin(t, s, "Ada", testNewPassword)
		})
	}
}

// TestStoreRehash checks that the rehash at sign-in writes only the password
// hash, the key parameters and the sealed data key. The rest of the stored
// record, which SetRole may have changed since Login read it, stays. Once
// the password itself has changed, the rehash writes nothing.
func TestStoreRehash(t *testing.T) {
	ctx := context.Background()
	s, db := newStoreWithParams(t, olderTestArgonParams)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	grace := mustCreate(t, s, ada.ID, "Grace", testPassword)
	if _, err := s.SetRole(ctx, ada.ID, grace.ID, RoleAdmin); err != nil {
		t.Fatal(err)
	}
	read := readRecord(t, db, grace.ID)

	// Rehash Grace's password from the record read, as Login does, with a
	// Store that uses newer parameters.
	current := openStore(t, db, s.installKey)
	dataKey := seal.NewKey()
	defer dataKey.Wipe()
	rehashed := read
	current.setPassword(&rehashed, dataKey, testPassword)
	storeRehash := func() bool {
		t.Helper()
		var stored bool
		err := db.Update(func(tx *bbolt.Tx) error {
			var err error
			stored, err = current.storeRehash(tx.Bucket(profilesBucket), &read, &rehashed)
			return err
		})
		if err != nil {
			t.Fatalf("storeRehash error: %v", err)
		}
		return stored
	}

	if _, err := s.SetRole(ctx, ada.ID, grace.ID, RoleUser); err != nil {
		t.Fatal(err)
	}
	if !storeRehash() {
		t.Fatal("storeRehash = false, want true")
	}
	rec := readRecord(t, db, grace.ID)
	wantArgonParams(t, rec, insecureTestArgonParams)
	if rec.PasswordHash != rehashed.PasswordHash || !bytes.Equal(rec.DataKeyByPassword, rehashed.DataKeyByPassword) {
		t.Error("the stored password hash or sealed data key is not the rehashed one")
	}
	if rec.Role != RoleUser {
		t.Errorf("role after the rehash = %q, want %q", rec.Role, RoleUser)
	}

	// Once the password has changed, the stale rehash is not written.
	rec.PasswordHash = hashPassword(testNewPassword, insecureTestArgonParams)
	writeRecord(t, s, db, rec)
	if storeRehash() {
		t.Error("storeRehash over a changed password = true, want false")
	}
	if got := readRecord(t, db, grace.ID).PasswordHash; got != rec.PasswordHash {
		t.Error("storeRehash replaced a password hash that changed after it was read")
	}
}

// TestDummyRecordParams checks that the record checked for unknown names
// has the argon2id parameters of a new profile, so that an unknown name
// costs as much as a wrong password for a profile made or rehashed by this
// Store.
func TestDummyRecordParams(t *testing.T) {
	for _, p := range []argonParams{defaultArgonParams, insecureTestArgonParams} {
		t.Run(fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads), func(t *testing.T) {
			s, db := newStoreWithParams(t, p)
			ada := mustCreate(t, s, "", "Ada", testPassword)
			wantArgonParams(t, readRecord(t, db, ada.ID), p)
			wantArgonParams(t, *s.dummyRecord(), p)
		})
	}
}
