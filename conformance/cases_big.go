package conformance

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

var (
	textUnit   = []byte("BAsd7&jh23")
	binaryUnit = []byte{0x00, 0xfe, 0x23, 0xfa, 0xf0}
)

func kindOf(op byte) string {
	if op == opBinary {
		return "binary"
	}
	return "text"
}

func unitOf(op byte) []byte {
	if op == opBinary {
		return binaryUnit
	}
	return textUnit
}

func sizeString(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// group9: limits and performance, 54 cases. Time is reported, not judged,
// within generous deadlines.
func group9() []*Case {
	var cs []*Case
	sizes := []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20}
	for gi, op := range []byte{opText, opBinary} {
		for i, n := range sizes {
			d := 100 * time.Second
			if n <= 256<<10 || op == opBinary && n <= 4<<20 {
				d = 10 * time.Second
			}
			payload := sync.OnceValue(func() []byte { return pattern(unitOf(op), n) })
			cs = append(cs, &Case{ID: fmt.Sprintf("9.%d.%d", gi+1, i+1), Desc: fmt.Sprintf("one %s %s frame", sizeString(n), kindOf(op)), run: func(s *session) {
				p := payload()
				s.send(oneWrite, s.data(op, p))
				s.expect(d, message(op, p))
				s.closeNormally()
			}})
		}
	}
	frags := []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20}
	for gi, op := range []byte{opText, opBinary} {
		payload := sync.OnceValue(func() []byte { return pattern(unitOf(op), 4<<20) })
		for i, f := range frags {
			cs = append(cs, &Case{ID: fmt.Sprintf("9.%d.%d", gi+3, i+1), Desc: fmt.Sprintf("4 MiB %s message in frames of %s", kindOf(op), sizeString(f)), run: func(s *session) {
				p := payload()
				s.send(oneWrite, fragments(s, op, p, f, 0)...)
				s.expect(100*time.Second, message(op, p))
				s.closeNormally()
			}})
		}
	}
	for gi, op := range []byte{opText, opBinary} {
		payload := sync.OnceValue(func() []byte { return pattern(unitOf(op), 1<<20) })
		for i := range 6 {
			size := 64 << i
			cs = append(cs, &Case{ID: fmt.Sprintf("9.%d.%d", gi+5, i+1), Desc: fmt.Sprintf("1 MiB %s frame written in %d-byte chops", kindOf(op), size), run: func(s *session) {
				p := payload()
				s.send(chop{size: size}, s.data(op, p))
				s.expect(100*time.Second, message(op, p))
				s.closeNormally()
			}})
		}
	}
	deadlines := []time.Duration{60, 60, 60, 120, 240, 480}
	for gi, op := range []byte{opText, opBinary} {
		for i, n := range []int{0, 16, 64, 256, 1024, 4096} {
			d := deadlines[i] * time.Second
			cs = append(cs, &Case{ID: fmt.Sprintf("9.%d.%d", gi+7, i+1), Desc: fmt.Sprintf("sequential round trips of %d-byte %s messages", n, kindOf(op)), run: func(s *session) {
				p := pattern(unitOf(op), n)
				deadline := time.Now().Add(d)
				for range s.opts.roundTrips() {
					s.send(oneWrite, s.data(op, p))
					s.expect(time.Until(deadline), message(op, p))
					if s.over {
						return
					}
				}
				s.closeNormally()
			}})
		}
	}
	return cs
}

// Offers of groups 12 and 13 (catalogue §3.10).
var (
	offerDefault = pmdParams{clientNoContext: true, clientBits: -1}
	offers13     = [][]pmdParams{
		{offerDefault},
		{{clientNoContext: true, clientBits: -1, serverNoContext: true}},
		{{clientNoContext: true, clientBits: -1, serverBits: 9}},
		{{clientNoContext: true, clientBits: -1, serverBits: 15}},
		{{clientNoContext: true, clientBits: -1, serverNoContext: true, serverBits: 9}},
		{{clientNoContext: true, clientBits: -1, serverNoContext: true, serverBits: 15}},
		{
			{clientNoContext: true, clientBits: -1, serverNoContext: true, serverBits: 9},
			{clientNoContext: true, clientBits: -1, serverNoContext: true},
			offerDefault,
		},
	}
)

// acceptRule is how the suite, as a server, answers a client's offer in
// a sub-group of 13 (catalogue §3.10): which parameters the client must
// have offered, and what the answer adds.
type acceptRule struct {
	needNoContext, needBits bool
	clientBits              int
}

var rules13 = [][]acceptRule{
	{{}},
	{{needNoContext: true}},
	{{needBits: true, clientBits: 9}},
	{{needBits: true, clientBits: 15}},
	{{needNoContext: true, needBits: true, clientBits: 9}},
	{{needNoContext: true, needBits: true, clientBits: 15}},
	{{needNoContext: true, needBits: true, clientBits: 9}, {needNoContext: true}, {}},
}

func acceptBy(rules []acceptRule) func([]pmdParams) (pmdParams, bool) {
	return func(offers []pmdParams) (pmdParams, bool) {
		for _, r := range rules {
			for _, o := range offers {
				if r.needNoContext && !o.clientNoContext || r.needBits && o.clientBits == 0 {
					continue
				}
				resp := pmdParams{clientNoContext: r.needNoContext, clientBits: r.clientBits,
					serverNoContext: o.serverNoContext, serverBits: o.serverBits}
				if o.clientBits > 0 && resp.clientBits > o.clientBits {
					resp.clientBits = o.clientBits // the client limited its own window further
				}
				return resp, true
			}
		}
		return pmdParams{}, false
	}
}

// deflateSizes are the (message size, fragment size) pairs of every
// sub-group of 12 and 13.
var deflateSizes = [][2]int{
	{16, 0}, {64, 0}, {256, 0}, {1 << 10, 0}, {4 << 10, 0}, {8 << 10, 0}, {16 << 10, 0}, {32 << 10, 0}, {64 << 10, 0}, {128 << 10, 0},
	{8 << 10, 256}, {16 << 10, 256}, {32 << 10, 256}, {64 << 10, 256}, {128 << 10, 256},
	{128 << 10, 1 << 10}, {128 << 10, 4 << 10}, {128 << 10, 32 << 10},
}

func deflateDeadline(size int) time.Duration {
	switch {
	case size <= 64:
		return 60 * time.Second
	case size <= 256:
		return 120 * time.Second
	case size <= 1<<10:
		return 240 * time.Second
	}
	return 480 * time.Second
}

func deflateCases(group, sub int, kind string, op byte, corpus func() []byte, offers []pmdParams, rules []acceptRule, declineOK bool) []*Case {
	var cs []*Case
	for i, sf := range deflateSizes {
		size, frag := sf[0], sf[1]
		desc := fmt.Sprintf("round trips of %s %s messages (%s), compressed", sizeString(size), kindOf(op), kind)
		if frag > 0 {
			desc += fmt.Sprintf(" in %s fragments", sizeString(frag))
		}
		desc += "; offer " + offerList(offers)
		cs = append(cs, &Case{ID: fmt.Sprintf("%d.%d.%d", group, sub, i+1), Desc: desc, offers: offers, accept: acceptBy(rules), declineOK: declineOK,
			run: func(s *session) {
				if s.deflate == nil {
					s.closeNormally() // declined: the verdict is set already
					return
				}
				data := corpus()
				deadline := time.Now().Add(deflateDeadline(size))
				for i := range s.opts.roundTrips() {
					msg := window(data, i*size, size)
					s.send(oneWrite, fragments(s, op, s.deflate.deflate(msg), frag, 4)...)
					s.expect(time.Until(deadline), message(op, msg))
					if s.over {
						return
					}
				}
				s.closeNormally()
			}})
	}
	return cs
}

func offerList(offers []pmdParams) string {
	var s []string
	for _, o := range offers {
		s = append(s, o.String())
	}
	return strings.Join(s, ", ")
}

// window returns n bytes of data from offset off on, wrapping around.
func window(data []byte, off, n int) []byte {
	out := make([]byte, n)
	off %= len(data)
	for i := 0; i < n; {
		c := copy(out[i:], data[off:])
		i += c
		off = 0
	}
	return out
}

// group12: permessage-deflate with the default offer, 5 payloads × 18.
func group12() []*Case {
	var cs []*Case
	payloads := []struct {
		kind   string
		op     byte
		corpus func() []byte
	}{
		{"JSON", opText, corpusJSON},
		{"BMP-like image", opBinary, corpusBMP},
		{"German text", opBinary, corpusGerman},
		{"HTML", opText, corpusHTML},
		{"PDF-like", opBinary, corpusPDF},
	}
	for i, p := range payloads {
		cs = append(cs, deflateCases(12, i+1, p.kind, p.op, p.corpus, offers13[0], rules13[0], false)...)
	}
	return cs
}

// group13: permessage-deflate parameters, 7 offers × 18, JSON text.
func group13() []*Case {
	var cs []*Case
	for i := range offers13 {
		cs = append(cs, deflateCases(13, i+1, "JSON", opText, corpusJSON, offers13[i], rules13[i], i == 2 || i == 4)...)
	}
	return cs
}

// The payload corpora: deterministic stand-ins for Autobahn's test files,
// of the same kinds. Text corpora are ASCII, so that any window of them is
// valid UTF-8.
const corpusSize = 384 << 10

var (
	corpusJSON = sync.OnceValue(func() []byte {
		r := rand.New(rand.NewPCG(1, 2))
		var b strings.Builder
		b.WriteString("[")
		for i := 0; b.Len() < corpusSize; i++ {
			fmt.Fprintf(&b, `{"id":%d,"name":"%s","email":"%s@example.org","active":%v,"score":%.3f,"tags":["%s","%s"],"address":{"city":"%s","zip":"%05d"}},`+"\n",
				i, word(r), word(r), r.IntN(2) == 0, r.Float64()*100, word(r), word(r), word(r), r.IntN(100000))
		}
		return []byte(b.String())
	})
	corpusHTML = sync.OnceValue(func() []byte {
		r := rand.New(rand.NewPCG(3, 4))
		var b strings.Builder
		b.WriteString("<!DOCTYPE html>\n<html><head><title>Test</title></head><body>\n")
		for b.Len() < corpusSize {
			fmt.Fprintf(&b, "<div class=\"%s\"><h2>%s %s</h2><p>%s %s %s <a href=\"/%s/%s.html\">%s</a>.</p></div>\n",
				word(r), word(r), word(r), word(r), word(r), word(r), word(r), word(r), word(r))
		}
		return []byte(b.String())
	})
	corpusGerman = sync.OnceValue(func() []byte {
		r := rand.New(rand.NewPCG(5, 6))
		words := strings.Fields("der die das und ist nicht ich du er sie es wir ihr mit auf für über schön Geist Welt Glück " +
			"Faust Mephistopheles Gretchen Wagner Himmel Erde Nacht Tag Herz Blut Seele Grün Bäume Träume müssen können " +
			"Weisheit Teufel Hölle Größe Mädchen Straße weiß heiß süß Frühling Lied Zeit Stunde")
		var b strings.Builder
		for b.Len() < corpusSize {
			n := 4 + r.IntN(8)
			for j := range n {
				if j > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(words[r.IntN(len(words))])
			}
			b.WriteString(".\n")
		}
		return []byte(b.String())
	})
	corpusBMP = sync.OnceValue(func() []byte {
		r := rand.New(rand.NewPCG(7, 8))
		b := []byte("BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x01\x00\x18\x00")
		b = append(b, make([]byte, 54-len(b))...)
		for y := 0; len(b) < corpusSize; y++ {
			for x := range 512 {
				n := byte(r.IntN(3))
				b = append(b, byte(x/2)+n, byte(y)+n, byte((x+y)/4))
			}
		}
		return b
	})
	corpusPDF = sync.OnceValue(func() []byte {
		r := rand.New(rand.NewPCG(9, 10))
		b := []byte("%PDF-1.4\n")
		for obj := 1; len(b) < corpusSize; obj++ {
			n := 512 + r.IntN(4096)
			b = fmt.Appendf(b, "%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", obj, n)
			for range n {
				b = append(b, byte(r.Uint32()))
			}
			b = append(b, "\nendstream\nendobj\n"...)
		}
		return b
	})
)

var syllables = []string{"ka", "lo", "mi", "ra", "to", "ne", "su", "vi", "den", "tar", "mon", "lis", "per", "qua", "zen", "bor"}

func word(r *rand.Rand) string {
	n := 1 + r.IntN(3)
	var b strings.Builder
	for range n {
		b.WriteString(syllables[r.IntN(len(syllables))])
	}
	return b.String()
}
