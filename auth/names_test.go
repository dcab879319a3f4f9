package auth

import (
	"context"
	"errors"
	"testing"

	"go.etcd.io/bbolt"
)

// indexOnlyNameKey replaces the name index entries of profile id with the
// one that versions before shapeKey wrote for name: its nameKey alone.
func indexOnlyNameKey(tb testing.TB, db *bbolt.DB, name, id string) {
	tb.Helper()
	err := db.Update(func(tx *bbolt.Tx) error {
		names := tx.Bucket(namesBucket)
		var keys [][]byte
		err := names.ForEach(func(k, v []byte) error {
			if string(v) == id {
				keys = append(keys, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, key := range keys {
			if err := names.Delete(key); err != nil {
				return err
			}
		}
		return names.Put([]byte(nameKey(name)), []byte(id))
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// reopen opens a new Store on s's data file, as after a restart with the
// same install key.
func reopen(tb testing.TB, s *Store, db *bbolt.DB) *Store {
	tb.Helper()
	s.Close()
	return openStore(tb, db, s.installKey)
}

func TestNameIndexUpgraded(t *testing.T) {
	s, db := newStore(t)
	ida := mustCreate(t, s, "", "Ida", testPassword)
	indexOnlyNameKey(t, db, "Ida", ida.ID)

	s = reopen(t, s, db)
	if _, _, err := s.CreateProfile(context.Background(), ida.ID, "lda", testPassword); !errors.Is(err, ErrNameTaken) {
		t.Errorf("CreateProfile(lda) after reopening: error = %v, want %v", err, ErrNameTaken)
	}
	for _, name := range []string{"Ida", "ida", "IDA"} {
		if tok := mustLogin(t, s, name, testPassword); tok.Profile.ID != ida.ID {
			t.Errorf("Login(%q) profile = %s, want %s", name, tok.Profile.ID, ida.ID)
		}
	}
}

// TestLegacyLookalikesSignIn checks two profiles whose names an earlier
// version let through side by side, and that now collide: each still signs
// in by its own name, and deleting one leaves the other's keys.
func TestLegacyLookalikesSignIn(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	carol := mustCreate(t, s, "", "Carol", testPassword)
	impostor := mustCreate(t, s, carol.ID, "Xavier", testNewPassword)

	// Rename Xavier to "CaroI", indexed as an earlier version indexed it.
	rec := readRecord(t, db, impostor.ID)
	rec.Name = "CaroI"
	writeRecord(t, s, db, rec)
	indexOnlyNameKey(t, db, "CaroI", impostor.ID)
	indexOnlyNameKey(t, db, "Carol", carol.ID)

	s = reopen(t, s, db)
	for _, tt := range []struct {
		name, password, want string
	}{
		{"Carol", testPassword, carol.ID},
		{"carol", testPassword, carol.ID},
		{"CaroI", testNewPassword, impostor.ID},
		{"caroi", testNewPassword, impostor.ID},
	} {
		if tok := mustLogin(t, s, tt.name, tt.password); tok.Profile.ID != tt.want {
			t.Errorf("Login(%q) profile = %s, want %s", tt.name, tok.Profile.ID, tt.want)
		}
	}

	if _, err := s.DeleteProfile(ctx, carol.ID, impostor.ID, "", "", testClient); err != nil {
		t.Fatal(err)
	}
	if tok := mustLogin(t, s, "Carol", testPassword); tok.Profile.ID != carol.ID {
		t.Errorf("Login(Carol) after deleting CaroI: profile = %s, want %s", tok.Profile.ID, carol.ID)
	}
	if _, _, err := s.CreateProfile(ctx, carol.ID, "CaroI", testNewPassword); !errors.Is(err, ErrNameTaken) {
		t.Errorf("CreateProfile(CaroI) again: error = %v, want %v", err, ErrNameTaken)
	}
}

func TestDeleteProfileFreesAllNameKeys(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	admin := mustCreate(t, s, "", "Ada", testPassword)
	ida := mustCreate(t, s, admin.ID, "Ida", testPassword)
	if _, err := s.DeleteProfile(ctx, admin.ID, ida.ID, "", "", testClient); err != nil {
		t.Fatal(err)
	}
	err := db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(namesBucket).ForEach(func(k, v []byte) error {
			if string(v) == ida.ID {
				t.Errorf("name key %q still points to the deleted profile", k)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, admin.ID, "lda", testPassword)
}
