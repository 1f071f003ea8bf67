//go:build darwin

package poller

import (
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

const goos = "darwin"

const reusePortOption = unix.SO_REUSEPORT

// socket creates a non-blocking, close-on-exec stream socket. macOS has no
// SOCK_NONBLOCK or SOCK_CLOEXEC, so the flags are set afterwards, under
// ForkLock so that no child started meanwhile inherits the descriptor.
func socket(family int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, unix.SOCK_STREAM, unix.IPPROTO_TCP)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := setupSocket(fd); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// setupSocket makes fd non-blocking and, since macOS would otherwise raise
// SIGPIPE on a write to a closed connection, sets SO_NOSIGPIPE.
func setupSocket(fd int) error {
	if err := unix.SetNonblock(fd, true); err != nil {
		return err
	}
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, 1)
}

func accept(lfd int) (int, netip.AddrPort, error) {
	syscall.ForkLock.RLock()
	fd, sa, err := unix.Accept(lfd)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	if err := setupSocket(fd); err != nil {
		unix.Close(fd)
		return -1, netip.AddrPort{}, err
	}
	return fd, sockaddrToAddrPort(sa), nil
}

func writev(fd int, bufs [][]byte) (int, error) {
	if len(bufs) > MaxIovecs {
		bufs = bufs[:MaxIovecs]
	}
	return unix.Writev(fd, bufs)
}

func read(fd int, p []byte) (int, error)  { return unix.Read(fd, p) }
func write(fd int, p []byte) (int, error) { return unix.Write(fd, p) }
