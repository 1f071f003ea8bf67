package frame_test

import (
	"fmt"

	"github.com/lullws/lull/frame"
)

// Encode a masked text frame header and decode it back.
func ExamplePutHeader() {
	h := frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5}
	var buf [frame.MaxHeaderSize]byte
	n := frame.PutHeader(buf[:], h)
	fmt.Printf("% x\n", buf[:n])

	got, size, _, err := frame.DecodeHeader(buf[:n])
	fmt.Println(got.Opcode, got.Length, size, err)
	// Output:
	// 81 85 37 fa 21 3d
	// text 5 6 <nil>
}

// DecodeHeader says how many more bytes a partial header needs.
func ExampleDecodeHeader() {
	wire := []byte{0x82, 0x7e, 0x01, 0x00} // binary, 16-bit length 256
	for i := 1; i <= len(wire); i++ {
		h, n, more, _ := frame.DecodeHeader(wire[:i])
		fmt.Printf("%d bytes: n=%d more=%d length=%d\n", i, n, more, h.Length)
	}
	// Output:
	// 1 bytes: n=0 more=1 length=0
	// 2 bytes: n=0 more=2 length=0
	// 3 bytes: n=0 more=1 length=0
	// 4 bytes: n=4 more=0 length=256
}

// A server parses what a client sent, in whatever pieces the socket returns
// it: here a fragmented text message with a ping between its fragments.
func ExampleParser() {
	key := [4]byte{1, 2, 3, 4}
	var wire []byte
	wire = frame.AppendFrame(wire, frame.Header{Opcode: frame.OpText, Masked: true, Key: key}, []byte("Hello, "))
	wire = frame.AppendFrame(wire, frame.Header{Fin: true, Opcode: frame.OpPing, Masked: true, Key: key}, []byte("are you there?"))
	wire = frame.AppendFrame(wire, frame.Header{Fin: true, Opcode: frame.OpContinuation, Masked: true, Key: key}, []byte("world"))

	var p frame.Parser  // the zero value reads a client's (masked) frames
	var msg, ctl []byte // a control frame, too, may arrive in pieces
	for _, piece := range [][]byte{wire[:5], wire[5:20], wire[20:]} {
		for len(piece) > 0 {
			f, n, ok, err := p.Next(piece)
			piece = piece[n:]
			if err != nil {
				fmt.Println("fail the connection with", err.(*frame.Error).Code)
				return
			}
			if !ok {
				break // need more input
			}
			switch {
			case f.Opcode.IsControl():
				ctl = append(ctl, f.Payload...)
				if f.End {
					fmt.Printf("%v %q\n", f.Opcode, ctl)
					ctl = ctl[:0]
				}
			default:
				msg = append(msg, f.Payload...)
				if f.End {
					fmt.Printf("%v message %q\n", f.Opcode, msg)
				}
			}
		}
	}
	// Output:
	// ping "are you there?"
	// text message "Hello, world"
}
