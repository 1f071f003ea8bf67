package frame

import (
	"bytes"
	"fmt"
	"testing"
	"unsafe"
)

// FuzzParser feeds arbitrary bytes to the parser, whole and cut at
// fuzzer-chosen points, for both roles. It must never panic, must hold
// nothing but a frame header between calls, and must complete the same
// frames and fail with the same error whatever the cutting.
func FuzzParser(f *testing.F) {
	for _, c := range autobahnCases() {
		all := bytes.Join(stream(true, c.frames...), nil)
		if len(all) < 4096 {
			f.Add(all, []byte{1, 3, 7}, false, uint16(0))
		}
	}
	f.Add(bytes.Join(stream(false, textF("hi"), pingF("x"), closeF(closePayload(1000, "ok"))), nil), []byte{2}, true, uint16(3))
	f.Add([]byte{0xc1, 0x85, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []byte{5}, false, uint16(0))

	f.Fuzz(func(t *testing.T, data, cuts []byte, client bool, limit uint16) {
		config := Parser{Client: client, MaxMessageSize: int64(limit), Compression: limit&1 == 1}
		whole := config
		want := fuzzRun(t, &whole, [][]byte{bytes.Clone(data)})

		// Cut where the fuzzer says: each cut byte is the length of the
		// next piece (0 means 1).
		var pieces [][]byte
		rest := bytes.Clone(data)
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				n = min(int(cuts[i%len(cuts)])+1, len(rest))
			}
			pieces = append(pieces, rest[:n])
			rest = rest[n:]
		}
		cut := config
		got := fuzzRun(t, &cut, pieces)
		if got != want {
			t.Fatalf("whole input gave\n%s\ncut input gave\n%s", want, got)
		}
		bytewise := config
		var one [][]byte
		cp := bytes.Clone(data)
		for i := range cp {
			one = append(one, cp[i:i+1])
		}
		if got := fuzzRun(t, &bytewise, one); got != want {
			t.Fatalf("whole input gave\n%s\nbyte-by-byte gave\n%s", want, got)
		}
	})
}

// fuzzRun returns a description of the completed frames and the error.
func fuzzRun(t *testing.T, p *Parser, pieces [][]byte) string {
	var out bytes.Buffer
	var payload []byte
	var start, open bool // Start flag of the frame's first fragment
	for _, c := range pieces {
		for len(c) > 0 {
			f, n, ok, err := p.Next(c)
			if n < 0 || n > len(c) {
				t.Fatalf("Next consumed %d of %d", n, len(c))
			}
			c = c[n:]
			if err != nil {
				fmt.Fprintf(&out, "error %v", err)
				return out.String()
			}
			if !ok {
				break
			}
			if !open {
				start, open = f.Start, true
			}
			payload = append(payload, f.Payload...)
			if f.FrameEnd {
				open = false
				h := p.Frame()
				fmt.Fprintf(&out, "%v fin=%v rsv=%d len=%d msg=%v start=%v end=%v comp=%v %x\n",
					h.Opcode, h.Fin, h.Rsv, h.Length, f.Opcode, start, f.End, f.Compressed, payload)
				if int64(len(payload)) != h.Length {
					t.Fatalf("frame of length %d delivered %d bytes", h.Length, len(payload))
				}
				payload = payload[:0]
			}
		}
	}
	// The parser's whole state is its fixed-size struct: nothing grows.
	if s := unsafe.Sizeof(*p); s > 256 {
		t.Fatalf("Parser is %d bytes", s)
	}
	return out.String()
}
