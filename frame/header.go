package frame

import "encoding/binary"

// Reserved-bit flags for Header.Rsv.
const (
	Rsv1 uint8 = 0x4 // per-message compression (RFC 7692)
	Rsv2 uint8 = 0x2
	Rsv3 uint8 = 0x1
)

// Header is a frame header as defined by RFC 6455 §5.2.
type Header struct {
	Fin    bool    // the final frame of a message
	Rsv    uint8   // reserved bits: Rsv1, Rsv2 and Rsv3 or-ed together
	Opcode Opcode  // frame type
	Masked bool    // the payload is masked with Key
	Key    [4]byte // masking key; meaningful only when Masked
	Length int64   // payload length in bytes, 0 to 1<<63-1
}

// Size returns the number of bytes PutHeader writes for h: 2 to
// MaxHeaderSize. The shortest length encoding is always used.
func (h *Header) Size() int {
	n := 2
	switch {
	case h.Length > 0xFFFF:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// PutHeader encodes h into b and returns the number of bytes written,
// h.Size(), using the shortest length encoding. b must have room for them
// (MaxHeaderSize bytes always suffice); like encoding/binary's Put
// functions, PutHeader panics if it does not. h.Length must not be
// negative (PutHeader panics); only the low 4 bits of h.Opcode and the low
// 3 of h.Rsv are encoded. PutHeader allocates nothing.
func PutHeader(b []byte, h Header) int {
	b0 := byte(h.Opcode&0xF) | (h.Rsv&0x7)<<4
	if h.Fin {
		b0 |= bitFin
	}
	var b1 byte
	if h.Masked {
		b1 = bitMask
	}
	var n int
	switch {
	case h.Length < 0:
		panic("frame: PutHeader with negative length")
	case h.Length <= 125:
		_ = b[1]
		b[0], b[1] = b0, b1|byte(h.Length)
		n = 2
	case h.Length <= 0xFFFF:
		_ = b[3]
		b[0], b[1] = b0, b1|126
		binary.BigEndian.PutUint16(b[2:], uint16(h.Length))
		n = 4
	default:
		_ = b[9]
		b[0], b[1] = b0, b1|127
		binary.BigEndian.PutUint64(b[2:], uint64(h.Length))
		n = 10
	}
	if h.Masked {
		copy(b[n:n+4], h.Key[:])
		n += 4
	}
	return n
}

// AppendHeader appends the encoding of h to b and returns the extended
// slice, with the same rules as PutHeader.
func AppendHeader(b []byte, h Header) []byte {
	var tmp [MaxHeaderSize]byte
	n := PutHeader(tmp[:], h)
	return append(b, tmp[:n]...)
}

// AppendFrame appends a whole frame to b: h's header with h.Length set to
// len(payload), then the payload, masked with h.Key when h.Masked. payload
// itself is not modified.
func AppendFrame(b []byte, h Header, payload []byte) []byte {
	h.Length = int64(len(payload))
	b = AppendHeader(b, h)
	start := len(b)
	b = append(b, payload...)
	if h.Masked {
		Mask(h.Key, 0, b[start:])
	}
	return b
}

// headerSize returns the size of a header from its first two bytes.
func headerSize(b0, b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&bitMask != 0 {
		n += 4
	}
	return n
}

// DecodeHeader decodes the frame header at the start of b.
//
// On success it returns the header and n, the number of bytes of b it
// occupies. When b ends before the header does, it returns n == 0 and
// more > 0: the header needs at least that many further bytes (the exact
// count once the first two bytes are known). Lengths encoded in more bytes
// than needed are accepted.
//
// DecodeHeader checks only what the header alone can violate: a 64-bit
// length with its most significant bit set is ErrLengthOverflow, returned
// with n == 0 and more == 0. The rules that depend on the connection
// (reserved bits, opcodes, masking, control frame limits, fragmentation)
// are the Parser's.
//
// DecodeHeader does not retain b and allocates nothing.
func DecodeHeader(b []byte) (h Header, n, more int, err error) {
	if len(b) < 2 {
		return Header{}, 0, 2 - len(b), nil
	}
	b0, b1 := b[0], b[1]
	size := headerSize(b0, b1)
	if len(b) < size {
		return Header{}, 0, size - len(b), nil
	}
	h.Fin = b0&bitFin != 0
	h.Rsv = (b0 >> 4) & 0x7
	h.Opcode = Opcode(b0 & 0xF)
	h.Masked = b1&bitMask != 0
	n = 2
	switch l := b1 & 0x7F; l {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		n = 4
	case 127:
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 {
			return Header{}, 0, 0, ErrLengthOverflow
		}
		h.Length = int64(u)
		n = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		copy(h.Key[:], b[n:n+4])
		n += 4
	}
	return h, n, 0, nil
}
