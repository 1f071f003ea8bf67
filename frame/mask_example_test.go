package frame_test

import (
	"fmt"

	"github.com/lullws/lull/frame"
)

// Unmask a payload that arrives in pieces, as it does from a socket: each
// call continues where the previous one stopped in the 4-byte key. The
// frame is the masked "Hello" of RFC 6455 §5.7.
func ExampleMask() {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	payload := []byte{0x7f, 0x9f, 0x4d, 0x51, 0x58}

	pos := 0
	for _, piece := range [][]byte{payload[:2], payload[2:3], payload[3:]} {
		pos = frame.Mask(key, pos, piece)
	}
	fmt.Printf("%s (next key offset %d)\n", payload, pos)

	// Masking is its own inverse: masking again restores the wire bytes.
	frame.Mask(key, 0, payload)
	fmt.Printf("% x\n", payload)
	// Output:
	// Hello (next key offset 1)
	// 7f 9f 4d 51 58
}
