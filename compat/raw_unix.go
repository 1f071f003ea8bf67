//go:build unix

package websocket

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// rawConnFor returns the syscall.RawConn through which a goroutine can
// wait for nc to become readable without a buffer: plain TCP and Unix
// connections have one.
func rawConnFor(nc net.Conn) syscall.RawConn {
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
		if rc, err := nc.(syscall.Conn).SyscallConn(); err == nil {
			return rc
		}
	}
	return nil
}

// rawRead is the callback given to syscall.RawConn.Read: it reads what the
// socket has into a pooled buffer and reports false (wait for readability)
// when it has nothing, so that a goroutine waiting for a message holds no
// buffer.
//
// The first call of a wait peeks at the socket with no buffer: a goroutine
// that finds nothing to read parks having taken no buffer from the pool,
// which keeps both its memory and its stack small while idle.
func (c *Conn) rawRead(fd uintptr) bool {
	var b *[]byte
	if c.rs.peek {
		c.rs.peek = false
		// A pooled buffer at hand: read at once, as a busy connection
		// (whose next bytes are usually there) wants. Otherwise peek.
		if b = tryGetBuf(int(c.rs.readBufSize)); b == nil {
			for {
				_, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&c.rs.peekByte)), 1,
					syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
				if e == syscall.EINTR {
					continue
				}
				if e == syscall.EAGAIN {
					return false
				}
				break // data, EOF or an error: the read below reports it
			}
		}
	}
	if b == nil {
		b = getBuf(int(c.rs.readBufSize))
	}
	for {
		n, err := syscall.Read(int(fd), *b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			putBuf(b)
			return false
		case err != nil:
			c.setReadErr(&net.OpError{Op: "read", Net: c.conn.LocalAddr().Network(),
				Source: c.conn.LocalAddr(), Addr: c.conn.RemoteAddr(), Err: os.NewSyscallError("read", err)})
		case n == 0:
			c.setReadErr(io.EOF)
		default:
			c.rs.rbuf = b
			c.rs.rend = int32(n)
			return true
		}
		putBuf(b)
		return true
	}
}
