//go:build linux

package poller

const (
	goos          = "linux"
	soReusePortLB = 0 // unused
)
