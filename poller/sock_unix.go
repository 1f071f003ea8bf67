//go:build linux || darwin || freebsd

package poller

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrWouldBlock is returned by [Read], [Write], [Writev] and [Accept] when
// the operation would block (EAGAIN): the caller should wait for the next
// edge from the Poller. It is the bare errno value, so both
// err == ErrWouldBlock and errors.Is(err, syscall.EAGAIN) work.
var ErrWouldBlock error = unix.EAGAIN

// ErrNotSupported is returned on systems without epoll or kqueue. It is
// never returned on this system.
var ErrNotSupported = errors.New("poller: event loops need epoll or kqueue; not supported on " + goos)

// Read reads from a non-blocking descriptor into p, retrying on EINTR. It
// returns [ErrWouldBlock] when nothing is available, and io.EOF when the
// peer has closed its sending side and p is not empty. Other errors are the
// bare syscall.Errno values, so reading allocates nothing.
func Read(fd int, p []byte) (int, error) {
	for {
		n, err := read(fd, p)
		if err == nil {
			if n == 0 && len(p) > 0 {
				return 0, io.EOF
			}
			return n, nil
		}
		if err != unix.EINTR {
			return 0, err
		}
	}
}

// Write writes p to a non-blocking descriptor, retrying on EINTR. It
// returns the number of bytes the kernel accepted, which may be fewer than
// len(p); with [ErrWouldBlock] when none fitted. The caller keeps the rest
// and writes it on the next Writable edge. Errors are bare syscall.Errno
// values (EPIPE, ECONNRESET, ...).
func Write(fd int, p []byte) (int, error) {
	for {
		n, err := write(fd, p)
		if err == nil {
			return n, nil
		}
		if err != unix.EINTR {
			return 0, err
		}
	}
}

// MaxIovecs is the most buffers one [Writev] call passes to the kernel;
// buffers beyond it are left for the next call.
const MaxIovecs = 64

// Writev writes the buffers in order with one system call (writev),
// retrying on EINTR, and returns the total number of bytes written, which
// may end in the middle of a buffer. At most the first [MaxIovecs] buffers
// are passed per call (on Linux and FreeBSD, the first MaxIovecs non-empty
// ones). On Linux and FreeBSD it allocates nothing. Errors are as for
// [Write].
func Writev(fd int, bufs [][]byte) (int, error) {
	for {
		n, err := writev(fd, bufs)
		if err == nil {
			return n, nil
		}
		if err != unix.EINTR {
			return 0, err
		}
	}
}

// Close closes a descriptor. It is not retried on EINTR: the descriptor is
// gone either way.
func Close(fd int) error { return unix.Close(fd) }

// SetNoDelay turns Nagle's algorithm off (on == true) or on for a TCP
// socket.
func SetNoDelay(fd int, on bool) error {
	v := 0
	if on {
		v = 1
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, v); err != nil {
		return fmt.Errorf("poller: set TCP_NODELAY on fd %d: %w", fd, err)
	}
	return nil
}

// ShutdownWrite shuts down the sending side of a socket (sends FIN): the
// peer reads end of stream, and this side may still read.
func ShutdownWrite(fd int) error { return unix.Shutdown(fd, unix.SHUT_WR) }

// SocketError returns and clears the socket's pending error (SO_ERROR), or
// nil. After a non-blocking [Connect], call it on the first Writable event:
// nil means the connection is established.
func SocketError(fd int) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return fmt.Errorf("poller: read SO_ERROR of fd %d: %w", fd, err)
	}
	if v != 0 {
		return syscall.Errno(v)
	}
	return nil
}

// LocalAddr returns the address a socket is bound to (getsockname).
func LocalAddr(fd int) (netip.AddrPort, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("poller: getsockname fd %d: %w", fd, err)
	}
	return sockaddrToAddrPort(sa), nil
}

// RemoteAddr returns the address of a connected socket's peer
// (getpeername).
func RemoteAddr(fd int) (netip.AddrPort, error) {
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("poller: getpeername fd %d: %w", fd, err)
	}
	return sockaddrToAddrPort(sa), nil
}

func sockaddrToAddrPort(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		a := netip.AddrFrom16(sa.Addr)
		if sa.ZoneId != 0 {
			a = a.WithZone(zoneName(sa.ZoneId))
		}
		return netip.AddrPortFrom(a, uint16(sa.Port))
	}
	return netip.AddrPort{}
}

func zoneName(id uint32) string {
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		return ifi.Name
	}
	return strconv.FormatUint(uint64(id), 10)
}

func zoneID(zone string) (uint32, error) {
	if zone == "" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, err
	}
	return uint32(ifi.Index), nil
}

func addrPortToSockaddr(ap netip.AddrPort) (unix.Sockaddr, int, error) {
	a := ap.Addr()
	if a.Is4() || a.Is4In6() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.Unmap().As4()}, unix.AF_INET, nil
	}
	if !a.Is6() {
		return nil, 0, fmt.Errorf("poller: invalid address %v", ap)
	}
	zid, err := zoneID(a.Zone())
	if err != nil {
		return nil, 0, fmt.Errorf("poller: address %v: unknown zone: %w", ap, err)
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16(), ZoneId: zid}, unix.AF_INET6, nil
}

// defaultBacklog is passed to listen when the caller gives no backlog; the
// kernel caps it at its own limit (net.core.somaxconn on Linux,
// kern.ipc.soacceptqueue on FreeBSD, kern.ipc.somaxconn on macOS).
const defaultBacklog = 65535

// Listen opens a non-blocking, close-on-exec TCP listening socket on
// address ("host:port"; the host may be a name, empty, or a literal), with
// SO_REUSEADDR set, and SO_REUSEPORT too if reusePort is true (on FreeBSD,
// SO_REUSEPORT_LB, which spreads connections across the sockets). network
// is "tcp", "tcp4" or "tcp6"; with "tcp" and an empty or unspecified host
// the socket is dual-stack when the system supports IPv6. backlog <= 0
// means the system maximum. It returns the descriptor and the address it
// is bound to (useful with port 0). Register the descriptor Readable and
// call [Accept] until [ErrWouldBlock] on each edge.
func Listen(network, address string, reusePort bool, backlog int) (fd int, addr netip.AddrPort, err error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return -1, netip.AddrPort{}, fmt.Errorf("poller: listen %s %s: unsupported network (want tcp, tcp4 or tcp6)", network, address)
	}
	ta, err := net.ResolveTCPAddr(network, address)
	if err != nil {
		return -1, netip.AddrPort{}, fmt.Errorf("poller: listen %s %s: %w", network, address, err)
	}
	if backlog <= 0 {
		backlog = defaultBacklog
	}
	ap := ta.AddrPort()
	wild := ta.IP == nil || ap.Addr().IsUnspecified()
	var sa unix.Sockaddr
	family, v6only := unix.AF_INET, false
	switch {
	case wild && network == "tcp4":
		sa = &unix.SockaddrInet4{Port: ta.Port}
	case wild:
		sa = &unix.SockaddrInet6{Port: ta.Port}
		family, v6only = unix.AF_INET6, network == "tcp6"
	default:
		sa, family, err = addrPortToSockaddr(ap)
		if err != nil {
			return -1, netip.AddrPort{}, err
		}
		v6only = family == unix.AF_INET6 && network == "tcp6"
	}
	fd, err = listenOn(family, sa, v6only, reusePort, backlog)
	if err == unix.EAFNOSUPPORT && wild && network == "tcp" {
		// No IPv6 on this host: fall back to the IPv4 wildcard.
		fd, err = listenOn(unix.AF_INET, &unix.SockaddrInet4{Port: ta.Port}, false, reusePort, backlog)
	}
	if err != nil {
		return -1, netip.AddrPort{}, fmt.Errorf("poller: listen %s %s: %w", network, address, err)
	}
	if addr, err = LocalAddr(fd); err != nil {
		unix.Close(fd)
		return -1, netip.AddrPort{}, err
	}
	return fd, addr, nil
}

func listenOn(family int, sa unix.Sockaddr, v6only, reusePort bool, backlog int) (int, error) {
	fd, err := socket(family)
	if err != nil {
		return -1, err
	}
	if err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		goto fail
	}
	if reusePort {
		if err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, reusePortOption, 1); err != nil {
			goto fail
		}
	}
	if family == unix.AF_INET6 {
		v := 0
		if v6only {
			v = 1
		}
		if err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v); err != nil {
			goto fail
		}
	}
	if err = unix.Bind(fd, sa); err != nil {
		goto fail
	}
	if err = unix.Listen(fd, backlog); err != nil {
		goto fail
	}
	return fd, nil
fail:
	unix.Close(fd)
	return -1, err
}

// Accept takes one pending connection from the listening descriptor lfd
// and returns it non-blocking and close-on-exec, with the peer's address.
// It returns [ErrWouldBlock] when no connection is pending; connections
// aborted before they were accepted are skipped. EMFILE and ENFILE (out of
// descriptors) are returned as is: the pending connection stays queued and,
// the poller being edge-triggered, the caller must retry later on its own.
// On Linux and FreeBSD it allocates nothing.
func Accept(lfd int) (fd int, remote netip.AddrPort, err error) {
	for {
		fd, remote, err = accept(lfd)
		if err != unix.EINTR && err != unix.ECONNABORTED {
			return fd, remote, err
		}
	}
}

// Connect starts a non-blocking TCP connection to raddr from laddr (the
// zero AddrPort lets the system choose) and returns the descriptor at once.
// Register it Writable; when the edge comes, [SocketError] tells whether the
// connection succeeded. Errors other than "in progress" close the socket.
func Connect(raddr, laddr netip.AddrPort) (fd int, err error) {
	rsa, family, err := addrPortToSockaddr(raddr)
	if err != nil {
		return -1, err
	}
	if !raddr.IsValid() || raddr.Port() == 0 {
		return -1, fmt.Errorf("poller: connect %v: invalid address", raddr)
	}
	fd, err = socket(family)
	if err != nil {
		return -1, fmt.Errorf("poller: connect %v: %w", raddr, err)
	}
	if laddr.IsValid() {
		lsa, lfam, err := addrPortToSockaddr(laddr)
		if err == nil && lfam != family {
			err = fmt.Errorf("local address %v and remote address %v are of different families", laddr, raddr)
		}
		if err == nil {
			err = unix.Bind(fd, lsa)
		}
		if err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("poller: connect %v: bind: %w", raddr, err)
		}
	}
	switch err = unix.Connect(fd, rsa); err {
	case nil, unix.EINPROGRESS, unix.EINTR:
		// EINTR: the connection goes on asynchronously, like EINPROGRESS.
		return fd, nil
	}
	unix.Close(fd)
	return -1, fmt.Errorf("poller: connect %v: %w", raddr, err)
}

// TakeOver adopts the descriptor of conn, typically a connection hijacked
// from net/http, for use with a Poller. It duplicates the descriptor
// (F_DUPFD_CLOEXEC), makes the duplicate non-blocking, and closes conn, so
// that the process keeps exactly one descriptor for the connection and the
// Go runtime's poller no longer watches it. The socket stays open.
//
// conn must implement syscall.Conn (as *net.TCPConn and *net.UnixConn do;
// *tls.Conn does not). The caller must not use conn afterwards, and must
// first take any bytes already buffered in front of it (such as the
// bufio.Reader returned by http.Hijacker.Hijack).
func TakeOver(conn net.Conn) (fd int, err error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("poller: take over %T: connection does not expose its descriptor (syscall.Conn)", conn)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("poller: take over %T: %w", conn, err)
	}
	fd = -1
	var dupErr error
	err = rc.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	})
	if err == nil {
		err = dupErr
	}
	if err != nil {
		return -1, fmt.Errorf("poller: take over %T: duplicate descriptor: %w", conn, err)
	}
	if err = unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("poller: take over %T: set non-blocking: %w", conn, err)
	}
	if err = conn.Close(); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("poller: take over %T: close original: %w", conn, err)
	}
	return fd, nil
}
