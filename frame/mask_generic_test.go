//go:build purego || !(amd64 || arm64)

package frame

// archKernels lists the assembly kernels this build can run: none.
func archKernels() []maskKernel { return nil }
