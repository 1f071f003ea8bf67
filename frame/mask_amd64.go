//go:build !purego

package frame

import "golang.org/x/sys/cpu"

// The assembly kernels of mask_amd64.s. Each XORs b with the rotated key k
// (k's low byte applies to b[0]), at any length and alignment.
//
//go:noescape
func maskSSE2(b []byte, k uint32)

//go:noescape
func maskAVX2(b []byte, k uint32)

//go:noescape
func maskAVX512(b []byte, k uint32)

var (
	// SSE2 is part of amd64; AVX2 and AVX-512 are checked once, at start-up,
	// along with the operating system's support for their registers.
	useAVX2 = cpu.X86.HasAVX2
	// AVX-512 is used only on CPUs with VBMI2 (Intel Ice Lake and later,
	// AMD Zen 4 and later), which run 512-bit integer instructions at full
	// clock. Skylake- and Cascade Lake-era Xeons may lower the core's clock
	// for them, costing the rest of the program more than masking gains;
	// they get AVX2.
	useAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VBMI2
)

// maskAsm XORs b with the rotated key k, with the kernel chosen by
// useAVX512 and useAVX2. It jumps to the kernel rather than calling it, so
// that Mask reaches the kernel through one call rather than two.
//
//go:noescape
func maskAsm(b []byte, k uint32)

const (
	useAsm = true

	// maskAsmMin is the length from which Mask calls the assembly. Below
	// it, the extra call of the ABI wrapper that Go puts in front of an
	// assembly function costs more than the vector instructions save: on
	// an AMD Zen 5 with AVX-512, maskGo took 2.3-3.7 ns for 1-40 bytes and
	// maskAsm 2.9-4.9 ns; from 64 bytes on, maskAsm is faster.
	maskAsmMin = 64
)
