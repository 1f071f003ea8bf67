package frame

// mask XORs b with the rotated key k; see maskGo. Without assembly, that is
// all there is.
func mask(k uint32, b []byte) { maskGo(k, b) }
