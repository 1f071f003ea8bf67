//go:build !purego

package frame

import (
	"bytes"
	"testing"

	"golang.org/x/sys/cpu"
)

// archKernels lists the assembly kernels this machine can run.
func archKernels() []maskKernel {
	ks := []maskKernel{{"sse2", maskSSE2}}
	if cpu.X86.HasAVX2 {
		ks = append(ks, maskKernel{"avx2", maskAVX2})
	}
	if cpu.X86.HasAVX512F {
		ks = append(ks, maskKernel{"avx512", maskAVX512})
	}
	return ks
}

// TestMaskDispatch runs Mask with each choice of kernel this machine
// supports, so that every branch of maskAsm is taken.
func TestMaskDispatch(t *testing.T) {
	defer func(avx512, avx2 bool) { useAVX512, useAVX2 = avx512, avx2 }(useAVX512, useAVX2)
	for _, c := range []struct {
		name         string
		avx512, avx2 bool
	}{
		{"sse2", false, false},
		{"avx2", false, true},
		{"avx512", true, true},
	} {
		if c.avx2 && !cpu.X86.HasAVX2 || c.avx512 && !cpu.X86.HasAVX512F {
			continue
		}
		useAVX512, useAVX2 = c.avx512, c.avx2
		for _, n := range []int{maskAsmMin - 1, maskAsmMin, 100, 1000, 5000} {
			for off := 0; off < 8; off++ {
				_, b := alignedBuffer(n, off)
				fill(b, uint64(n))
				want := bytes.Clone(b)
				wantPos := naiveMask(testKeys[0], 3, want)
				if got := Mask(testKeys[0], 3, b); got != wantPos || !bytes.Equal(b, want) {
					t.Errorf("%s: n=%d off=%d: wrong result (returned %d, want %d; first difference at %d)", c.name, n, off, got, wantPos, firstDiff(b, want))
				}
			}
		}
	}
}
