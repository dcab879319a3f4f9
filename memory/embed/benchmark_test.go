package embed_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"hearth/memory/embed"
)

// messages200 returns n different messages of about 200 bytes built from
// sentence, each starting with a number so that no two are equal.
func messages200(n int, sentence string) []string {
	texts := make([]string, n)
	for i := range texts {
		var b strings.Builder
		fmt.Fprintf(&b, "%d ", i)
		for b.Len() < 200 {
			b.WriteString(sentence)
			b.WriteByte(' ')
		}
		texts[i] = b.String()[:200]
		for !strings.HasSuffix(texts[i], " ") && len(texts[i]) > 0 && texts[i][len(texts[i])-1] >= 0x80 {
			// Cut before a partial UTF-8 sequence.
			texts[i] = texts[i][:len(texts[i])-1]
		}
	}
	return texts
}

// BenchmarkLexical measures Lexical on 200-byte messages, one text per
// operation, and reports texts per second.
func BenchmarkLexical(b *testing.B) {
	languages := []struct {
		name     string
		sentence string
	}{
		{"English", "My landlord raised the rent in March, and I asked him whether the heating will be fixed before winter."},
		{"German", "Mein Vermieter hat die Miete im März erhöht, und ich habe gefragt, ob die Heizung vor dem Winter repariert wird."},
		{"Chinese", "我的房东在三月涨了房租，我问他冬天之前能不能修好暖气。"},
	}
	l, err := embed.NewLexical(0)
	if err != nil {
		b.Fatal(err)
	}

	for _, lang := range languages {
		b.Run(lang.name, func(b *testing.B) {
			texts := messages200(1024, lang.sentence)
			batch := make([]string, 1)
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				batch[0] = texts[i%len(texts)]
				if _, err := l.Embed(ctx, batch); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
		})
	}
}

// BenchmarkLexicalBatch measures Lexical on batches of 64 messages of 200
// bytes, as when a thread is indexed, and reports texts per second.
func BenchmarkLexicalBatch(b *testing.B) {
	l, err := embed.NewLexical(0)
	if err != nil {
		b.Fatal(err)
	}
	texts := messages200(64, "My landlord raised the rent in March, and I asked him whether the heating will be fixed before winter.")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Embed(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "texts/s")
}
