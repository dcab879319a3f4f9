package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// wantInputError fails the test unless err is an *InputError for field.
func wantInputError(t *testing.T, err error, field string) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v (%T), want *InputError", err, err)
	}
	if ie.Field != field {
		t.Errorf("InputError.Field = %q, want %q", ie.Field, field)
	}
	if ie.Reason == "" {
		t.Error("InputError.Reason is empty")
	}
}

func TestNameRejected(t *testing.T) {
	tests := []struct {
		name        string
		profileName string
	}{
		{"empty", ""},
		{"whitespace only", " \t\u00a0\u3000 "},
		{"65 characters", strings.Repeat("a", 65)},
		{"65 multi-byte characters", strings.Repeat("é", 65)},
		{"newline", "Ada\nLovelace"},
		{"carriage return", "Ada\rLovelace"},
		{"bell U+0007", "Ada\u0007"},
		{"NUL", "Ada\x00"},
		{"C1 control U+0085", "Ada\u0085Lovelace"},
		{"invalid UTF-8", "Ada\xff"},
		{"lone continuation byte", "\x80Ada"},
		{"zero-width spaces only", "\u200b\u200b"},
		{"bidi override U+202E", "Ada\u202enimda"},
		{"line separator U+2028", "Ada\u2028Lovelace"},
		{"paragraph separator U+2029", "Ada\u2029Lovelace"},
		{"combining marks only", "\u0301\u0301"},
		{"joiners only", "\u200d\u200c"},
		{"combining grapheme joiner", "Bob\u034f"},
		{"variation selector after a letter", "Bob\ufe0f"},
		{"Hangul filler U+3164", "\u3164"},
		{"Hangul fillers U+115F U+1160", "\u115f\u1160"},
		{"Braille blank only", "\u2800\u2800"},
		{"Braille blank after a name", "Alice\u2800"},
		{"replacement character", "Sur\ufffd"},
		{"private use", "Alice\ue000"},
		{"unassigned", "Alice\U000e0fff"},
		{"Armenian o in a Latin name", "B\u0585b"},
		{"Cyrillic A in a Latin name", "\u0410lice"},
		{"Greek omicron in a Latin name", "B\u03bfb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			_, _, err := s.CreateProfile(context.Background(), "", tt.profileName, testPassword)
			wantInputError(t, err, "name")
		})
	}
}

func TestNameAccepted(t *testing.T) {
	tests := []struct {
		name        string
		profileName string
		want        string
	}{
		{"64 characters", strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{"64 multi-byte characters", strings.Repeat("é", 64), strings.Repeat("é", 64)},
		// 128 code points before NFC, 64 after: the limit counts NFC characters.
		{"64 decomposed characters", strings.Repeat("e\u0301", 64), strings.Repeat("\u00e9", 64)},
		{"surrounding spaces trimmed", "  Ada Lovelace \t", "Ada Lovelace"},
		{"inner spaces kept", "Ada  Lovelace", "Ada  Lovelace"},
		{"stored as NFC", "Jose\u0301", "Jos\u00e9"},
		{"CJK and emoji", "小林 🦊", "小林 🦊"},
		{"emoji with the emoji variation selector", "Sam \u2764\ufe0f", "Sam \u2764\ufe0f"},
		{"all Cyrillic", "\u0410\u043d\u043d\u0430", "\u0410\u043d\u043d\u0430"},
		{"emoji joined by ZWJ", "Sam \U0001F469\u200D\U0001F4BB", "Sam \U0001F469\u200D\U0001F4BB"},
		{"Persian with ZWNJ", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			p := mustCreate(t, s, "", tt.profileName, testPassword)
			if p.Name != tt.want {
				t.Errorf("Name = %q, want %q", p.Name, tt.want)
			}
		})
	}
}

func TestNameUnique(t *testing.T) {
	tests := []struct {
		name     string
		existing string
		next     string
		want     error
	}{
		{"ASCII case", "Ada", "ADA", ErrNameTaken},
		{"same name", "Ada", "Ada", ErrNameTaken},
		{"surrounding spaces", "Ada", "  Ada  ", ErrNameTaken},
		{"precomposed and combining", "Jos\u00e9", "Jose\u0301", ErrNameTaken},
		{"combining and upper case", "jose\u0301", "JOS\u00c9", ErrNameTaken},
		// cases.Fold applies full case folding, which maps ß to "ss".
		{"sharp s and SS", "Straße", "STRASSE", ErrNameTaken},
		{"capital sharp s", "STRAẞE", "strasse", ErrNameTaken},
		{"Greek final sigma", "ΟΔΥΣΣΕΥΣ", "οδυσσευς", ErrNameTaken},
		{"fullwidth letters", "Alice", "\uff21\uff4c\uff49\uff43\uff45", ErrNameTaken},
		{"all-Cyrillic lookalike", "Coco", "\u0421\u043e\u0441\u043e", ErrNameTaken},
		{"Cyrillic Papa", "Papa", "\u0420\u0430\u0440\u0430", ErrNameTaken},
		{"Latin dental click for l", "Alice", "A\u01c0ice", ErrNameTaken},
		{"hidden zero-width joiner", "Alice", "Al\u200dice", ErrNameTaken},
		// A capital I looks like a small l, which case folding alone hides.
		{"capital I for l at the end", "Carol", "CaroI", ErrNameTaken},
		{"l for capital I at the end", "CaroI", "Carol", ErrNameTaken},
		{"capital I for l inside", "Alice", "aIice", ErrNameTaken},
		{"capital I for l at the start", "Ida", "lda", ErrNameTaken},
		{"two capital I for ll", "Bill", "BiII", ErrNameTaken},
		{"capital I and small i", "Ida", "ida", ErrNameTaken},
		{"upper-case name with I", "Ida", "IDA", ErrNameTaken},
		{"one letter more", "Ann", "Anna", nil},
		{"small i and small l", "ida", "lda", nil},
		{"different name", "Ada", "Ada Lovelace", nil},
		{"accent differs", "Jose", "José", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			admin := mustCreate(t, s, "", tt.existing, testPassword)

			_, _, err := s.CreateProfile(context.Background(), admin.ID, tt.next, testPassword)
			if !errors.Is(err, tt.want) {
				t.Errorf("CreateProfile(%q) after %q: error = %v, want %v", tt.next, tt.existing, err, tt.want)
			}
		})
	}
}

func TestPasswordRules(t *testing.T) {
	tests := []struct {
		name     string
		password string
		ok       bool
	}{
		{"7 characters", "abcdefg", false},
		{"8 characters", "abcdefgh", true},
		{"8 two-byte characters", "ääääääää", true},
		{"8 four-byte characters", strings.Repeat("🔑", 8), true},
		// 28 bytes but 7 characters: the minimum counts characters.
		{"7 four-byte characters", strings.Repeat("🔑", 7), false},
		{"empty", "", false},
		{"1024 bytes", strings.Repeat("p", MaxPasswordBytes), true},
		{"1025 bytes", strings.Repeat("p", MaxPasswordBytes+1), false},
		// 342 three-byte characters are 1026 bytes: the maximum counts bytes.
		{"342 three-byte characters", strings.Repeat("€", 342), false},
		{"invalid UTF-8", "abcdefgh\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			_, _, err := s.CreateProfile(context.Background(), "", "Ada", tt.password)
			if tt.ok {
				if err != nil {
					t.Fatalf("error = %v, want nil", err)
				}
				mustLogin(t, s, "Ada", tt.password)
				return
			}
			wantInputError(t, err, "password")
		})
	}
}
