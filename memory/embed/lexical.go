package embed

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
)

const (
	// DefaultLexicalDimension is the vector length of a Lexical embedder
	// unless NewLexical is given another.
	DefaultLexicalDimension = 1024

	// MinLexicalDimension and MaxLexicalDimension bound the vector length
	// of a Lexical embedder. Below 64, hash collisions make unrelated texts
	// look alike.
	MinLexicalDimension = 64
	MaxLexicalDimension = 1 << 20

	// lexicalVersion is part of the ID. Any change to the features, weights,
	// stopwords or hashing changes vectors, so it needs a new version.
	lexicalVersion = 1
)

// Lexical is a built-in embedder that needs no model or network. It matches
// texts by their words, word pairs and character trigrams, so it finds
// messages that share words with a query, and tolerates typos and
// inflections that keep most trigrams, but it does not know synonyms.
//
// Each text becomes a bag of weighted features (see featurizer.extract):
// words, pairs of consecutive words that are not stopwords, the character
// trigrams of each word with "^" and "$" marking its ends, and for Chinese,
// Japanese and other scripts without spaces, single characters and pairs of
// characters. A feature's weight is
//
//	kind weight × prior × (1 + ln tf)
//
// where tf counts the feature in the text. The prior stands in for inverse
// document frequency without a corpus: stopwords of English, German, French
// and Spanish weigh 0.15, other one- and two-character words 0.4 and 0.7,
// and longer words 1. Because no weight depends on other texts, a stored
// vector never changes when messages are added, and vectors made at
// different times stay comparable. Each feature's FNV-1a hash, mixed by the
// MurmurHash3 finaliser, picks an index and a sign (signed feature hashing),
// and the vector is normalised to length 1.
//
// Vectors are the same on every run and platform, because summation follows
// a fixed order and products are rounded before they are added, which stops
// fused multiply-add from changing results on arm64.
//
// NOTE: Characters that a later Unicode version assigns, such as new emoji,
// count as separators until Go and golang.org/x/text know them, so an
// upgrade can change the vectors of texts that contain them.
//
// A Lexical is safe for concurrent use.
type Lexical struct {
	dimension int
	id        string
}

// featurizers reuses featurizers and their buffers between calls.
var featurizers = sync.Pool{New: func() any { return newFeaturizer() }}

// sublinearTF contains 1 + ln(tf) for tf up to 16, written out so that the
// common cases do not depend on the platform's math.Log.
var sublinearTF = [...]float64{
	1:  1.0,
	2:  1.6931471805599454,
	3:  2.0986122886681096,
	4:  2.386294361119891,
	5:  2.6094379124341005,
	6:  2.791759469228055,
	7:  2.9459101490553135,
	8:  3.0794415416798357,
	9:  3.1972245773362196,
	10: 3.302585092994046,
	11: 3.3978952727983707,
	12: 3.4849066497880004,
	13: 3.5649493574615367,
	14: 3.6390573296152584,
	15: 3.70805020110221,
	16: 3.772588722239781,
}

// NewLexical returns a Lexical embedder whose vectors have the given length,
// or DefaultLexicalDimension if dimension is 0.
func NewLexical(dimension int) (*Lexical, error) {
	if dimension == 0 {
		dimension = DefaultLexicalDimension
	}
	if dimension < MinLexicalDimension || dimension > MaxLexicalDimension {
		return nil, fmt.Errorf("invalid lexical dimension %d: use a value from %d to %d, such as %d",
			dimension, MinLexicalDimension, MaxLexicalDimension, DefaultLexicalDimension)
	}
	return &Lexical{
		dimension: dimension,
		id:        "lexical-v" + strconv.Itoa(lexicalVersion) + "-" + strconv.Itoa(dimension),
	}, nil
}

// ID returns "lexical-v1-" followed by the dimension, such as
// "lexical-v1-1024".
func (l *Lexical) ID() string {
	return l.id
}

// Dim returns the length of the vectors.
func (l *Lexical) Dim() int {
	return l.dimension
}

// Embed returns one vector per text, in the order of texts. It returns an
// ErrEmptyText error if any text is empty or only white space. A text with
// no letters, digits or symbols, such as "?!", is embedded as a whole, so
// it matches only itself. There is no limit on the batch size. Embed
// checks ctx between texts.
func (l *Lexical) Embed(ctx context.Context, texts []string) ([]Vector, error) {
	if err := checkTexts(texts); err != nil {
		return nil, err
	}

	f := featurizers.Get().(*featurizer)
	defer featurizers.Put(f)

	vectors := make([]Vector, len(texts))
	for i, text := range texts {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("lexical embed: %w", err)
		}
		vectors[i] = l.embed(f, text)
	}
	return vectors, nil
}

// embed returns the vector of one text that is not blank.
func (l *Lexical) embed(f *featurizer, text string) Vector {
	f.extract(text)
	if v := l.project(f); v != nil {
		return v
	}

	// There were no features, or, very rarely, they cancelled out.
	f.extractWhole(text)
	return l.project(f)
}

// project sums f.features into a vector of l.dimension values by signed
// hashing, and normalises it. It returns nil if the sum is zero.
func (l *Lexical) project(f *featurizer) Vector {
	if cap(f.sums) < l.dimension {
		f.sums = make([]float64, l.dimension)
	}
	sums := f.sums[:l.dimension]
	clear(sums)

	features := f.features
	slices.SortFunc(features, compareFeatures)

	for start := 0; start < len(features); {
		// Equal features are adjacent after sorting. Their mean weight
		// is scaled by the sublinear term frequency.
		end := start
		var total float64
		for end < len(features) && features[end].hash == features[start].hash {
			total += features[end].weight
			end++
		}
		count := end - start
		value := float64(float64(total/float64(count)) * termFrequency(count))

		hash := features[start].hash
		index := hash % uint64(l.dimension)
		if hash>>63 == 1 {
			sums[index] -= value
		} else {
			sums[index] += value
		}
		start = end
	}

	var squares float64
	for _, x := range sums {
		squares += float64(x * x)
	}
	if squares == 0 {
		return nil
	}
	norm := math.Sqrt(squares)

	v := make(Vector, l.dimension)
	for i, x := range sums {
		v[i] = float32(x / norm)
	}
	return v
}

// termFrequency returns the sublinear term frequency 1 + ln(count).
func termFrequency(count int) float64 {
	if count < len(sublinearTF) {
		return sublinearTF[count]
	}
	return 1 + math.Log(float64(count))
}
