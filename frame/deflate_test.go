package frame

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// Payloads of the kinds Autobahn groups 12 and 13 send, generated
// deterministically: JSON text, German-like text, a low-entropy binary
// (BMP-like) and a high-entropy binary (PDF-like, mostly random).
func deflatePayload(kind string, size int) []byte {
	r := rand.New(rand.NewPCG(uint64(size), uint64(len(kind))))
	var b []byte
	switch kind {
	case "json":
		for i := 0; len(b) < size; i++ {
			b = fmt.Appendf(b, `{"id":%d,"name":"user-%d","tags":["a","bb","ccc"],"score":%.3f,"active":%t},`,
				i, r.IntN(1000), r.Float64()*100, r.IntN(2) == 0)
		}
	case "text":
		words := []string{"Habe", "nun,", "ach!", "Philosophie,", "Juristerei", "und", "Medizin,",
			"Und", "leider", "auch", "Theologie", "Durchaus", "studiert,", "mit", "heißem", "Bemühn.", "Größe", "Straße"}
		for len(b) < size {
			b = append(b, words[r.IntN(len(words))]...)
			b = append(b, ' ')
		}
	case "bmp":
		for len(b) < size {
			v := byte(r.IntN(4) * 60)
			for i := 0; i < 1+r.IntN(40); i++ {
				b = append(b, v, v/2, 255-v)
			}
		}
	case "pdf":
		for len(b) < size {
			if r.IntN(8) == 0 {
				b = append(b, "stream endobj obj "...)
			} else {
				b = append(b, byte(r.Uint32()))
			}
		}
	default:
		panic(kind)
	}
	// Cut at a character boundary so that text stays valid UTF-8.
	for len(b) > size {
		b = b[:size]
		for len(b) > 0 && b[len(b)-1]&0xC0 == 0x80 || len(b) > 0 && b[len(b)-1] >= 0xC0 {
			b = b[:len(b)-1]
		}
		for len(b) < size {
			b = append(b, ' ')
		}
	}
	return b
}

var deflateKinds = []string{"json", "text", "bmp", "pdf"}

// refInflate inflates a permessage-deflate message with compress/flate
// used the plain way, as an independent check of the codec.
func refInflate(t testing.TB, msg []byte) []byte {
	t.Helper()
	r := flate.NewReader(io.MultiReader(bytes.NewReader(msg), strings.NewReader("\x00\x00\xff\xff\x01\x00\x00\xff\xff")))
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reference inflate: %v", err)
	}
	return out
}

// refDeflate compresses msg the plain way: a fresh flate.Writer, a sync
// flush, the tail removed.
func refDeflate(t testing.TB, msg []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(msg)
	w.Flush()
	b := buf.Bytes()
	if !bytes.HasSuffix(b, deflateTail[:]) {
		t.Fatalf("sync flush without its tail: % x", b[max(0, len(b)-8):])
	}
	return b[:len(b)-4]
}

func TestDeflateRoundTrip(t *testing.T) {
	sizes := []int{0, 1, 16, 64, 256, 1 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10}
	for level := MinCompressionLevel; level <= MaxCompressionLevel; level++ {
		for _, kind := range deflateKinds {
			for _, size := range sizes {
				// The big sizes at the slow levels take most of the time,
				// 20 s under the race detector: run them without it.
				if (testing.Short() || raceEnabled) && size > 16<<10 && level > DefaultCompressionLevel {
					continue
				}
				msg := deflatePayload(kind, size)
				prefix := []byte("keep")
				comp, err := AppendDeflate(prefix, msg, level)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(comp[:4], prefix) {
					t.Fatalf("AppendDeflate changed dst's bytes")
				}
				comp = comp[4:]
				if got := refInflate(t, comp); !bytes.Equal(got, msg) {
					t.Fatalf("level %d %s/%d: compress/flate inflates our output to %d bytes, want %d", level, kind, size, len(got), len(msg))
				}
				got, err := AppendInflate([]byte("x"), comp, int64(size))
				if err != nil || !bytes.Equal(got[1:], msg) || got[0] != 'x' {
					t.Fatalf("level %d %s/%d: AppendInflate: %v (%d bytes)", level, kind, size, err, len(got)-1)
				}
				if size == 0 && !bytes.Equal(comp, []byte{0}) {
					t.Errorf("level %d: empty message compressed to % x, want 00 (RFC 7692 §7.2.3.6)", level, comp)
				}
			}
		}
	}
}

// TestInflateForeign inflates what compress/flate's Writer produced, at
// every level, in one message and in several sync-flushed pieces.
func TestInflateForeign(t *testing.T) {
	msg := deflatePayload("json", 20000)
	for level := MinCompressionLevel; level <= MaxCompressionLevel; level++ {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, level)
		for _, piece := range [][]byte{msg[:100], msg[100:5000], msg[5000:]} {
			w.Write(piece)
			w.Flush() // sync flushes inside a message are allowed
		}
		b := bytes.TrimSuffix(buf.Bytes(), deflateTail[:])
		got, err := AppendInflate(nil, b, 0)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("level %d: %v, %d bytes", level, err, len(got))
		}
		// A final block (BFINAL) within the message ends it.
		buf.Reset()
		w.Reset(&buf)
		w.Write(msg)
		w.Close()
		if got, err := AppendInflate(nil, buf.Bytes(), 0); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("level %d, final block: %v, %d bytes", level, err, len(got))
		}
	}
}

func TestCompressorContextTakeover(t *testing.T) {
	c, err := NewCompressor(6, true)
	if err != nil {
		t.Fatal(err)
	}
	in := NewInflater(true)
	msg := deflatePayload("json", 3000)
	var first, later int
	for i := 0; i < 50; i++ {
		m := msg[i*7 : 2000+i*13]
		comp := c.Append(nil, m)
		if i == 0 {
			first = len(comp)
		} else {
			later = len(comp)
		}
		got, err := in.Append(nil, comp, 0)
		if err != nil || !bytes.Equal(got, m) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if later*4 > first {
		t.Errorf("with context takeover, later messages compress to %d bytes, the first to %d: the context is not used", later, first)
	}
	// The same stream inflated without context: the later messages refer
	// to history the inflater does not have.
	c2, _ := NewCompressor(6, true)
	fresh := NewInflater(false)
	c2.Append(nil, msg[:2000])
	if got, err := fresh.Append(nil, c2.Append(nil, msg[:2000]), 0); err == nil && bytes.Equal(got, msg[:2000]) {
		t.Errorf("a message referring to an earlier one inflated without its context")
	}
	// Reset forgets the context on both sides.
	c.Reset()
	in.Reset()
	if got, err := in.Append(nil, c.Append(nil, msg[:100]), 0); err != nil || !bytes.Equal(got, msg[:100]) {
		t.Fatalf("after Reset: %v", err)
	}
}

// TestInflaterWindow checks the history a context-keeping inflater holds
// against a plain flate stream of the same messages, with messages
// shorter and longer than the window.
func TestInflaterWindow(t *testing.T) {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, 9)
	in := NewInflater(true)
	all := deflatePayload("text", 200000)
	for i, size := range []int{10, 40000, 5, 70000, 33000, 1, 30000, 20000} {
		m := all[i*1000 : i*1000+size]
		buf.Reset()
		w.Write(m)
		w.Flush()
		got, err := in.Append(nil, bytes.TrimSuffix(buf.Bytes(), deflateTail[:]), 0)
		if err != nil || !bytes.Equal(got, m) {
			t.Fatalf("message %d (%d bytes): %v", i, size, err)
		}
		if len(in.window) > WindowSize || cap(in.window) != WindowSize {
			t.Fatalf("window of %d bytes, capacity %d", len(in.window), cap(in.window))
		}
	}
}

func TestInflateCorrupt(t *testing.T) {
	good, _ := AppendDeflate(nil, deflatePayload("json", 5000), 6)
	cases := map[string][]byte{
		"reserved block type": {0x07, 0x00},
		"garbage":             bytes.Repeat([]byte{0xff}, 64),
		"stored length":       {0x00, 0x05, 0x00, 0x00, 0x00}, // LEN does not match NLEN
		"truncated":           good[:len(good)/2],
		"distance too far":    {0x63, 0x00, 0x42, 0x00}, // a back-reference before the start
	}
	for name, b := range cases {
		out, err := AppendInflate(make([]byte, 0, 16), b, 0)
		if err != ErrInvalidCompressed {
			t.Errorf("%s: got %v (%d bytes), want ErrInvalidCompressed", name, err, len(out))
		}
		if len(out) != 0 {
			t.Errorf("%s: dst extended on error", name)
		}
	}
	var e *Error
	if !errors.As(error(ErrInvalidCompressed), &e) || e.Code != CloseInvalidPayload {
		t.Errorf("ErrInvalidCompressed has code %v, want 1007", e.Code)
	}
}

func TestInflateLimit(t *testing.T) {
	msg := deflatePayload("json", 10000)
	comp, _ := AppendDeflate(nil, msg, 6)
	if got, err := AppendInflate(nil, comp, 10000); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("at the limit: %v", err)
	}
	for _, limit := range []int64{1, 4095, 4096, 4097, 9999} {
		got, err := AppendInflate([]byte("ab"), comp, limit)
		if err != ErrMessageTooBig || string(got) != "ab" {
			t.Fatalf("limit %d: %v, %d bytes", limit, err, len(got))
		}
	}
}

// zeroBomb returns DEFLATE data (tail removed) inflating to mib MiB of
// zeros: a first sync-flushed MiB, then copies of a second one, each of
// which refers only to the zeros of the window before it. Each MiB
// costs about 1 KiB: DEFLATE's best ratio is 1032:1 (258-byte matches in
// 2 bits), so 1 GiB takes about 1 MB.
func zeroBomb(t testing.TB, mib int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, 9)
	zeros := make([]byte, 1<<20)
	w.Write(zeros)
	w.Flush()
	a := bytes.Clone(buf.Bytes())
	buf.Reset()
	w.Write(zeros)
	w.Flush()
	b := buf.Bytes()
	out := append([]byte(nil), a...)
	for i := 1; i < mib; i++ {
		out = append(out, b...)
	}
	return bytes.TrimSuffix(out, deflateTail[:])
}

func TestZeroBombConstruction(t *testing.T) {
	b := zeroBomb(t, 3)
	got, err := AppendInflate(nil, b, 0)
	if err != nil || len(got) != 3<<20 || bytes.IndexFunc(got, func(r rune) bool { return r != 0 }) >= 0 {
		t.Fatalf("3 MiB zero bomb inflated to %d bytes: %v", len(got), err)
	}
}

// TestInflateBomb: the inflated size, not the compressed one, is limited,
// and inflating stops as soon as it passes the limit, so memory stays
// near the limit whatever the ratio. 1 KiB cannot inflate to 1 GiB
// (DEFLATE's ratio is at most 1032:1), so the biggest honest equivalents
// are tested: about 1 KiB inflating to 1 MiB against a 64 KiB limit, and
// about 1 MB inflating to 1 GiB against a 1 MiB limit.
func TestInflateBomb(t *testing.T) {
	small := zeroBomb(t, 1)
	if len(small) > 1100 {
		t.Fatalf("1 MiB bomb is %d bytes", len(small))
	}
	if _, err := AppendInflate(nil, small, 64<<10); err != ErrMessageTooBig {
		t.Fatalf("%d bytes inflating to 1 MiB, 64 KiB limit: %v", len(small), err)
	}
	big := zeroBomb(t, 1024)
	t.Logf("1 GiB bomb: %d compressed bytes; 1 MiB bomb: %d", len(big), len(small))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out, err := AppendInflate(nil, big, 1<<20)
	runtime.ReadMemStats(&after)
	if err != ErrMessageTooBig || len(out) != 0 {
		t.Fatalf("1 GiB bomb with a 1 MiB limit: %v", err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %.2f MiB while refusing the 1 GiB bomb", float64(alloc)/(1<<20))
	if alloc > 8<<20 {
		t.Errorf("refusing a bomb with a 1 MiB limit allocated %d bytes, want a few MiB at most", alloc)
	}
}

func TestCompressionLevels(t *testing.T) {
	for _, level := range []int{-3, 10} {
		if _, err := AppendDeflate(nil, []byte("x"), level); err != ErrCompressionLevel {
			t.Errorf("level %d: %v", level, err)
		}
		if _, err := NewCompressor(level, false); err != ErrCompressionLevel {
			t.Errorf("NewCompressor level %d: %v", level, err)
		}
	}
	// Higher levels compress this payload no worse than level 1, and
	// level 0 (stored blocks) not at all.
	msg := deflatePayload("json", 16<<10)
	l1, _ := AppendDeflate(nil, msg, 1)
	l9, _ := AppendDeflate(nil, msg, 9)
	l0, _ := AppendDeflate(nil, msg, 0)
	if len(l9) > len(l1) || len(l0) < len(msg) {
		t.Errorf("level 0/1/9: %d/%d/%d bytes for %d", len(l0), len(l1), len(l9), len(msg))
	}
	if ref := refDeflate(t, msg, 1); !bytes.Equal(ref, l1) {
		t.Errorf("level 1 output differs from a fresh flate.Writer's")
	}
}

func TestCompressedLimit(t *testing.T) {
	for _, c := range []struct{ in, want int64 }{{0, 0}, {-1, -1}, {8, 8 + 1 + 4096}, {1 << 20, 1<<20 + 1<<17 + 4096}, {1<<63 - 1, 1<<63 - 1}} {
		if got := CompressedLimit(c.in); got != c.want {
			t.Errorf("CompressedLimit(%d) = %d, want %d", c.in, got, c.want)
		}
	}
	// The parser lets a compressed message's wire size past MaxMessageSize
	// (the inflated size is limited later), up to CompressedLimit.
	p := Parser{Compression: true, MaxMessageSize: 100}
	hdr := AppendHeader(nil, Header{Fin: true, Rsv: Rsv1, Opcode: OpBinary, Masked: true, Length: 4208})
	if _, _, _, err := p.Next(hdr); err != nil {
		t.Fatalf("compressed frame of CompressedLimit bytes: %v", err)
	}
	p = Parser{Compression: true, MaxMessageSize: 100}
	hdr = AppendHeader(nil, Header{Fin: true, Rsv: Rsv1, Opcode: OpBinary, Masked: true, Length: 4209})
	if _, _, _, err := p.Next(hdr); err != ErrMessageTooBig {
		t.Fatalf("compressed frame over CompressedLimit: %v", err)
	}
	p = Parser{Compression: true, MaxMessageSize: 100}
	hdr = AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, Length: 101})
	if _, _, _, err := p.Next(hdr); err != ErrMessageTooBig {
		t.Fatalf("uncompressed frame over MaxMessageSize: %v", err)
	}
}

// TestDeflateAllocs: in steady state, compressing and inflating a 1 KiB
// JSON message allocate nothing.
func TestDeflateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	msg := deflatePayload("json", 1024)
	comp := make([]byte, 0, 2048)
	out := make([]byte, 0, 4096)
	c, _ := NewCompressor(DefaultCompressionLevel, true)
	in := NewInflater(true)
	cases := map[string]func(){
		"AppendDeflate": func() { comp, _ = AppendDeflate(comp[:0], msg, DefaultCompressionLevel) },
		"AppendDeflate level 6": func() {
			comp, _ = AppendDeflate(comp[:0], msg, 6)
		},
		"AppendInflate": func() {
			comp, _ = AppendDeflate(comp[:0], msg, DefaultCompressionLevel)
			out, _ = AppendInflate(out[:0], comp, 0)
		},
		"takeover": func() {
			comp = c.Append(comp[:0], msg)
			out, _ = in.Append(out[:0], comp, 0)
		},
	}
	for name, f := range cases {
		for i := 0; i < 10; i++ {
			f()
		}
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %.2f allocations per run, want 0", name, n)
		}
	}
	if !bytes.Equal(out, msg) {
		t.Fatal("round trip failed")
	}
}

// TestCodecMemory measures what keeping a codec per connection (context
// takeover) costs, the figures Compressor and Inflater document.
func TestCodecMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("memory figures differ under the race detector")
	}
	measure := func(f func() any) float64 {
		// TotalAlloc counts what is allocated, whatever the collector
		// frees meanwhile (pools are emptied by collections).
		const n = 20
		keep := make([]any, n)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range keep {
			keep[i] = f()
		}
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(keep)
		return float64(after.TotalAlloc-before.TotalAlloc) / n / 1024
	}
	msg := deflatePayload("json", 1024)
	for _, level := range []int{-2, 1, 6, 9} {
		kib := measure(func() any {
			c, _ := NewCompressor(level, true)
			c.Append(nil, msg)
			return c
		})
		t.Logf("Compressor level %d: %.0f KiB", level, kib)
		if level == 1 && kib > 1300 || level != 1 && kib > 900 {
			t.Errorf("Compressor level %d holds %.0f KiB, more than documented", level, kib)
		}
	}
	comp, _ := AppendDeflate(nil, msg, 1)
	kib := measure(func() any {
		f := NewInflater(true)
		f.Append(nil, comp, 0)
		return f
	})
	t.Logf("Inflater with context: %.0f KiB", kib)
	if kib > 90 {
		t.Errorf("Inflater with context holds %.0f KiB, more than documented", kib)
	}
}

func BenchmarkDeflate(b *testing.B) {
	for _, size := range []int{1024, 16 << 10} {
		msg := deflatePayload("json", size)
		for _, level := range []int{1, 6} {
			b.Run(fmt.Sprintf("compress/size=%d/level=%d", size, level), func(b *testing.B) {
				dst := make([]byte, 0, 2*size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					dst, _ = AppendDeflate(dst[:0], msg, level)
				}
			})
		}
		b.Run(fmt.Sprintf("inflate/size=%d", size), func(b *testing.B) {
			comp, _ := AppendDeflate(nil, msg, 1)
			dst := make([]byte, 0, 2*size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = AppendInflate(dst[:0], comp, 0)
			}
		})
	}
}
