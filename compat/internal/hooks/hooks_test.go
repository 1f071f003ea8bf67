package hooks

import (
	"testing"

	"github.com/lullws/lull/frame"
)

func TestNewProtocolError(t *testing.T) {
	cases := []struct {
		fe          *frame.Error
		b           []byte
		compression bool
		text        string
		known       bool
		code        int
	}{
		{frame.ErrReservedBits, []byte{0x81 | 0x20, 0x80}, false, "RSV2 set", true, 0},
		{frame.ErrReservedBits, []byte{0x81 | 0x70, 0x80}, true, "RSV2 set, RSV3 set", true, 0},
		{frame.ErrReservedBits, []byte{0x81 | 0x70, 0x80}, false, "RSV1 set, RSV2 set, RSV3 set", true, 0},
		{frame.ErrCompressedCont, []byte{0x80 | 0x40, 0x80}, true, "RSV1 set", true, 0},
		// b does not begin with the frame (its header came in an earlier
		// read): no number rather than a wrong one.
		{frame.ErrReservedBits, []byte{0x01, 0x02}, false, "RSV set", false, 0},
		{frame.ErrReservedOpcode, []byte{0x83, 0x80}, false, "bad opcode 3", true, 0},
		{frame.ErrReservedOpcode, []byte{0x8b, 0x80}, false, "bad opcode 11", true, 0},
		{frame.ErrReservedOpcode, []byte{0x81, 0x80}, false, "bad opcode", false, 0},
		{frame.ErrCloseCode, []byte{0x88, 0x82, 1, 2, 3, 4, 0x03, 0xe7}, false, "bad close code 999", true, 999},
		{frame.ErrCloseCode, []byte{0x88, 0x02, 0x03, 0xed}, false, "bad close code 1005", true, 1005},
		{frame.ErrCloseCode, []byte{0x88, 0x82, 1, 2}, false, "bad close code", true, 0},
		{frame.ErrCloseCode, []byte{0x81, 0x02, 0x03, 0xed}, false, "bad close code", false, 0},
		{frame.ErrControlTooLong, nil, false, "len > 125 for control", false, 0},
		{frame.ErrMaskRequired, []byte{0x81, 0x01}, false, "bad MASK", true, 0},
		{frame.ErrCloseReasonUTF8, []byte{0x88, 0x84}, false, "invalid utf8 payload in close frame", true, 0},
		{frame.ErrCloseLength, []byte{0x88, 0x81}, false, frame.ErrCloseLength.Reason, true, 0},
	}
	for _, tc := range cases {
		e := NewProtocolError(tc.fe, tc.b, tc.compression)
		if e.Error() != "websocket: "+tc.text || e.HeaderKnown != tc.known || e.CloseCode != tc.code {
			t.Errorf("%v on % x: %q known=%v code=%d, want %q known=%v code=%d",
				tc.fe, tc.b, e.Error(), e.HeaderKnown, e.CloseCode, tc.text, tc.known, tc.code)
		}
		if e.Unwrap() != tc.fe {
			t.Errorf("Unwrap: %v", e.Unwrap())
		}
	}
}
