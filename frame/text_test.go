package frame

import (
	"math/rand"
	"strings"
	"unicode/utf8"
)

// Sample texts for the UTF-8 benchmarks and tests: words drawn at random
// (with a fixed seed) from small vocabularies of several scripts.
var (
	sampleEnglish = strings.Fields("the quick brown fox jumps over a lazy dog while servers send frames and clients read messages over sockets quietly")
	sampleLatin   = strings.Fields("ça déjà été garçon naïve über Größe Straße müssen años mañana coração ação fjörður œuvre")
	sampleCJK     = []string{"你好世界", "こんにちは", "안녕하세요", "日本語の文章", "中文测试", "東京都"}
	sampleOther   = []string{"Привет", "мир", "Здравствуйте", "Ελληνικά", "שלום", "مرحبا"}
	sampleEmoji   = []string{"🎉", "😀", "🚀", "👍🏽", "❤️", "🇫🇷"}
)

// textKinds are the kinds of text sampleText makes.
var textKinds = []string{"ascii", "mixed", "multibyte"}

// sampleText returns valid UTF-8 text of the given kind, n bytes long or up
// to 3 bytes shorter (it is cut on a character boundary):
//
//   - ascii: English words;
//   - mixed: 60% English words, 20% accented Latin, 15% CJK, 5% emoji, as
//     in chat messages;
//   - multibyte: CJK, Cyrillic, Greek, Hebrew, Arabic and emoji with no
//     ASCII at all.
func sampleText(kind string, n int) []byte {
	rng := rand.New(rand.NewSource(int64(n)))
	pick := func(words []string) string { return words[rng.Intn(len(words))] }
	var b []byte
	for len(b) < n {
		switch kind {
		case "ascii":
			b = append(b, pick(sampleEnglish)...)
			b = append(b, ' ')
		case "mixed":
			switch r := rng.Intn(20); {
			case r < 12:
				b = append(b, pick(sampleEnglish)...)
			case r < 16:
				b = append(b, pick(sampleLatin)...)
			case r < 19:
				b = append(b, pick(sampleCJK)...)
			default:
				b = append(b, pick(sampleEmoji)...)
			}
			b = append(b, ' ')
		case "multibyte":
			switch r := rng.Intn(10); {
			case r < 5:
				b = append(b, pick(sampleCJK)...)
			case r < 8:
				b = append(b, pick(sampleOther)...)
			default:
				b = append(b, pick(sampleEmoji)...)
			}
		default:
			panic("unknown text kind " + kind)
		}
	}
	b = b[:n]
	for !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return b
}
