//go:build !linux && !darwin && !freebsd

package poller

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"time"
)

// ErrNotSupported is returned by [New] and by every socket helper on
// systems without epoll or kqueue, such as this one.
var ErrNotSupported = errors.New("poller: event loops need epoll or kqueue; not supported on " + runtime.GOOS)

// ErrWouldBlock is returned by [Read], [Write], [Writev] and [Accept] when
// the operation would block. It is never returned on this system.
var ErrWouldBlock = errors.New("poller: operation would block")

// MaxIovecs is the most buffers one [Writev] call passes to the kernel.
const MaxIovecs = 64

// Poller reports readiness of file descriptors. On this system it cannot be
// created: [New] returns [ErrNotSupported].
type Poller struct{}

// New returns [ErrNotSupported] on this system.
func New() (*Poller, error) { return nil, ErrNotSupported }

// NewSize returns [ErrNotSupported] on this system.
func NewSize(batch int) (*Poller, error) { return nil, ErrNotSupported }

// Add returns [ErrNotSupported] on this system.
func (p *Poller) Add(fd int, ev Events) error { return ErrNotSupported }

// Modify returns [ErrNotSupported] on this system.
func (p *Poller) Modify(fd int, ev Events) error { return ErrNotSupported }

// Remove returns [ErrNotSupported] on this system.
func (p *Poller) Remove(fd int) error { return ErrNotSupported }

// Wait returns [ErrNotSupported] on this system.
func (p *Poller) Wait(timeout time.Duration) (events []Event, woken bool, err error) {
	return nil, false, ErrNotSupported
}

// Wake returns [ErrNotSupported] on this system.
func (p *Poller) Wake() error { return ErrNotSupported }

// Close returns [ErrNotSupported] on this system.
func (p *Poller) Close() error { return ErrNotSupported }

// Read returns [ErrNotSupported] on this system.
func Read(fd int, p []byte) (int, error) { return 0, ErrNotSupported }

// Write returns [ErrNotSupported] on this system.
func Write(fd int, p []byte) (int, error) { return 0, ErrNotSupported }

// Writev returns [ErrNotSupported] on this system.
func Writev(fd int, bufs [][]byte) (int, error) { return 0, ErrNotSupported }

// Close returns [ErrNotSupported] on this system.
func Close(fd int) error { return ErrNotSupported }

// SetNoDelay returns [ErrNotSupported] on this system.
func SetNoDelay(fd int, on bool) error { return ErrNotSupported }

// ShutdownWrite returns [ErrNotSupported] on this system.
func ShutdownWrite(fd int) error { return ErrNotSupported }

// SocketError returns [ErrNotSupported] on this system.
func SocketError(fd int) error { return ErrNotSupported }

// LocalAddr returns [ErrNotSupported] on this system.
func LocalAddr(fd int) (netip.AddrPort, error) { return netip.AddrPort{}, ErrNotSupported }

// RemoteAddr returns [ErrNotSupported] on this system.
func RemoteAddr(fd int) (netip.AddrPort, error) { return netip.AddrPort{}, ErrNotSupported }

// Listen returns [ErrNotSupported] on this system.
func Listen(network, address string, reusePort bool, backlog int) (fd int, addr netip.AddrPort, err error) {
	return -1, netip.AddrPort{}, ErrNotSupported
}

// Accept returns [ErrNotSupported] on this system.
func Accept(lfd int) (fd int, remote netip.AddrPort, err error) {
	return -1, netip.AddrPort{}, ErrNotSupported
}

// Connect returns [ErrNotSupported] on this system.
func Connect(raddr, laddr netip.AddrPort) (fd int, err error) { return -1, ErrNotSupported }

// TakeOver returns [ErrNotSupported] on this system and leaves conn open.
func TakeOver(conn net.Conn) (fd int, err error) { return -1, ErrNotSupported }
