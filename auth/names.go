package auth

import (
	"encoding/json"

	"go.etcd.io/bbolt"
)

// The name index maps every key that nameKeys returns for a profile's name
// to the profile's id. A new name is rejected when any of its keys is
// there, so within names created by this version each key belongs to one
// profile. Earlier versions indexed nameKey alone, and let through names
// that now collide, such as "Carol" and "CaroI". Each of those keeps its
// own nameKey, and the shapeKey they share stays with whichever profile
// indexed it first.

// lookupName returns the id of the profile that a valid typed name signs in
// to, or "" if there is none. A profile whose nameKey matches comes before
// one whose shapeKey does, so that typing a name in another case reaches the
// profile with that name rather than a look-alike.
func lookupName(tx *bbolt.Tx, display string) string {
	names := tx.Bucket(namesBucket)
	for _, key := range nameKeys(display) {
		if id := names.Get([]byte(key)); id != nil {
			return string(id)
		}
	}
	return ""
}

// unindexName removes the keys of name that point to profileID. Keys of a
// look-alike name that another profile indexed first stay.
func unindexName(tx *bbolt.Tx, name, profileID string) error {
	names := tx.Bucket(namesBucket)
	for _, key := range nameKeys(name) {
		if string(names.Get([]byte(key))) != profileID {
			continue
		}
		if err := names.Delete([]byte(key)); err != nil {
			return err
		}
	}
	return nil
}

// indexNames adds the keys that are missing from the name index for the
// stored profiles, as when a data file written before shapeKey existed is
// opened. A key that already points to another profile is left to it.
func indexNames(tx *bbolt.Tx) error {
	names := tx.Bucket(namesBucket)
	type entry struct{ key, id string }
	var missing []entry
	err := tx.Bucket(profilesBucket).ForEach(func(k, v []byte) error {
		var rec profileRecord
		if json.Unmarshal(v, &rec) != nil || rec.Name == "" {
			// An unreadable record cannot sign in anyway; CountTampered
			// and getProfile report it.
			return nil
		}
		for _, key := range nameKeys(rec.Name) {
			if names.Get([]byte(key)) == nil {
				missing = append(missing, entry{key, string(k)})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range missing {
		// When two profiles miss the same key, the first one gets it.
		if names.Get([]byte(e.key)) != nil {
			continue
		}
		if err := names.Put([]byte(e.key), []byte(e.id)); err != nil {
			return err
		}
	}
	return nil
}
