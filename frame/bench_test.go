package frame

import (
	"bytes"
	"fmt"
	"testing"
)

func BenchmarkPutHeader(b *testing.B) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: 1024}
	var buf [MaxHeaderSize]byte
	b.ReportAllocs()
	for b.Loop() {
		PutHeader(buf[:], h)
	}
}

func BenchmarkDecodeHeader(b *testing.B) {
	var buf [MaxHeaderSize]byte
	n := PutHeader(buf[:], Header{Fin: true, Opcode: OpBinary, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: 1024})
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := DecodeHeader(buf[:n]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParser parses a stream of 100 masked messages as a server reads
// them. The masking key is zero so that the stream can be parsed again
// without being rebuilt; Mask does the same work whatever the key.
func BenchmarkParser(b *testing.B) {
	for _, op := range []Opcode{OpText, OpBinary} {
		for _, size := range []int{16, 128, 1024, 16384} {
			b.Run(fmt.Sprintf("%v/%d", op, size), func(b *testing.B) {
				payload := bytes.Repeat([]byte("lull-frame-"), size/11+1)[:size]
				var stream []byte
				for i := 0; i < 100; i++ {
					stream = AppendFrame(stream, Header{Fin: true, Opcode: op, Masked: true}, payload)
				}
				var p Parser
				b.SetBytes(int64(len(stream)))
				b.ReportAllocs()
				for b.Loop() {
					for rest := stream; len(rest) > 0; {
						f, n, _, err := p.Next(rest)
						if err != nil || !f.End {
							b.Fatal(err, f)
						}
						rest = rest[n:]
					}
				}
			})
		}
	}
}
