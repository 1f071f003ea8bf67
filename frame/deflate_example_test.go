package frame_test

import (
	"bytes"
	"fmt"

	"github.com/lullws/lull/frame"
)

// Compress a message for permessage-deflate, frame it with RSV1 on its
// (only) frame, and inflate it back with a read limit.
func ExampleAppendDeflate() {
	msg := bytes.Repeat([]byte(`{"event":"tick","ok":true}`), 40)
	payload, err := frame.AppendDeflate(nil, msg, frame.DefaultCompressionLevel)
	if err != nil {
		panic(err)
	}
	wire := frame.AppendFrame(nil, frame.Header{Fin: true, Rsv: frame.Rsv1, Opcode: frame.OpText}, payload)
	fmt.Printf("%d bytes of JSON in a frame of %d bytes\n", len(msg), len(wire))

	p := frame.Parser{Client: true, Compression: true}
	f, _, _, _ := p.Next(wire)
	out, err := frame.AppendInflate(nil, f.Payload, 64<<10)
	fmt.Println(f.Compressed, bytes.Equal(out, msg), err)

	_, err = frame.AppendInflate(nil, f.Payload, 100) // inflates past the limit
	fmt.Println(err)
	// Output:
	// 1040 bytes of JSON in a frame of 51 bytes
	// true true <nil>
	// websocket: message exceeds the read limit
}
