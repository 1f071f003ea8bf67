package frame

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// A maskKernel is one implementation of mask: it XORs b with the key k
// rotated so that k's low byte applies to b[0].
type maskKernel struct {
	name string
	fn   func(b []byte, k uint32)
}

// maskImpls returns Mask itself, then every kernel this build can run on
// this machine: the pure-Go one and the assembly ones of archKernels.
func maskImpls() []maskKernel {
	impls := []maskKernel{{"Mask", nil}, {"go", maskGo}}
	return append(impls, archKernels()...)
}

// apply masks b with impl as Mask would, returning the next pos.
func (impl maskKernel) apply(key [4]byte, pos int, b []byte) int {
	if impl.fn == nil {
		return Mask(key, pos, b)
	}
	pos &= 3
	impl.fn(b, bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*pos))
	return (pos + len(b)) & 3
}

// naiveMask is the reference: RFC 6455 §5.3 written out one byte at a time.
func naiveMask(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

// alignedBuffer returns a slice of n bytes that starts off bytes past a
// 64-byte boundary, with guard bytes on both sides that a correct Mask never
// touches. Check them with checkGuards.
func alignedBuffer(n, off int) (whole, b []byte) {
	whole = make([]byte, n+off+2*guardSize)
	start := int(-uintptr(unsafe.Pointer(unsafe.SliceData(whole))) & 63)
	for i := range whole {
		whole[i] = guardByte
	}
	whole = whole[start : start+n+off+guardSize+guardSize/2]
	b = whole[guardSize/2+off : guardSize/2+off+n]
	return whole, b
}

const (
	guardSize = 128 // multiple of 64, so b's offset from a 64-byte boundary is off
	guardByte = 0xa5
)

// checkGuards reports whether anything outside b in whole was written.
func checkGuards(t *testing.T, whole []byte, n, off int) {
	t.Helper()
	for i, c := range whole {
		if (i < guardSize/2+off || i >= guardSize/2+off+n) && c != guardByte {
			t.Fatalf("byte %d outside the %d-byte slice at offset %d was written: %#x", i-(guardSize/2+off), n, off, c)
		}
	}
}

// fill writes a pattern that differs at every position and between calls
// with different seeds.
func fill(b []byte, seed uint64) {
	r := rand.New(rand.NewPCG(seed, uint64(len(b))))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// maskLengths are the lengths the table tests sweep: every length up to 300
// (all head, tail and short-path cases of every kernel) and lengths around
// the loop strides and the benchmark sizes.
func maskLengths() []int {
	var ns []int
	for n := 0; n <= 300; n++ {
		ns = append(ns, n)
	}
	for _, n := range []int{511, 512, 513, 1023, 1024, 1025, 1500, 4095, 4096, 4097, 16383, 16384, 16385, 65536 + 7} {
		ns = append(ns, n)
	}
	return ns
}

var testKeys = [][4]byte{
	{0x37, 0xfa, 0x21, 0x3d}, // RFC 6455 §5.7
	{0x01, 0x02, 0x04, 0x08},
	{0xff, 0x00, 0xff, 0x00},
}

// TestMask checks Mask and every kernel against the byte-at-a-time reference for every
// length in maskLengths, every starting pos, and every offset from a 64-byte
// boundary that matters to an aligned loop, and checks that it writes
// nothing outside the slice.
func TestMask(t *testing.T) {
	for _, impl := range maskImpls() {
		t.Run(impl.name, func(t *testing.T) { testMask(t, impl) })
	}
}

func testMask(t *testing.T, impl maskKernel) {
	for _, n := range maskLengths() {
		offs := 64
		if n > 300 {
			offs = 16 // the head and tail paths are covered by the short lengths
		}
		for off := 0; off < offs; off++ {
			for pos := 0; pos < 4; pos++ {
				key := testKeys[(n+off+pos)%len(testKeys)]
				whole, b := alignedBuffer(n, off)
				fill(b, uint64(off*4+pos))
				want := bytes.Clone(b)
				wantPos := naiveMask(key, pos, want)
				if got := impl.apply(key, pos, b); got != wantPos {
					t.Fatalf("n=%d off=%d pos=%d: returned %d, want %d", n, off, pos, got, wantPos)
				}
				if !bytes.Equal(b, want) {
					t.Fatalf("n=%d off=%d pos=%d: first difference at byte %d", n, off, pos, firstDiff(b, want))
				}
				checkGuards(t, whole, n, off)
			}
		}
	}
}

// TestMaskChunked checks, for Mask and every kernel, that masking a payload in pieces, passing each
// call's result to the next, equals masking it at once.
func TestMaskChunked(t *testing.T) {
	for _, impl := range maskImpls() {
		t.Run(impl.name, func(t *testing.T) { testMaskChunked(t, impl) })
	}
}

func testMaskChunked(t *testing.T, impl maskKernel) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range maskLengths() {
		for pos := 0; pos < 4; pos++ {
			key := testKeys[(n+pos)%len(testKeys)]
			orig := make([]byte, n)
			fill(orig, uint64(pos))
			want := bytes.Clone(orig)
			wantPos := naiveMask(key, pos, want)
			for trial := 0; trial < 4; trial++ {
				got := bytes.Clone(orig)
				p := pos
				for rest := got; len(rest) > 0; {
					k := 1 + r.IntN(min(len(rest), 1+[]int{3, 17, 80, 2000}[trial]))
					p = impl.apply(key, p, rest[:k])
					rest = rest[k:]
				}
				if p != wantPos {
					t.Fatalf("n=%d pos=%d trial %d: final pos %d, want %d", n, pos, trial, p, wantPos)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("n=%d pos=%d trial %d: first difference at byte %d", n, pos, trial, firstDiff(got, want))
				}
			}
		}
	}
}

// TestMaskPos checks the documented treatment of pos outside 0-3: only its
// low two bits count.
func TestMaskPos(t *testing.T) {
	key := testKeys[0]
	for _, pos := range []int{math.MinInt, -8, -5, -1, 4, 5, 7, math.MaxInt} {
		b := make([]byte, 37)
		fill(b, 9)
		want := bytes.Clone(b)
		wantPos := naiveMask(key, pos&3, want)
		if got := Mask(key, pos, b); got != wantPos || !bytes.Equal(b, want) {
			t.Errorf("pos=%d: returned %d (want %d), bytes equal %v", pos, got, wantPos, bytes.Equal(b, want))
		}
	}
	if got := Mask(key, 6, nil); got != 2 {
		t.Errorf("Mask(key, 6, nil) = %d, want 2", got)
	}
}

func TestMaskAllocs(t *testing.T) {
	b := make([]byte, 4096)
	if n := testing.AllocsPerRun(100, func() { Mask(testKeys[0], 1, b) }); n != 0 {
		t.Errorf("Mask allocates %v times per call, want 0", n)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// maskBenchSizes are the payload sizes the masking benchmarks report.
var maskBenchSizes = []int{16, 128, 1 << 10, 4 << 10, 16 << 10, 64 << 10}

// BenchmarkMask measures, at each size and on a 64-byte aligned buffer, the
// naive byte loop, the pure-Go kernel, each assembly kernel this machine can
// run, and Mask itself (which picks among them). Compare implementations with
//
//	go test -run '^$' -bench 'Mask$' -count 6 ./frame | benchstat -col /impl -
func BenchmarkMask(b *testing.B) {
	key := testKeys[0]
	for _, n := range maskBenchSizes {
		b.Run(fmt.Sprintf("size=%s", sizeName(n)), func(b *testing.B) {
			b.Run("impl=naive", func(b *testing.B) {
				benchMask(b, n, 0, func(buf []byte) { naiveMask(key, 1, buf) })
			})
			for _, impl := range maskImpls()[1:] {
				b.Run("impl="+impl.name, func(b *testing.B) {
					benchMask(b, n, 0, func(buf []byte) { impl.apply(key, 1, buf) })
				})
			}
			b.Run("impl=Mask", func(b *testing.B) {
				benchMask(b, n, 0, func(buf []byte) { Mask(key, 1, buf) })
			})
		})
	}
}

func benchMask(b *testing.B, n, off int, f func([]byte)) {
	_, buf := alignedBuffer(n, off)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		f(buf)
	}
}

func sizeName(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// BenchmarkMaskUnaligned is BenchmarkMask for payloads that start 6 bytes
// past a 64-byte boundary, as the payload of a short client frame does in a
// read buffer.
func BenchmarkMaskUnaligned(b *testing.B) {
	key := testKeys[0]
	for _, n := range maskBenchSizes {
		b.Run(fmt.Sprintf("size=%s", sizeName(n)), func(b *testing.B) {
			for _, impl := range maskImpls()[1:] {
				b.Run("impl="+impl.name, func(b *testing.B) {
					benchMask(b, n, 6, func(buf []byte) { impl.apply(key, 1, buf) })
				})
			}
			b.Run("impl=Mask", func(b *testing.B) {
				benchMask(b, n, 6, func(buf []byte) { Mask(key, 1, buf) })
			})
		})
	}
}

// FuzzMask checks Mask and every kernel against the byte-at-a-time
// reference for any payload, key, starting pos and offset from a 64-byte
// boundary, and checks that masking in the pieces cuts describes gives the
// same bytes and final pos as masking at once.
func FuzzMask(f *testing.F) {
	for _, n := range []int{0, 1, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 65, 127, 128, 129, 255, 256, 300, 1025} {
		data := make([]byte, n)
		fill(data, uint64(n))
		f.Add(data, uint32(0x3d21fa37), uint8(n%4), uint8(n%64), []byte{byte(n % 7), 0, 63})
	}
	f.Fuzz(func(t *testing.T, data []byte, key32 uint32, pos, off uint8, cuts []byte) {
		var key [4]byte
		binary.LittleEndian.PutUint32(key[:], key32)
		want := bytes.Clone(data)
		wantPos := naiveMask(key, int(pos), want)
		n, o := len(data), int(off%64)
		for _, impl := range maskImpls() {
			whole, b := alignedBuffer(n, o)
			copy(b, data)
			if got := impl.apply(key, int(pos), b); got != wantPos {
				t.Fatalf("%s: n=%d off=%d pos=%d: returned %d, want %d", impl.name, n, o, pos, got, wantPos)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("%s: n=%d off=%d pos=%d: first difference at byte %d", impl.name, n, o, pos, firstDiff(b, want))
			}
			checkGuards(t, whole, n, o)
		}

		// Each cut byte is the length of the next piece (0 means 1).
		got := bytes.Clone(data)
		p := int(pos & 3) // with no piece, Mask is never called to reduce pos
		for i, rest := 0, got; len(rest) > 0; i++ {
			k := len(rest)
			if len(cuts) > 0 {
				k = min(int(cuts[i%len(cuts)])+1, len(rest))
			}
			p = Mask(key, p, rest[:k])
			rest = rest[k:]
		}
		if p != wantPos || !bytes.Equal(got, want) {
			t.Fatalf("chunked: n=%d pos=%d cuts=%v: final pos %d (want %d), first difference at byte %d", n, pos, cuts, p, wantPos, firstDiff(got, want))
		}
	})
}
