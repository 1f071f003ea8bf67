//go:build !unix

package websocket

import (
	"net"
	"syscall"
)

// rawConnFor returns nil: on this system every connection is read with
// blocking Read calls (the portable path).
func rawConnFor(nc net.Conn) syscall.RawConn { return nil }

// rawRead is never called without a raw connection.
func (c *Conn) rawRead(fd uintptr) bool { return true }
