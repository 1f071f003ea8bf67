package frame

import (
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"testing"
)

// FuzzInflate inflates arbitrary bytes with a limit. It must never panic,
// must fail only with ErrInvalidCompressed or ErrMessageTooBig (leaving
// dst as it was), must never return more than the limit, and must agree
// with compress/flate used the plain way. A context-keeping Inflater
// must give the same result for a first message.
func FuzzInflate(f *testing.F) {
	for _, kind := range deflateKinds {
		for _, level := range []int{-2, 0, 1, 9} {
			c, _ := AppendDeflate(nil, deflatePayload(kind, 300), level)
			f.Add(c, uint16(0))
			f.Add(c, uint16(100))
		}
	}
	f.Add([]byte{0x00}, uint16(0))
	f.Add([]byte{0x07, 0x00}, uint16(0))
	f.Add(zeroBomb(f, 1), uint16(4096))

	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		got, err := AppendInflate([]byte("pre"), data, int64(limit))
		if string(got[:3]) != "pre" {
			t.Fatalf("dst's bytes changed")
		}
		got = got[3:]
		switch err {
		case nil:
		case ErrInvalidCompressed, ErrMessageTooBig:
			if len(got) != 0 {
				t.Fatalf("error %v with %d bytes appended", err, len(got))
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
		if limit > 0 && len(got) > int(limit) {
			t.Fatalf("%d bytes returned past a limit of %d", len(got), limit)
		}
		// The reference, limited to what matters.
		r := flate.NewReader(io.MultiReader(bytes.NewReader(data), strings.NewReader("\x00\x00\xff\xff\x01\x00\x00\xff\xff")))
		refLimit := int64(limit) + 1
		if limit == 0 {
			refLimit = 1 << 24
		}
		want, rerr := io.ReadAll(io.LimitReader(r, refLimit))
		switch {
		case err == nil && (rerr != nil || !bytes.Equal(got, want)):
			t.Fatalf("inflated %d bytes, compress/flate %d (%v)", len(got), len(want), rerr)
		case err == ErrMessageTooBig && len(want) <= int(limit):
			t.Fatalf("refused as too big, but compress/flate gives %d bytes (%v)", len(want), rerr)
		case err == ErrInvalidCompressed && rerr == nil && (limit == 0 || len(want) <= int(limit)):
			t.Fatalf("refused as invalid, but compress/flate gives %d bytes", len(want))
		}
		kept, kerr := NewInflater(true).Append(nil, data, int64(limit))
		if kerr != err || !bytes.Equal(kept, got) {
			t.Fatalf("context-keeping inflater: %v, %d bytes; pooled: %v, %d bytes", kerr, len(kept), err, len(got))
		}
	})
}

var (
	fuzzCompressors [MaxCompressionLevel - MinCompressionLevel + 1]*Compressor
	fuzzInflater    = NewInflater(true)
)

// FuzzCompress compresses arbitrary messages at every level, alone and
// as a sequence with context takeover, and inflates them back.
func FuzzCompress(f *testing.F) {
	for _, kind := range deflateKinds {
		f.Add(deflatePayload(kind, 500), int8(1), uint16(100))
	}
	f.Add([]byte{}, int8(-2), uint16(0))
	f.Add(bytes.Repeat([]byte{0}, 5000), int8(9), uint16(1))

	f.Fuzz(func(t *testing.T, msg []byte, level int8, cut uint16) {
		if len(msg) > 64<<10 {
			msg = msg[:64<<10]
		}
		lv := int(level)%12 - 2 // -2 to 9 ... and some out of range
		if lv < MinCompressionLevel {
			lv = MinCompressionLevel
		}
		comp, err := AppendDeflate(nil, msg, lv)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AppendInflate(nil, comp, int64(len(msg)))
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("level %d: %v, %d of %d bytes", lv, err, len(got), len(msg))
		}
		if len(msg) > 1 { // limit 0 means none
			if _, err := AppendInflate(nil, comp, int64(len(msg)-1)); err != ErrMessageTooBig {
				t.Fatalf("limit one under the size: %v", err)
			}
		}
		// A sequence of messages, cut from msg, with context takeover.
		// Reused across runs (a Compressor is about 1 MiB), reset.
		c := fuzzCompressors[lv-MinCompressionLevel]
		if c == nil {
			c, _ = NewCompressor(lv, true)
			fuzzCompressors[lv-MinCompressionLevel] = c
		}
		c.Reset()
		in := fuzzInflater
		in.Reset()
		k := max(int(cut)%(len(msg)+1)+1, len(msg)/32) // at most 32 pieces
		for rest := msg; len(rest) > 0; {
			m := rest[:min(k, len(rest))]
			rest = rest[len(m):]
			got, err := in.Append(nil, c.Append(nil, m), 0)
			if err != nil || !bytes.Equal(got, m) {
				t.Fatalf("takeover, level %d, pieces of %d: %v", lv, k, err)
			}
		}
	})
}
