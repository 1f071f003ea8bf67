//go:build linux

package poller

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Poller reports readiness of file descriptors. It uses edge-triggered
// epoll on Linux and kqueue on macOS and FreeBSD. See the package
// documentation for the contract.
type Poller struct {
	epfd   int
	wakefd int // eventfd

	// wakePending is true from the Wake that writes the eventfd until the
	// loop has read it back; Wakes in between do nothing.
	wakePending atomic.Bool
	closing     atomic.Bool

	// mu keeps the descriptors alive: every system call on epfd or wakefd
	// runs under the read lock, and Close takes the write lock before it
	// closes them, so no call can reach a recycled descriptor number.
	mu     sync.RWMutex
	closed bool

	// Owned by the goroutine in Wait.
	raw    []unix.EpollEvent
	events []Event
	buf    [8]byte
}

// New returns a Poller whose Wait reports at most [DefaultBatch] events per
// call. Events beyond that wait for the next call; edge-triggered
// notifications are not lost when a batch is full.
func New() (*Poller, error) { return NewSize(DefaultBatch) }

// NewSize is like [New] with room for batch events per Wait; batch below 1
// means 1.
func NewSize(batch int) (*Poller, error) {
	if batch < 1 {
		batch = 1
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("poller: epoll_create1: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("poller: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(wakefd)
		unix.Close(epfd)
		return nil, fmt.Errorf("poller: register eventfd: %w", err)
	}
	return &Poller{
		epfd:   epfd,
		wakefd: wakefd,
		raw:    make([]unix.EpollEvent, batch),
		events: make([]Event, 0, batch),
	}, nil
}

func epollEvents(ev Events) uint32 {
	e := uint32(unix.EPOLLET | unix.EPOLLRDHUP)
	if ev&Readable != 0 {
		e |= unix.EPOLLIN
	}
	if ev&Writable != 0 {
		e |= unix.EPOLLOUT
	}
	return e
}

// Add starts watching fd for the conditions in ev (Readable, Writable or
// both), edge-triggered. HangUp and Error are always reported. fd should be
// non-blocking. Adding a descriptor twice is an error (EEXIST).
func (p *Poller) Add(fd int, ev Events) error {
	return p.ctl(unix.EPOLL_CTL_ADD, fd, ev, "add")
}

// Modify replaces the interest set of a descriptor already added. Arming a
// condition that already holds reports it at the next Wait.
func (p *Poller) Modify(fd int, ev Events) error {
	return p.ctl(unix.EPOLL_CTL_MOD, fd, ev, "modify")
}

// Remove stops watching fd. Closing a descriptor also stops its
// notifications (unless it was duplicated), so Remove before [Close] is
// optional; Remove of a descriptor not added returns an error (ENOENT).
func (p *Poller) Remove(fd int) error {
	return p.ctl(unix.EPOLL_CTL_DEL, fd, 0, "remove")
}

func (p *Poller) ctl(op, fd int, ev Events, what string) error {
	e := unix.EpollEvent{Events: epollEvents(ev), Fd: int32(fd)}
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return ErrClosed
	}
	if fd == p.wakefd || fd == p.epfd {
		p.mu.RUnlock()
		return fmt.Errorf("poller: %s fd %d: descriptor belongs to the poller", what, fd)
	}
	err := unix.EpollCtl(p.epfd, op, fd, &e)
	p.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("poller: %s fd %d: %w", what, fd, err)
	}
	return nil
}

// Wait blocks until at least one watched descriptor is ready, Wake is
// called, or timeout passes; a negative timeout waits forever, zero
// polls. Timeouts are rounded up to whole milliseconds.
//
// It returns the ready descriptors and whether a Wake arrived. The slice is
// owned by the Poller and valid until the next Wait. An interrupted wait
// (EINTR) returns no events and no error. Wait allocates nothing. Only one
// goroutine may be in Wait at a time. After Close, Wait returns ErrClosed.
func (p *Poller) Wait(timeout time.Duration) (events []Event, woken bool, err error) {
	msec := -1
	if timeout >= 0 {
		msec = int(ceilMillis(timeout))
	}
	p.mu.RLock()
	// closing, not just closed: Close's wake-up may have been consumed
	// by an earlier Wait, and this one must not block Close for ever.
	if p.closed || p.closing.Load() {
		p.mu.RUnlock()
		return nil, false, ErrClosed
	}
	n, err := unix.EpollWait(p.epfd, p.raw, msec)
	if err != nil {
		p.mu.RUnlock()
		if err == unix.EINTR {
			return p.events[:0], false, nil
		}
		return nil, false, fmt.Errorf("poller: epoll_wait: %w", err)
	}
	out := p.events[:0]
	for i := range p.raw[:n] {
		e := &p.raw[i]
		fd := int(e.Fd)
		if fd == p.wakefd {
			woken = true
			continue
		}
		out = append(out, Event{FD: fd, Events: fromEpoll(e.Events)})
	}
	if woken {
		// Read the counter back before clearing the flag: a Wake that sees
		// the flag clear writes again and so wakes the next Wait.
		unix.Read(p.wakefd, p.buf[:])
		p.wakePending.Store(false)
	}
	p.mu.RUnlock()
	p.events = out
	return out, woken, nil
}

func fromEpoll(e uint32) Events {
	var ev Events
	if e&(unix.EPOLLIN|unix.EPOLLPRI) != 0 {
		ev |= Readable
	}
	if e&unix.EPOLLOUT != 0 {
		ev |= Writable
	}
	if e&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
		ev |= HangUp | Readable
	}
	if e&unix.EPOLLHUP != 0 {
		ev |= Writable
	}
	if e&unix.EPOLLERR != 0 {
		ev |= Error | Readable | Writable
	}
	return ev
}

var wakeValue = func() (b [8]byte) {
	binary.NativeEndian.PutUint64(b[:], 1)
	return b
}()

// Wake makes the current or next Wait return with woken set. It is safe
// from any goroutine. Calls made before the loop has woken coalesce: only
// the first writes to the kernel, the rest cost one atomic operation.
// After Close it returns ErrClosed.
func (p *Poller) Wake() error {
	if !p.wakePending.CompareAndSwap(false, true) {
		return nil
	}
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return ErrClosed
	}
	err := p.signal()
	p.mu.RUnlock()
	return err
}

func (p *Poller) signal() error {
	for {
		_, err := unix.Write(p.wakefd, wakeValue[:])
		switch err {
		case nil, unix.EAGAIN: // EAGAIN: counter full, a wake is pending anyway
			return nil
		case unix.EINTR:
			continue
		}
		return fmt.Errorf("poller: wake: %w", err)
	}
}

// Close wakes a blocked Wait, waits for it to return, and releases the
// poller's descriptors. It does not close the watched descriptors. Later
// calls to any method return ErrClosed. Close is safe from any goroutine.
func (p *Poller) Close() error {
	if !p.closing.CompareAndSwap(false, true) {
		return ErrClosed
	}
	p.signal() // unblock Wait so that it releases the read lock
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	err1 := unix.Close(p.wakefd)
	err2 := unix.Close(p.epfd)
	if err1 != nil {
		return fmt.Errorf("poller: close eventfd: %w", err1)
	}
	if err2 != nil {
		return fmt.Errorf("poller: close epoll: %w", err2)
	}
	return nil
}
