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

// With context takeover negotiated for a direction, the sender keeps one
// Compressor and the receiver one Inflater for the life of the
// connection: a message may refer back to the ones before it, so a
// repeated message costs a few bytes. (At level 1, compress/flate
// compresses a message under 128 bytes on its own, context or not.) Both sides must keep their context,
// and neither may skip a message: what one compresses the other inflates,
// in order.
func ExampleCompressor() {
	comp, err := frame.NewCompressor(frame.DefaultCompressionLevel, true)
	if err != nil {
		panic(err)
	}
	inf := frame.NewInflater(true)
	msg := []byte(`{"event":"quote","symbol":"LULL","bid":101.25,"ask":101.50,"venue":"XLON",` +
		`"currency":"GBP","time":"2026-12-02T05:30:00Z","flags":["firm","lit"],"seq":1}`)
	var wire, out []byte
	for i := range 2 {
		wire = comp.Append(wire[:0], msg) // the payload of a frame with RSV1
		out, err = inf.Append(out[:0], wire, 1<<20)
		fmt.Printf("message %d: %d bytes sent as %d, intact: %v, err: %v\n", i+1, len(msg), len(wire), bytes.Equal(out, msg), err)
	}
	// Output:
	// message 1: 152 bytes sent as 131, intact: true, err: <nil>
	// message 2: 152 bytes sent as 16, intact: true, err: <nil>
}
