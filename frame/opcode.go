package frame

// Opcode is the 4-bit frame type of RFC 6455 §5.2.
type Opcode byte

// The opcodes defined by RFC 6455 §11.8. Values 0x3-0x7 are reserved for
// future data frames and 0xB-0xF for future control frames.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether o is a control opcode (close, ping, pong or a
// reserved control value). Control frames carry at most MaxControlPayload
// bytes and are never fragmented.
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// IsData reports whether o starts a data message (text or binary).
func (o Opcode) IsData() bool { return o == OpText || o == OpBinary }

// IsReserved reports whether o is one of the opcodes RFC 6455 leaves
// undefined. A peer that sends one must be failed with CloseProtocolError.
func (o Opcode) IsReserved() bool {
	switch o {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the opcode's name, as used in RFC 6455.
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	if o > 0xF {
		return "invalid"
	}
	return "reserved"
}

// Limits fixed by RFC 6455 §5.2 and §5.5.
const (
	// MaxHeaderSize is the largest frame header: 2 fixed bytes, an 8-byte
	// extended length and a 4-byte masking key.
	MaxHeaderSize = 14

	// MaxControlPayload is the largest payload of a control frame.
	MaxControlPayload = 125
)

// Bits of the first header byte.
const (
	bitFin  = 0x80
	bitRsv1 = 0x40
	bitRsv2 = 0x20
	bitRsv3 = 0x10
	bitMask = 0x80
)
