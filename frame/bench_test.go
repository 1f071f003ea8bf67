package frame

import (
	"bytes"
	"fmt"
	"testing"
	"unicode/utf8"
)

// The benchmarks of the header codec, the parser and UTF-8 validation.
// Masking has its own, in mask_test.go. Compare implementations side by side
// with benchstat, e.g.
//
//	go test -run '^$' -bench UTF8 -count 6 ./frame > utf8.txt
//	benchstat -col /impl utf8.txt

func BenchmarkPutHeader(b *testing.B) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: 1024}
	var buf [MaxHeaderSize]byte
	b.ReportAllocs()
	for b.Loop() {
		PutHeader(buf[:], h)
	}
}

func BenchmarkDecodeHeader(b *testing.B) {
	for _, length := range []int64{100, 1024, 100000} {
		b.Run(fmt.Sprintf("length=%d", length), func(b *testing.B) {
			var buf [MaxHeaderSize]byte
			n := PutHeader(buf[:], Header{Fin: true, Opcode: OpBinary, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: length})
			b.ReportAllocs()
			for b.Loop() {
				if _, _, _, err := DecodeHeader(buf[:n]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParser parses a stream of 100 masked messages as a server reads
// them, handed to the parser whole (read=all) or in 4 KiB reads that cut
// frames anywhere, as a socket returns them. The masking key is zero so
// that the stream can be parsed again without being rebuilt; Mask does the
// same work whatever the key. Text messages are validated as UTF-8: "text"
// is ASCII, "text-mixed" mixes Latin, CJK and emoji.
func BenchmarkParser(b *testing.B) {
	for _, kind := range []string{"binary", "text", "text-mixed"} {
		for _, size := range []int{16, 128, 1024, 16384} {
			for _, read := range []int{0, 4096} {
				if read != 0 && size < 1024 {
					continue
				}
				name := fmt.Sprintf("%s/size=%d/read=all", kind, size)
				if read != 0 {
					name = fmt.Sprintf("%s/size=%d/read=%d", kind, size, read)
				}
				b.Run(name, func(b *testing.B) {
					stream := parserBenchStream(kind, size)
					var p Parser
					b.SetBytes(int64(len(stream)))
					b.ReportAllocs()
					for b.Loop() {
						msgs := parseBenchStream(b, &p, stream, read)
						if msgs != 100 {
							b.Fatalf("parsed %d messages, want 100", msgs)
						}
					}
				})
			}
		}
	}
}

// parserBenchStream returns 100 messages of about size bytes each, masked
// with a zero key.
func parserBenchStream(kind string, size int) []byte {
	var op Opcode
	var payload []byte
	switch kind {
	case "binary":
		op, payload = OpBinary, bytes.Repeat([]byte{0x00, 0xfe, 0x23, 0xfa, 0xf0}, size/5+1)[:size]
	case "text":
		op, payload = OpText, sampleText("ascii", size)
	case "text-mixed":
		op, payload = OpText, sampleText("mixed", size)
	}
	var stream []byte
	for i := 0; i < 100; i++ {
		stream = AppendFrame(stream, Header{Fin: true, Opcode: op, Masked: true}, payload)
	}
	return stream
}

// parseBenchStream feeds stream to p in reads of the given size (0: all at
// once) and returns the number of messages completed.
func parseBenchStream(b *testing.B, p *Parser, stream []byte, read int) int {
	msgs := 0
	if read == 0 {
		read = len(stream)
	}
	for len(stream) > 0 {
		chunk := stream[:min(read, len(stream))]
		stream = stream[len(chunk):]
		for len(chunk) > 0 {
			f, n, ok, err := p.Next(chunk)
			if err != nil {
				b.Fatal(err)
			}
			chunk = chunk[n:]
			if !ok {
				break
			}
			if f.End {
				msgs++
			}
		}
	}
	return msgs
}

var utf8Sink bool

// BenchmarkUTF8 validates whole messages with ValidUTF8 (impl=lull) and
// unicode/utf8.Valid (impl=stdlib) on the same bytes.
func BenchmarkUTF8(b *testing.B) {
	for _, kind := range textKinds {
		for _, size := range []int{16, 128, 1024, 16384, 65536} {
			p := sampleText(kind, size)
			b.Run(fmt.Sprintf("kind=%s/size=%d/impl=lull", kind, size), func(b *testing.B) {
				b.SetBytes(int64(len(p)))
				b.ReportAllocs()
				for b.Loop() {
					utf8Sink = ValidUTF8(p)
				}
				if !utf8Sink {
					b.Fatal("sample text rejected")
				}
			})
			b.Run(fmt.Sprintf("kind=%s/size=%d/impl=stdlib", kind, size), func(b *testing.B) {
				b.SetBytes(int64(len(p)))
				b.ReportAllocs()
				for b.Loop() {
					utf8Sink = utf8.Valid(p)
				}
			})
		}
	}
}

// BenchmarkUTF8Stream validates a 16 KiB text fed in pieces of a fixed size,
// as the parser does with the fragments of a message.
func BenchmarkUTF8Stream(b *testing.B) {
	for _, kind := range textKinds {
		p := sampleText(kind, 16384)
		for _, piece := range []int{1, 7, 100, 1400} {
			b.Run(fmt.Sprintf("kind=%s/piece=%d", kind, piece), func(b *testing.B) {
				b.SetBytes(int64(len(p)))
				b.ReportAllocs()
				for b.Loop() {
					var v UTF8Validator
					for rest := p; len(rest) > 0; {
						chunk := rest[:min(piece, len(rest))]
						rest = rest[len(chunk):]
						if _, ok := v.Validate(chunk); !ok {
							b.Fatal("sample text rejected")
						}
					}
					if !v.Complete() {
						b.Fatal("sample text incomplete")
					}
				}
			})
		}
	}
}

func BenchmarkParseClose(b *testing.B) {
	payload := closePayload(CloseGoingAway, "server restarting: please reconnect")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseClose(payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutClose(b *testing.B) {
	var buf [MaxControlPayload]byte
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PutClose(buf[:], CloseGoingAway, "server restarting: please reconnect"); err != nil {
			b.Fatal(err)
		}
	}
}
