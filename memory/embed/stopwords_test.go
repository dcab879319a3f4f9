package embed

import (
	"strings"
	"testing"
)

// TestStopwordsMatch checks that each stopword, embedded alone, becomes one
// word feature with the stopword prior. A stopword written other than as
// the featurizer normalises words would never match.
func TestStopwordsMatch(t *testing.T) {
	f := newFeaturizer()
	for _, word := range strings.Fields(stopwordList) {
		f.extract(word)
		if len(f.features) != 1 || f.features[0].weight != stopwordPrior {
			t.Errorf("features of stopword %q are %+v, want one of weight %v", word, f.features, stopwordPrior)
		}
	}
}

func TestStopCharsMatch(t *testing.T) {
	f := newFeaturizer()
	for _, r := range stopChars {
		f.extract(string(r))
		if len(f.features) != 1 || f.features[0].weight != float64(charWeight*stopCharPrior) {
			t.Errorf("features of stop character %q are %+v, want one of weight %v", r, f.features, charWeight*stopCharPrior)
		}
	}
}
