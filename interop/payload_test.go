package interop

import (
	"bytes"
	"fmt"
)

// Message contents for the compression runs, after the files of Autobahn's
// groups 12 and 13 (not copied: generated, as node/peer.js does): JSON and
// HTML (ASCII text), German prose (UTF-8, sent as binary), a low-entropy
// picture and a high-entropy document (binary).

const sourceSize = 256 << 10

var sourceCache = map[string][]byte{}

type xorshift uint32

func newXorshift(seed uint32) *xorshift { x := xorshift(seed*2654435761 + 1); return &x }

func (x *xorshift) next() uint32 {
	v := uint32(*x)
	v ^= v << 13
	v ^= v >> 17
	v ^= v << 5
	*x = xorshift(v)
	return v
}

var faustWords = []string{"Habe", "nun", "ach", "Philosophie", "Juristerei", "und", "Medizin", "Theologie",
	"durchaus", "studiert", "mit", "heißem", "Bemühn", "Da", "steh", "ich", "armer", "Tor",
	"bin", "so", "klug", "als", "wie", "zuvor", "Größe", "Übermut", "schön", "Straße", "Gespräch"}

// source returns sourceSize bytes of one kind of content. Not safe for
// concurrent use (the tests that use it run sequentially).
func source(kind string) []byte {
	if b, ok := sourceCache[kind]; ok {
		return b
	}
	var b bytes.Buffer
	rnd := newXorshift(42)
	switch kind {
	case "json":
		b.WriteString("[")
		for i := 0; b.Len() < sourceSize; i++ {
			fmt.Fprintf(&b, `{"id":%d,"name":"user-%d","email":"user%d@example.org","tags":["alpha","beta","gamma"],"score":%d,"active":%v},`+"\n",
				i, i, i, (i*7919)%1000, i%3 == 0)
		}
	case "html":
		for i := 0; b.Len() < sourceSize; i++ {
			fmt.Fprintf(&b, `<li class="item"><a href="/items/%d">Item %d</a> <span class="price">%d.99</span></li>`+"\n", i, i, (i*37)%500)
		}
	case "faust":
		for i := 1; b.Len() < sourceSize; i++ {
			b.WriteString(faustWords[rnd.next()%uint32(len(faustWords))])
			if i%12 == 0 {
				b.WriteString(".\n")
			} else {
				b.WriteString(" ")
			}
		}
	case "bmp":
		for i := 0; i < sourceSize; i++ {
			p := i / 3
			x, y := p&255, p>>8
			b.WriteByte(byte([3]int{x ^ y, x, y}[i%3]))
		}
	case "pdf":
		for i := 0; b.Len() < sourceSize; i++ {
			fmt.Fprintf(&b, "%d 0 obj\n<< /Length 1024 /Filter /FlateDecode >>\nstream\n", i)
			for k := 0; k < 1024; k++ {
				b.WriteByte(byte(rnd.next()))
			}
			b.WriteString("\nendstream\nendobj\n")
		}
	default:
		panic("unknown payload kind " + kind)
	}
	src := b.Bytes()[:sourceSize]
	sourceCache[kind] = src
	return src
}

// message returns message i of a run for case c: payload's content, or a
// window of c.Kind's source, wrapping around.
func message(c msgCase, i int) []byte {
	if c.Kind == "" {
		return payload(c.Size, c.Binary, i)
	}
	src := source(c.Kind)
	b := make([]byte, c.Size)
	start := (i * 7919 * 31) % len(src)
	for k := range b {
		b[k] = src[(start+k)%len(src)]
	}
	return b
}
