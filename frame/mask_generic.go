//go:build purego || !(amd64 || arm64)

package frame

// Without assembly, Mask always uses maskGo.
const (
	useAsm     = false
	maskAsmMin = 0
)

func maskAsm(b []byte, k uint32) { maskGo(b, k) }
