package auth

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Role is what a profile may do beyond its own data.
type Role string

const (
	// RoleAdmin may create and delete other profiles. It never grants access
	// to another profile's threads or memory.
	RoleAdmin Role = "admin"
	// RoleUser may use and delete only its own profile.
	RoleUser Role = "user"
)

// Limits on profile names and passwords.
const (
	MaxNameLength     = 64   // characters, after NFC normalisation
	MinPasswordLength = 8    // characters
	MaxPasswordBytes  = 1024 // bytes; longer input is rejected before hashing
)

// Profile is one person using Hearth. It contains no secrets.
type Profile struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// IdleLock is how long the profile stays unlocked without a request;
	// zero means until sign-out or quit.
	IdleLock time.Duration `json:"-"`
	// TOTPEnabled is set when signing in needs a code after the password.
	TOTPEnabled bool `json:"totpEnabled"`
}

// ResourcePrefix starts the resource id of every profile, as in Mastra.
const ResourcePrefix = "user_"

// ResourceID returns the id under which the memory store keeps the profile's
// threads, following Mastra's convention of one resource per user.
func (p Profile) ResourceID() string {
	return ResourcePrefix + p.ID
}

// normalizeName validates a profile name and returns it cleaned for display
// (surrounding spaces removed, NFC) and folded for uniqueness checks.
func normalizeName(name string) (display, folded string, err error) {
	if !utf8.ValidString(name) {
		return "", "", &InputError{Field: "name", Reason: "The name is not valid UTF-8 text."}
	}
	display = norm.NFC.String(strings.TrimSpace(name))
	length := utf8.RuneCountInString(display)
	if length == 0 {
		return "", "", &InputError{Field: "name", Reason: "Enter a name for the profile."}
	}
	if length > MaxNameLength {
		return "", "", &InputError{Field: "name", Reason: fmt.Sprintf("The name has %d characters; use at most %d.", length, MaxNameLength)}
	}
	if err := checkNameCharacters(display); err != nil {
		return "", "", err
	}
	return display, nameKey(display), nil
}

// nameKeys returns the keys under which a name is indexed: nameKey, then
// shapeKey when it differs. Two names collide when any key of one is a key
// of the other.
func nameKeys(display string) []string {
	key, shape := nameKey(display), shapeKey(display)
	if shape == key {
		return []string{key}
	}
	return []string{key, shape}
}

// nameKey returns the form under which names are compared for uniqueness:
// compatibility-normalised (NFKC, so that fullwidth "Ａｄａ" is "Ada"), case
// folded, without the zero-width joiners that checkNameCharacters lets
// through, and reduced to its confusable skeleton (Unicode TR #39), so that
// an all-Cyrillic "Сосо" is taken once "Coco" exists. It also keys the
// sign-in throttle counters of a name.
func nameKey(display string) string {
	key := cases.Fold().String(norm.NFKC.String(display))
	key = strings.NewReplacer("\u200c", "", "\u200d", "").Replace(key)
	return norm.NFKC.String(cases.Fold().String(confusables.Skeleton(key)))
}

// shapeKey is nameKey with the skeleton taken before case folding as well.
// Folding turns a capital I into i before nameKey takes the skeleton, so
// nameKey keeps "CaroI" apart from "Carol". The skeleton of the name as
// typed maps that I to l. Neither key is enough alone, because shapeKey
// keeps "Ida" apart from "ida", and an upper-case Greek name apart from its
// lower-case form.
func shapeKey(display string) string {
	key := cases.Fold().String(confusables.Skeleton(norm.NFKC.String(display)))
	key = strings.NewReplacer("\u200c", "", "\u200d", "").Replace(key)
	return norm.NFKC.String(cases.Fold().String(confusables.Skeleton(key)))
}

// checkNameCharacters rejects characters that could make one name look like
// another on the sign-in screen, or look empty: line breaks and control
// characters, invisible formatting characters such as bidirectional
// overrides, other default-ignorable characters such as the combining
// grapheme joiner and Hangul fillers, variation selectors except the emoji
// one after a symbol, blank and replacement symbols, private-use and
// unassigned characters, letters of the Latin, Cyrillic, Greek and Armenian
// alphabets mixed in one name, and names with nothing visible in them. The zero-width
// joiner and non-joiner stay allowed because some scripts and emoji
// sequences need them.
func checkNameCharacters(name string) error {
	visible := false
	var previous rune
	var alphabets []string
	for _, r := range name {
		joiner := r == '\u200c' || r == '\u200d'
		switch {
		case unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp):
			return &InputError{Field: "name", Reason: "The name contains a control character such as a line break; use letters, digits, spaces and punctuation."}
		case joiner:
		case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
			return &InputError{Field: "name", Reason: fmt.Sprintf("The name contains the invisible character U+%04X; remove it.", r)}
		case unicode.Is(unicode.Variation_Selector, r) && !(r == '\ufe0f' && unicode.Is(unicode.So, previous)):
			return &InputError{Field: "name", Reason: fmt.Sprintf("The name contains the variation selector U+%04X, which is invisible here; remove it.", r)}
		case r == '\u2800' || r == utf8.RuneError:
			// The Braille pattern blank is a symbol that shows as nothing, and
			// the replacement character stands for text that was lost.
			return &InputError{Field: "name", Reason: fmt.Sprintf("The name contains U+%04X, which shows as a blank or a box; remove it.", r)}
		case unicode.Is(unicode.Co, r) || !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs):
			return &InputError{Field: "name", Reason: fmt.Sprintf("The name contains U+%04X, a private-use or unassigned character that may show differently on every computer; remove it.", r)}
		case unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S):
			visible = true
		}
		if alphabet := confusableAlphabet(r); alphabet != "" && !slices.Contains(alphabets, alphabet) {
			alphabets = append(alphabets, alphabet)
		}
		previous = r
	}
	if !visible {
		return &InputError{Field: "name", Reason: "The name has no visible characters; use letters, digits or punctuation."}
	}
	if len(alphabets) > 1 {
		return &InputError{Field: "name", Reason: fmt.Sprintf("The name mixes letters of the %s alphabets, which can make it look like another name; use letters of one alphabet.", strings.Join(alphabets, " and "))}
	}
	return nil
}

// confusableAlphabet names the alphabet of a letter from Latin, Cyrillic,
// Greek or Armenian, whose letters often look alike, and returns "" for any
// other rune.
func confusableAlphabet(r rune) string {
	switch {
	case !unicode.IsLetter(r):
		return ""
	case unicode.Is(unicode.Latin, r):
		return "Latin"
	case unicode.Is(unicode.Cyrillic, r):
		return "Cyrillic"
	case unicode.Is(unicode.Greek, r):
		return "Greek"
	case unicode.Is(unicode.Armenian, r):
		return "Armenian"
	}
	return ""
}

// checkPassword enforces the length rules on a new password.
func checkPassword(password string) error {
	if len(password) > MaxPasswordBytes {
		return &InputError{Field: "password", Reason: fmt.Sprintf("The password is %d bytes long; use at most %d.", len(password), MaxPasswordBytes)}
	}
	if !utf8.ValidString(password) {
		return &InputError{Field: "password", Reason: "The password is not valid UTF-8 text."}
	}
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return &InputError{Field: "password", Reason: fmt.Sprintf("The password has %d characters; use at least %d.", n, MinPasswordLength)}
	}
	return nil
}
