//go:build freebsd

package poller

import "golang.org/x/sys/unix"

const (
	goos          = "freebsd"
	soReusePortLB = unix.SO_REUSEPORT_LB
)
