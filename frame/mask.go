package frame

import (
	"encoding/binary"
	"math/bits"
)

// Mask XORs b in place with the masking key, starting at key offset pos, and
// returns the key offset for the byte that follows b. Only the low two bits
// of pos are used, so pos is in effect 0-3, and so is the result.
//
// Masking and unmasking are the same operation (RFC 6455 §5.3). A payload
// may be processed in pieces of any size, as it arrives, by passing each
// call's result to the next call; the outcome is the same as one call on
// the whole payload:
//
//	pos := 0
//	for _, piece := range pieces {
//		pos = frame.Mask(key, pos, piece)
//	}
//
// Mask writes only the bytes of b, does not retain b, allocates nothing and
// is safe for concurrent use on distinct slices. On amd64 and arm64 it uses
// SIMD instructions for longer slices unless built with the purego tag.
func Mask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	// The key as a little-endian word, rotated so that its low byte is the
	// one that applies to b[0].
	k := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*pos)
	if useAsm && len(b) >= maskAsmMin {
		maskAsm(b, k)
	} else {
		maskGo(b, k)
	}
	return (pos + len(b)) & 3
}

// maskGo XORs b with the rotated key k (k's low byte applies to b[0]) a
// 64-bit word at a time, sixteen words per iteration. It is the portable
// kernel behind Mask, and the fallback of the assembly kernels for short
// slices.
//
// The loops use encoding/binary loads and stores, which the compiler turns
// into single unaligned moves (on amd64, one XOR to memory per word); the
// bounds check of each iteration is hoisted by the _ = b[127]. An unsafe
// pointer walk measured within noise of this, and aligning to 8 bytes first
// measured slower, so neither is used.
func maskGo(b []byte, k uint32) {
	w := uint64(k) | uint64(k)<<32
	for len(b) >= 128 {
		_ = b[127]
		binary.LittleEndian.PutUint64(b[0:], binary.LittleEndian.Uint64(b[0:])^w)
		binary.LittleEndian.PutUint64(b[8:], binary.LittleEndian.Uint64(b[8:])^w)
		binary.LittleEndian.PutUint64(b[16:], binary.LittleEndian.Uint64(b[16:])^w)
		binary.LittleEndian.PutUint64(b[24:], binary.LittleEndian.Uint64(b[24:])^w)
		binary.LittleEndian.PutUint64(b[32:], binary.LittleEndian.Uint64(b[32:])^w)
		binary.LittleEndian.PutUint64(b[40:], binary.LittleEndian.Uint64(b[40:])^w)
		binary.LittleEndian.PutUint64(b[48:], binary.LittleEndian.Uint64(b[48:])^w)
		binary.LittleEndian.PutUint64(b[56:], binary.LittleEndian.Uint64(b[56:])^w)
		binary.LittleEndian.PutUint64(b[64:], binary.LittleEndian.Uint64(b[64:])^w)
		binary.LittleEndian.PutUint64(b[72:], binary.LittleEndian.Uint64(b[72:])^w)
		binary.LittleEndian.PutUint64(b[80:], binary.LittleEndian.Uint64(b[80:])^w)
		binary.LittleEndian.PutUint64(b[88:], binary.LittleEndian.Uint64(b[88:])^w)
		binary.LittleEndian.PutUint64(b[96:], binary.LittleEndian.Uint64(b[96:])^w)
		binary.LittleEndian.PutUint64(b[104:], binary.LittleEndian.Uint64(b[104:])^w)
		binary.LittleEndian.PutUint64(b[112:], binary.LittleEndian.Uint64(b[112:])^w)
		binary.LittleEndian.PutUint64(b[120:], binary.LittleEndian.Uint64(b[120:])^w)
		b = b[128:]
	}
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^w)
		b = b[8:]
	}
	// Whole words leave the key phase unchanged: k still applies to b[0].
	if len(b) >= 4 {
		binary.LittleEndian.PutUint32(b, binary.LittleEndian.Uint32(b)^k)
		b = b[4:]
	}
	for i := range b {
		b[i] ^= byte(k)
		k >>= 8
	}
}
