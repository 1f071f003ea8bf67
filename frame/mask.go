package frame

// Mask XORs b in place with the masking key, starting at key offset pos
// (0-3), and returns the key offset for the byte after b. Masking and
// unmasking are the same operation (RFC 6455 §5.3), and a payload may be
// processed in pieces of any size by passing each call's result to the next:
//
//	pos := 0
//	for _, piece := range pieces {
//		pos = frame.Mask(key, pos, piece)
//	}
func Mask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}
