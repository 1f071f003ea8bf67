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

// A text message arrives in frames that may cut a character in two. The
// validator carries the partial character over, and fails on the first
// byte that cannot continue the text: here the 90 after f4, which would
// make a code point above U+10FFFF.
func ExampleUTF8Validator() {
	var v frame.UTF8Validator
	for _, piece := range [][]byte{
		[]byte("caf\xc3"),  // "caf" and the first byte of "é"
		[]byte("\xa9 ok "), // the rest of "é"
		[]byte("\xf4"),     // may start U+100000-U+10FFFF
		[]byte("\x90!"),    // but not U+110000
	} {
		n, ok := v.Validate(piece)
		fmt.Printf("%q: valid=%v n=%d complete=%v\n", piece, ok, n, v.Complete())
		if !ok {
			fmt.Println("fail the connection with", frame.CloseInvalidPayload)
			break
		}
	}
	// Output:
	// "caf\xc3": valid=true n=4 complete=false
	// "\xa9 ok ": valid=true n=5 complete=true
	// "\xf4": valid=true n=1 complete=false
	// "\x90!": valid=false n=0 complete=false
	// fail the connection with 1007 (invalid payload data)
}

// ValidUTF8 checks a whole message at once.
func ExampleValidUTF8() {
	fmt.Println(frame.ValidUTF8([]byte("κόσμε")))
	fmt.Println(frame.ValidUTF8([]byte("\xed\xa0\x80"))) // a surrogate
	fmt.Println(frame.ValidUTF8([]byte("\xce")))         // ends inside a character
	// Output:
	// true
	// false
	// false
}

// Build the payload of a close frame, then the frame itself.
func ExamplePutClose() {
	var payload [frame.MaxControlPayload]byte
	n, err := frame.PutClose(payload[:], frame.CloseGoingAway, "restarting")
	if err != nil {
		fmt.Println(err)
		return
	}
	wire := frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpClose}, payload[:n])
	fmt.Printf("% x\n", wire)

	_, err = frame.PutClose(payload[:], frame.CloseAbnormal, "") // 1006 is never sent
	fmt.Println(err)
	// Output:
	// 88 0c 03 e9 72 65 73 74 61 72 74 69 6e 67
	// frame: close code may not be sent on the wire
}

// Read the payload of a received close frame, and decide what to answer.
func ExampleParseClose() {
	for _, payload := range [][]byte{
		{0x03, 0xe8, 'b', 'y', 'e'}, // 1000 "bye"
		{},                          // no code
		{0x03, 0xed},                // 1005 must not appear on the wire
	} {
		code, reason, err := frame.ParseClose(payload)
		if err != nil {
			fmt.Printf("%v: answer %v\n", err, err.(*frame.Error).Code)
			continue
		}
		fmt.Printf("peer closed with %v %q\n", code, reason)
	}
	// Output:
	// peer closed with 1000 (normal closure) "bye"
	// peer closed with 1005 (no status) ""
	// websocket: invalid close code: answer 1002 (protocol error)
}
