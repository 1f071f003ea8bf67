//go:build !purego

package frame

// maskAsm XORs b with the rotated key k (k's low byte applies to b[0]) with
// NEON; see mask_arm64.s.
//
//go:noescape
func maskAsm(b []byte, k uint32)

const (
	useAsm = true

	// maskAsmMin is the length from which Mask calls the assembly; below
	// it, the call of the ABI wrapper in front of an assembly function
	// costs more than NEON saves. 64 is the figure measured on amd64: this
	// kernel has been run under emulation only, not timed on arm64 cores.
	maskAsmMin = 64
)
