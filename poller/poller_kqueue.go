//go:build darwin || freebsd

package poller

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Poller reports readiness of file descriptors. It uses edge-triggered
// epoll on Linux and kqueue on macOS and FreeBSD. See the package
// documentation for the contract.
type Poller struct {
	kq int

	// wakePending is true from the Wake that triggers the EVFILT_USER event
	// until the loop has received it; Wakes in between do nothing.
	wakePending atomic.Bool
	closing     atomic.Bool

	// mu keeps kq alive: every system call on it runs under the read lock,
	// and Close takes the write lock before closing it.
	mu     sync.RWMutex
	closed bool

	// Owned by the goroutine in Wait.
	raw    []unix.Kevent_t
	events []Event
	ts     unix.Timespec
}

// wakeIdent identifies the EVFILT_USER event used by Wake. User events have
// their own identifier space, so it cannot collide with a descriptor.
const wakeIdent = 0

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
	syscall.ForkLock.RLock()
	kq, err := unix.Kqueue()
	if err == nil {
		unix.CloseOnExec(kq)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("poller: kqueue: %w", err)
	}
	change := [1]unix.Kevent_t{{
		Ident:  wakeIdent,
		Filter: unix.EVFILT_USER,
		Flags:  unix.EV_ADD | unix.EV_CLEAR,
	}}
	if _, err := unix.Kevent(kq, change[:], nil, nil); err != nil {
		unix.Close(kq)
		return nil, fmt.Errorf("poller: register user event: %w", err)
	}
	return &Poller{
		kq:     kq,
		raw:    make([]unix.Kevent_t, batch),
		events: make([]Event, 0, batch),
	}, nil
}

// Add starts watching fd for the conditions in ev (Readable, Writable or
// both), edge-triggered (EV_CLEAR). HangUp and Error are reported with the
// armed conditions. fd should be non-blocking.
//
// Both filters are registered, the unwanted one disabled, so that Modify
// only enables and disables.
func (p *Poller) Add(fd int, ev Events) error { return p.ctl(fd, ev, "add") }

// Modify replaces the interest set of a descriptor already added. Arming a
// condition that already holds reports it at the next Wait.
func (p *Poller) Modify(fd int, ev Events) error { return p.ctl(fd, ev, "modify") }

func (p *Poller) ctl(fd int, ev Events, what string) error {
	if fd < 0 {
		return fmt.Errorf("poller: %s fd %d: %w", what, fd, unix.EBADF)
	}
	rd, wr := uint16(unix.EV_DISABLE), uint16(unix.EV_DISABLE)
	if ev&Readable != 0 {
		rd = unix.EV_ENABLE
	}
	if ev&Writable != 0 {
		wr = unix.EV_ENABLE
	}
	changes := [2]unix.Kevent_t{
		{Ident: uint64(fd), Filter: unix.EVFILT_READ, Flags: unix.EV_ADD | unix.EV_CLEAR | rd},
		{Ident: uint64(fd), Filter: unix.EVFILT_WRITE, Flags: unix.EV_ADD | unix.EV_CLEAR | wr},
	}
	return p.apply(changes[:], fd, what)
}

// Remove stops watching fd. Closing a descriptor also stops its
// notifications, so Remove before [Close] is optional.
func (p *Poller) Remove(fd int) error {
	if fd < 0 {
		return fmt.Errorf("poller: remove fd %d: %w", fd, unix.EBADF)
	}
	changes := [2]unix.Kevent_t{
		{Ident: uint64(fd), Filter: unix.EVFILT_READ, Flags: unix.EV_DELETE},
		{Ident: uint64(fd), Filter: unix.EVFILT_WRITE, Flags: unix.EV_DELETE},
	}
	return p.apply(changes[:], fd, "remove")
}

func (p *Poller) apply(changes []unix.Kevent_t, fd int, what string) error {
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return ErrClosed
	}
	if fd == p.kq {
		p.mu.RUnlock()
		return fmt.Errorf("poller: %s fd %d: descriptor belongs to the poller", what, fd)
	}
	var err error
	for {
		_, err = unix.Kevent(p.kq, changes, nil, nil)
		if err != unix.EINTR {
			break
		}
	}
	p.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("poller: %s fd %d: %w", what, fd, err)
	}
	return nil
}

// Wait blocks until at least one watched descriptor is ready, Wake is
// called, or timeout passes; a negative timeout waits forever, zero
// polls.
//
// It returns the ready descriptors and whether a Wake arrived. The slice is
// owned by the Poller and valid until the next Wait. kqueue reports reading
// and writing separately; adjacent reports for one descriptor are merged,
// but a descriptor may still appear twice in one batch. An interrupted wait
// (EINTR) returns no events and no error. Only one goroutine may be in Wait
// at a time. After Close, Wait returns ErrClosed.
func (p *Poller) Wait(timeout time.Duration) (events []Event, woken bool, err error) {
	var ts *unix.Timespec
	if timeout >= 0 {
		ms := ceilMillis(timeout)
		p.ts = unix.NsecToTimespec(ms * int64(time.Millisecond))
		ts = &p.ts
	}
	p.mu.RLock()
	// closing, not just closed: Close's wake-up may have been consumed
	// by an earlier Wait, and this one must not block Close for ever.
	if p.closed || p.closing.Load() {
		p.mu.RUnlock()
		return nil, false, ErrClosed
	}
	n, err := unix.Kevent(p.kq, nil, p.raw, ts)
	if err != nil {
		p.mu.RUnlock()
		if err == unix.EINTR {
			return p.events[:0], false, nil
		}
		return nil, false, fmt.Errorf("poller: kevent: %w", err)
	}
	out := p.events[:0]
	for i := range p.raw[:n] {
		e := &p.raw[i]
		if e.Filter == unix.EVFILT_USER {
			woken = true
			continue
		}
		fd := int(e.Ident)
		var ev Events
		switch e.Filter {
		case unix.EVFILT_READ:
			ev = Readable
			if e.Flags&unix.EV_EOF != 0 {
				ev |= HangUp
			}
		case unix.EVFILT_WRITE:
			ev = Writable
		}
		if e.Flags&unix.EV_ERROR != 0 || e.Flags&unix.EV_EOF != 0 && e.Fflags != 0 {
			ev |= Error | Readable | Writable
		}
		if k := len(out) - 1; k >= 0 && out[k].FD == fd {
			out[k].Events |= ev
			continue
		}
		out = append(out, Event{FD: fd, Events: ev})
	}
	if woken {
		// EV_CLEAR reset the user event when it was received; clear the
		// flag only now, so that a Wake seeing it clear triggers again.
		p.wakePending.Store(false)
	}
	p.mu.RUnlock()
	p.events = out
	return out, woken, nil
}

// Wake makes the current or next Wait return with woken set. It is safe
// from any goroutine. Calls made before the loop has woken coalesce: only
// the first reaches the kernel, the rest cost one atomic operation.
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
	change := [1]unix.Kevent_t{{
		Ident:  wakeIdent,
		Filter: unix.EVFILT_USER,
		Fflags: unix.NOTE_TRIGGER,
	}}
	for {
		_, err := unix.Kevent(p.kq, change[:], nil, nil)
		if err == nil {
			return nil
		}
		if err != unix.EINTR {
			return fmt.Errorf("poller: wake: %w", err)
		}
	}
}

// Close wakes a blocked Wait, waits for it to return, and releases the
// kqueue. It does not close the watched descriptors. Later calls to any
// method return ErrClosed. Close is safe from any goroutine.
func (p *Poller) Close() error {
	if !p.closing.CompareAndSwap(false, true) {
		return ErrClosed
	}
	p.signal() // unblock Wait so that it releases the read lock
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if err := unix.Close(p.kq); err != nil {
		return fmt.Errorf("poller: close kqueue: %w", err)
	}
	return nil
}
