package conformance

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"testing"
)

func TestMaxDistance(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	// A 2000-byte random block repeated once: the only matches are 2000
	// bytes back.
	block := random(2000)
	far := append(bytes.Clone(block), block...)
	for _, tc := range []struct {
		name    string
		data    []byte
		level   int
		min     int // the longest back-reference must be at least this
		maxDist int // and at most this
	}{
		{"Huffman only", corpusJSON()[:64<<10], flate.HuffmanOnly, 0, 0},
		{"stored", corpusJSON()[:64<<10], flate.NoCompression, 0, 0},
		{"random", random(10000), flate.BestCompression, 0, 32768},
		{"repeat at 2000", far, flate.BestSpeed, 2000, 2000},
		{"repeat at 2000, best", far, flate.BestCompression, 2000, 2000},
		{"JSON", corpusJSON()[:128<<10], flate.DefaultCompression, 513, 32768},
		{"BMP", corpusBMP()[:128<<10], flate.BestCompression, 513, 32768},
		{"German", corpusGerman()[:128<<10], flate.BestSpeed, 513, 32768},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDeflater(false)
			d.w, _ = flate.NewWriter(&d.buf, tc.level)
			comp := append(d.deflate(tc.data), tail...)
			got, size, err := walkDeflate(comp)
			if err != nil {
				t.Fatal(err)
			}
			if size != len(tc.data) {
				t.Errorf("walked %d bytes of output, want %d", size, len(tc.data))
			}
			if got < tc.min || got > tc.maxDist {
				t.Errorf("longest back-reference %d, want %d to %d", got, tc.min, tc.maxDist)
			}
			// The walk must agree with a real decompressor on where the
			// stream ends: truncating it must fail.
			if _, err := maxDistance(comp[:len(comp)/2]); err == nil && len(comp) > 100 {
				t.Errorf("a stream cut in half walked without error")
			}
		})
	}
}

func FuzzMaxDistance(f *testing.F) {
	f.Add([]byte{0, 0, 0xff, 0xff})
	f.Add(append(newDeflater(false).deflate(corpusHTML()[:4096]), tail...))
	f.Fuzz(func(t *testing.T, p []byte) {
		dist, size, err := walkDeflate(p) // must not panic or hang
		// Where compress/flate inflates p to its final block, the walk
		// must agree on the output's length, and no back-reference may
		// reach before the start.
		out, ferr := io.ReadAll(flate.NewReader(bytes.NewReader(p)))
		if ferr != nil {
			return
		}
		if err != nil {
			t.Fatalf("flate inflates %d bytes, the walk fails: %v", len(out), err)
		}
		if size != len(out) || dist > size || dist > 32768 {
			t.Fatalf("walk: %d bytes, distance up to %d; flate: %d bytes", size, dist, len(out))
		}
	})
}
