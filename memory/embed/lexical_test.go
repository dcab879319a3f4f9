package embed_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"

	"hearth/memory/embed"
)

// newLexical returns a Lexical embedder of the default dimension.
func newLexical(t testing.TB) *embed.Lexical {
	t.Helper()
	l, err := embed.NewLexical(0)
	if err != nil {
		t.Fatalf("NewLexical(0): %v", err)
	}
	return l
}

// embedAll embeds texts and fails the test on an error.
func embedAll(t testing.TB, e interface {
	Embed(context.Context, []string) ([]embed.Vector, error)
}, texts ...string) []embed.Vector {
	t.Helper()
	vectors, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	if len(vectors) != len(texts) {
		t.Fatalf("Embed returned %d vectors for %d texts", len(vectors), len(texts))
	}
	return vectors
}

// dot returns the dot product of two vectors, which is their cosine
// similarity for unit vectors.
func dot(t testing.TB, a, b embed.Vector) float64 {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("vectors have lengths %d and %d", len(a), len(b))
	}
	var sum float64
	for i := range a {
		sum += float64(a[i]) * float64(b[i])
	}
	return sum
}

// checkUnit fails the test unless v has length 1 and only finite values.
func checkUnit(t testing.TB, v embed.Vector) {
	t.Helper()
	var squares float64
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			t.Fatalf("value %d is %v", i, x)
		}
		squares += float64(x) * float64(x)
	}
	if norm := math.Sqrt(squares); math.Abs(norm-1) > 1e-5 {
		t.Fatalf("vector length is %v, want 1", norm)
	}
}

func TestLexicalRanking(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		related   string
		unrelated string
	}{
		{
			name:      "English",
			query:     "what did my landlord say about the rent?",
			related:   "my landlord raised the rent in March",
			unrelated: "I raised the heat and stirred the sauce in the pan for ten minutes",
		},
		{
			name:      "English typos",
			query:     "when will I recieve the pakage tomorow",
			related:   "the package should arrive tomorrow, you will receive a tracking number",
			unrelated: "the weather will be nice tomorrow in the park",
		},
		{
			name:      "misspelt keyword",
			query:     "landlrod",
			related:   "my landlord raised the rent in March",
			unrelated: "the lake is flooded after the storm",
		},
		{
			name:      "German",
			query:     "Was hat der Vermieter über die Miete gesagt?",
			related:   "Mein Vermieter hat die Miete im März erhöht.",
			unrelated: "Ich habe die Soße im Topf umgerührt.",
		},
		{
			name:      "German compound",
			query:     "Mieterhöhung",
			related:   "Die Miete wird ab März erhöht.",
			unrelated: "Das Wetter ist heute schön.",
		},
		{
			name:      "French",
			query:     "Qu'a dit le propriétaire à propos du loyer ?",
			related:   "Mon propriétaire a augmenté le loyer en mars.",
			unrelated: "J'ai mis la sauce à mijoter dans la casserole.",
		},
		{
			name:      "French without accents",
			query:     "proprietaire loyer augmente",
			related:   "Mon propriétaire a augmenté le loyer en mars.",
			unrelated: "J'ai mis la sauce à mijoter dans la casserole.",
		},
		{
			name:      "Chinese",
			query:     "房东关于房租说了什么？",
			related:   "我的房东在三月涨了房租。",
			unrelated: "我在锅里炒了鸡蛋和西红柿。",
		},
		{
			name:      "Japanese",
			query:     "大家さんは家賃について何と言った？",
			related:   "大家さんが三月に家賃を上げた。",
			unrelated: "鍋で卵とトマトを炒めた。",
		},
		{
			name:      "Korean",
			query:     "집주인이 월세에 대해 뭐라고 했어?",
			related:   "집주인이 3월에 월세를 올렸어요.",
			unrelated: "냄비에 토마토 소스를 끓였어요.",
		},
		{
			name:      "emoji only",
			query:     "🎂🎉",
			related:   "🎂 birthday party on Saturday 🎉",
			unrelated: "🍝 pasta with tomato sauce",
		},
		{
			name:      "emoji in text",
			query:     "when is the birthday party? 🎉",
			related:   "🎂 birthday party on Saturday 🎉",
			unrelated: "🍝 pasta with tomato sauce for the party",
		},
		{
			name:      "mixed scripts",
			query:     "iPhone 充电器",
			related:   "我把iPhone的充电器忘在家里了",
			unrelated: "我把雨伞忘在家里了",
		},
	}

	l := newLexical(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := embedAll(t, l, tt.query, tt.related, tt.unrelated)

			related := dot(t, v[0], v[1])
			unrelated := dot(t, v[0], v[2])
			if related < unrelated+0.05 {
				t.Errorf("similarity to related text is %.3f and to unrelated text %.3f, want related higher by 0.05", related, unrelated)
			}
		})
	}
}

func TestLexicalNormalization(t *testing.T) {
	tests := []struct {
		name string
		a, b string
	}{
		{"case", "RENT Landlord", "rent landlord"},
		{"sharp s", "Straße", "STRASSE"},
		{"French accents", "résumé à Noël", "resume a noel"},
		{"German umlauts", "Mädchen für Größe", "madchen fur grosse"},
		{"Vietnamese stacked accents", "Việt Nam đẹp", "viet nam đep"},
		{"combining accent", "cafe\u0301", "café"},
		{"dotted capital I", "İstanbul", "istanbul"},
		{"Greek accents", "Αθήνα", "αθηνα"},
		{"full width", "ｒｅｎｔ　ＡＢＣ１２３", "rent abc123"},
		{"ligature", "ﬁnance", "finance"},
		{"punctuation and spaces", "  rent,   landlord ", "rent landlord"},
		{"skin tone", "👍🏽 ok", "👍 ok"},
	}

	l := newLexical(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := embedAll(t, l, tt.a, tt.b)

			if sim := dot(t, v[0], v[1]); sim < 0.9999 {
				t.Errorf("similarity of %q and %q is %.4f, want 1", tt.a, tt.b, sim)
			}
		})
	}
}

func TestLexicalDistinguishes(t *testing.T) {
	tests := []struct {
		name string
		a, b string
	}{
		{"word order", "dog bites man", "man bites dog"},
		{"Cyrillic short i", "мой", "мои"},
		{"sentence boundary", "rent. landlord", "rent landlord"},
		{"punctuation only", "?!", "!!!"},
		{"different emoji", "🎂", "🍝"},
	}

	l := newLexical(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := embedAll(t, l, tt.a, tt.b)

			if sim := dot(t, v[0], v[1]); sim > 0.999 {
				t.Errorf("similarity of %q and %q is %.4f, want them distinct", tt.a, tt.b, sim)
			}
		})
	}
}

func TestLexicalStopwordsWeighLess(t *testing.T) {
	l := newLexical(t)
	v := embedAll(t, l, "the rent", "the cat", "my rent")

	if shared, stop := dot(t, v[0], v[2]), dot(t, v[0], v[1]); shared <= stop {
		t.Errorf("sharing the content word gives %.3f and sharing the stopword %.3f, want the content word higher", shared, stop)
	}
}

// TestLexicalGoldenVector pins the start of one vector. If it fails, the
// vectors changed, so lexicalVersion must change too, and this test with it.
func TestLexicalGoldenVector(t *testing.T) {
	l := newLexical(t)
	if got, want := l.ID(), "lexical-v1-1024"; got != want {
		t.Fatalf("ID is %q, want %q", got, want)
	}
	v := embedAll(t, l, "My landlord raised the rent in März 🏠 房租")[0]

	type entry struct {
		index int
		value float32
	}
	want := []entry{
		{17, -0.083320074}, {20, 0.01288966}, {48, -0.16833197}, {60, -0.11783238},
		{83, -0.083320074}, {134, -0.11783238}, {190, 0.034512304}, {228, -0.26933113},
	}
	var got []entry
	for i, x := range v {
		if x != 0 && len(got) < 8 {
			got = append(got, entry{i, x})
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got first non-zero entries %v, want %v", got, want)
	}
	for i := range want {
		if got[i].index != want[i].index || math.Abs(float64(got[i].value-want[i].value)) > 1e-7 {
			t.Errorf("non-zero entry %d is %v, want %v", i, got[i], want[i])
		}
	}
}

func TestLexicalUnitVectors(t *testing.T) {
	texts := []string{
		"a",
		"?!",
		"hello world",
		strings.Repeat("rent ", 200),
		"Mein Vermieter hat die Miete erhöht",
		"大家さんが三月に家賃を上げた",
		"🎂🎉🎈",
		"\u200b",
		"x\u0301\u0301\u0301",
	}
	l := newLexical(t)
	for i, v := range embedAll(t, l, texts...) {
		if len(v) != l.Dim() {
			t.Errorf("vector %d has length %d, want %d", i, len(v), l.Dim())
		}
		checkUnit(t, v)
	}
}

func TestLexicalEmptyText(t *testing.T) {
	l := newLexical(t)

	_, err := l.Embed(t.Context(), []string{"rent", " \n\t", "landlord"})

	if !errors.Is(err, embed.ErrEmptyText) {
		t.Fatalf("error is %v, want ErrEmptyText", err)
	}
	if !strings.Contains(err.Error(), "text 1 of 3") {
		t.Errorf("error %q does not name text 1 of 3", err)
	}
}

func TestLexicalNoTexts(t *testing.T) {
	l := newLexical(t)

	vectors, err := l.Embed(t.Context(), nil)

	if err != nil || len(vectors) != 0 {
		t.Errorf("Embed(nil) returned %d vectors and error %v, want none and nil", len(vectors), err)
	}
}

func TestLexicalDimension(t *testing.T) {
	l, err := embed.NewLexical(256)
	if err != nil {
		t.Fatalf("NewLexical(256): %v", err)
	}
	if l.Dim() != 256 || l.ID() != "lexical-v1-256" {
		t.Errorf("Dim and ID are %d and %q, want 256 and lexical-v1-256", l.Dim(), l.ID())
	}
	if v := embedAll(t, l, "rent")[0]; len(v) != 256 {
		t.Errorf("vector has length %d, want 256", len(v))
	}

	for _, dimension := range []int{-1, 1, embed.MinLexicalDimension - 1, embed.MaxLexicalDimension + 1} {
		if _, err := embed.NewLexical(dimension); err == nil {
			t.Errorf("NewLexical(%d) returned no error", dimension)
		}
	}
}

func TestLexicalConcurrent(t *testing.T) {
	l := newLexical(t)
	texts := []string{"my landlord raised the rent", "大家さんが家賃を上げた", "🎂 party", "Miete erhöht"}
	want := embedAll(t, l, texts...)

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				got, err := l.Embed(context.Background(), texts)
				if err != nil {
					t.Errorf("Embed: %v", err)
					return
				}
				for i := range got {
					if dot(t, got[i], want[i]) < 0.99999 {
						t.Errorf("concurrent vector %d differs from the sequential one", i)
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestLexicalCanceled(t *testing.T) {
	l := newLexical(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, err := l.Embed(ctx, []string{"rent"})

	if !errors.Is(err, context.Canceled) {
		t.Errorf("error is %v, want context.Canceled", err)
	}
}

func FuzzLexical(f *testing.F) {
	for _, seed := range []string{"", " ", "rent", "Straße", "大家さん", "🎂🏽", "?!", "e\u0301\u0301", "\xff\xfe"} {
		f.Add(seed)
	}
	l, err := embed.NewLexical(embed.MinLexicalDimension)
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, text string) {
		first, err := l.Embed(context.Background(), []string{text})
		if strings.TrimSpace(text) == "" {
			if !errors.Is(err, embed.ErrEmptyText) {
				t.Fatalf("blank text %q gave error %v, want ErrEmptyText", text, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Embed(%q): %v", text, err)
		}
		checkUnit(t, first[0])

		second := embedAll(t, l, text)
		for i := range first[0] {
			if first[0][i] != second[0][i] {
				t.Fatalf("second vector of %q differs at %d: %v and %v", text, i, first[0][i], second[0][i])
			}
		}
	})
}
