//go:build !purego

package frame

// archKernels lists the assembly kernels of this build: the NEON one.
func archKernels() []maskKernel { return []maskKernel{{"neon", maskAsm}} }
