package embed

import (
	"hash"
	"hash/fnv"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Feature kinds. The kind byte starts the hashed key of every feature, so
// that the word "the" and the trigram "the" are different features.
const (
	kindWord     = 'w' // a word: a run of letters and digits
	kindBigram   = 'b' // two consecutive words that are not stopwords
	kindTrigram  = 't' // three characters of a word marked "^word$"
	kindChar     = 'c' // one character of a script written without spaces
	kindCharPair = 'p' // two consecutive such characters
	kindSymbol   = 's' // one symbol, such as an emoji
	kindWhole    = 'x' // the whole normalised text, when nothing else remains
)

// Kind weights. A feature's weight is its kind weight times the prior of its
// token, and Lexical scales the weight by 1 + ln(tf).
const (
	wordWeight = 1.0

	// bigramWeight is lower than wordWeight, so that a shared phrase ranks a
	// text higher without making paraphrases look unrelated.
	bigramWeight = 0.5

	// trigramWeight is shared by all trigrams of one word: each gets
	// trigramWeight/√n for a word of n characters, so the trigram part of
	// every word has the same length whatever the word's length.
	trigramWeight = 0.7

	// For scripts written without spaces, pairs of characters stand in for
	// words, most of which are two characters long in Chinese, and single
	// characters give partial matches.
	charWeight     = 0.6
	charPairWeight = 1.0

	symbolWeight = 0.8
	wholeWeight  = 1.0
)

// Priors stand in for inverse document frequency without a corpus, so a
// vector depends on its own text only. Stopwords and very short words are
// frequent in every language, so they weigh less. Every other token has
// prior 1.
const (
	stopwordPrior = 0.15
	oneRunePrior  = 0.4
	twoRunePrior  = 0.7
	stopCharPrior = 0.2

	// kanaPrior is for hiragana, which writes mostly grammatical endings
	// and particles in Japanese.
	kanaPrior = 0.5
)

// feature is one hashed token of a text with its weight.
type feature struct {
	hash   uint64
	weight float64
}

// featurizer splits texts into features. It keeps its buffers between
// texts and is not safe for concurrent use.
type featurizer struct {
	caser    cases.Caser
	hasher   hash.Hash64
	features []feature

	word []rune // the word being read
	run  []rune // the characters being read in a script without spaces

	// previous is the UTF-8 of the last word that was not a stopword, the
	// first half of the next bigram, when hasPrevious is true.
	previous      []byte
	previousPrior float64
	hasPrevious   bool

	key    []byte // the key being hashed, starting with its kind
	pair   []byte // the key of a bigram
	padded []rune // a word with its boundary markers

	sums []float64 // the vector being summed by Lexical.project
}

func newFeaturizer() *featurizer {
	return &featurizer{
		caser:  cases.Fold(),
		hasher: fnv.New64a(),
	}
}

// extract replaces f.features with the features of text.
//
// It folds case and applies NFKC, so "Straße", "STRASSE" and "ｓｔｒａｓｓｅ"
// are the same word, and it removes the accents of Latin and Greek letters,
// so "résumé" matches "resume". Words are runs of letters, digits and
// combining marks. Characters of Chinese, Japanese, Thai, Lao, Khmer and
// Burmese, which are written without spaces between words, become single
// characters and character pairs. Symbols such as emoji are tokens of their
// own, and all other characters separate tokens.
func (f *featurizer) extract(text string) {
	f.features = f.features[:0]
	f.word = f.word[:0]
	f.run = f.run[:0]
	f.hasPrevious = false

	for _, r := range f.normalize(text) {
		switch {
		case isUnspaced(r):
			f.flushWord()
			f.run = append(f.run, r)

		case unicode.IsLetter(r) || unicode.IsNumber(r):
			f.flushRun()
			f.appendLetter(r)

		case unicode.Is(unicode.M, r):
			// A mark belongs to the character before it, unless it is an
			// accent on a Latin or Greek letter.
			switch n := len(f.word); {
			case n > 0 && !isAccented(f.word[n-1]):
				f.word = append(f.word, r)
			case len(f.run) > 0:
				f.run = append(f.run, r)
			}

		case unicode.Is(unicode.So, r):
			f.flushWord()
			f.flushRun()
			f.add(kindSymbol, symbolWeight, r)

		default:
			f.flushWord()
			f.flushRun()
			if unicode.Is(unicode.Sentence_Terminal, r) {
				f.hasPrevious = false
			}
		}
	}
	f.flushWord()
	f.flushRun()
}

// extractWhole replaces f.features with one feature for the whole text,
// normalised and trimmed. It is the fallback for texts with no other
// features, such as "!!!".
func (f *featurizer) extractWhole(text string) {
	f.features = f.features[:0]
	f.key = append(f.key[:0], kindWhole)
	f.key = append(f.key, strings.TrimSpace(f.normalize(text))...)
	f.addKey(f.key, wholeWeight)
}

// normalize applies NFKC and case folding. Pure ASCII text only needs
// lowercasing, because NFKC leaves ASCII unchanged.
func (f *featurizer) normalize(text string) string {
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			return f.caser.String(norm.NFKC.String(text))
		}
	}
	return strings.ToLower(text)
}

// appendLetter appends r to the current word, replacing an accented Latin
// or Greek letter with its base letter.
func (f *featurizer) appendLetter(r rune) {
	if r >= utf8.RuneSelf && isAccented(r) {
		var encoded [utf8.UTFMax]byte
		n := utf8.EncodeRune(encoded[:], r)
		if decomposed := norm.NFD.Properties(encoded[:n]).Decomposition(); decomposed != nil {
			for len(decomposed) > 0 {
				base, size := utf8.DecodeRune(decomposed)
				decomposed = decomposed[size:]
				if !unicode.Is(unicode.Mn, base) {
					f.word = append(f.word, base)
				}
			}
			return
		}
	}
	f.word = append(f.word, r)
}

// flushWord adds the features of the current word: the word itself and,
// unless it is a stopword, its bigram with the previous word that is not a
// stopword and its trigrams.
func (f *featurizer) flushWord() {
	if len(f.word) == 0 {
		return
	}
	word := f.word
	defer func() { f.word = f.word[:0] }()

	f.key = append(f.key[:0], kindWord)
	for _, r := range word {
		f.key = utf8.AppendRune(f.key, r)
	}
	current := f.key[1:]
	stop := isStopword(current)
	prior := wordPrior(len(word), stop)
	f.addKey(f.key, float64(wordWeight*prior))
	if stop {
		return
	}

	if f.hasPrevious {
		f.pair = append(f.pair[:0], kindBigram)
		f.pair = append(f.pair, f.previous...)
		f.pair = append(f.pair, ' ')
		f.pair = append(f.pair, current...)
		f.addKey(f.pair, float64(bigramWeight*math.Sqrt(float64(f.previousPrior*prior))))
	}
	f.previous = append(f.previous[:0], current...)
	f.previousPrior = prior
	f.hasPrevious = true

	if len(word) < 2 {
		return
	}
	f.padded = append(f.padded[:0], '^')
	f.padded = append(f.padded, word...)
	f.padded = append(f.padded, '$')
	weight := float64(trigramWeight*prior) / math.Sqrt(float64(len(word)))
	for i := 0; i+3 <= len(f.padded); i++ {
		f.add(kindTrigram, weight, f.padded[i:i+3]...)
	}
}

// flushRun adds the features of the current run of characters from
// scripts without spaces: each character and each pair of neighbours.
func (f *featurizer) flushRun() {
	if len(f.run) == 0 {
		return
	}
	var previousPrior float64
	for i, r := range f.run {
		prior := charPrior(r)
		f.add(kindChar, float64(charWeight*prior), r)
		if i > 0 {
			f.add(kindCharPair, float64(charPairWeight*math.Sqrt(float64(previousPrior*prior))), f.run[i-1], r)
		}
		previousPrior = prior
	}
	f.run = f.run[:0]

	// A bigram does not span a run of another script.
	f.hasPrevious = false
}

// add adds the feature of the given kind made of runes.
func (f *featurizer) add(kind byte, weight float64, runes ...rune) {
	f.key = append(f.key[:0], kind)
	for _, r := range runes {
		f.key = utf8.AppendRune(f.key, r)
	}
	f.addKey(f.key, weight)
}

// addKey adds the feature with the given key, kind byte first.
func (f *featurizer) addKey(key []byte, weight float64) {
	f.hasher.Reset()
	f.hasher.Write(key)
	f.features = append(f.features, feature{hash: mix(f.hasher.Sum64()), weight: weight})
}

// mix is the 64-bit finaliser of MurmurHash3 (fmix64). It spreads every bit
// of an FNV-1a hash over the low bits that pick a vector index.
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// compareFeatures orders features by hash and then weight, so that equal
// features are adjacent and are summed in the same order on every run.
func compareFeatures(a, b feature) int {
	switch {
	case a.hash < b.hash:
		return -1
	case a.hash > b.hash:
		return 1
	case a.weight < b.weight:
		return -1
	case a.weight > b.weight:
		return 1
	}
	return 0
}

// wordPrior returns the prior of a word of n runes.
func wordPrior(n int, stop bool) float64 {
	switch {
	case stop:
		return stopwordPrior
	case n == 1:
		return oneRunePrior
	case n == 2:
		return twoRunePrior
	}
	return 1
}

// charPrior returns the prior of one character of a script without spaces.
func charPrior(r rune) float64 {
	switch {
	case strings.ContainsRune(stopChars, r):
		return stopCharPrior
	case unicode.Is(unicode.Hiragana, r):
		return kanaPrior
	}
	return 1
}

// isUnspaced reports whether r belongs to a script that is written without
// spaces between words. U+30FC, the katakana-hiragana prolonged sound mark,
// belongs to no script but appears only inside Japanese words.
func isUnspaced(r rune) bool {
	if r < 0x0E00 {
		return false
	}
	return r == '\u30FC' || unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana,
		unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// isAccented reports whether r is a Latin or Greek letter, whose accents
// are removed.
func isAccented(r rune) bool {
	return unicode.In(r, unicode.Latin, unicode.Greek)
}
