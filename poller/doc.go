// Package poller is a small, allocation-free readiness notifier and a set of
// raw non-blocking socket helpers: the layer an event loop stands on when it
// must hold tens of thousands of idle connections without a goroutine or a
// buffer per connection.
//
// A [Poller] wraps epoll on Linux and kqueue on macOS and FreeBSD. It
// watches file descriptors for readability and writability and reports
// them in batches through [Poller.Wait]. It knows nothing of WebSocket or
// of any protocol.
//
// # Edge-triggered contract
//
// Every registration is edge-triggered: a descriptor is reported once when
// it becomes readable (or writable), and not again until a new edge occurs —
// new data arrives, or room opens in the send buffer after the caller filled
// it. The caller must therefore drain: on Readable, call [Read] until it
// returns [ErrWouldBlock] (or an error, or [io.EOF]); on Writable, write
// until everything queued is written or [Write] returns [ErrWouldBlock]. A
// caller that stops early will not be told again and the connection stalls.
//
// Registering Readable|Writable once per descriptor and never calling
// [Poller.Modify] is the intended design: the loop remembers for itself
// whether the last write hit ErrWouldBlock and so awaits a Writable edge.
//
// Events carry HangUp when the peer has shut down its side and Error when
// the socket has a pending error. Both are folded into Readable (and Error
// also into Writable), so a loop that simply reads until ErrWouldBlock or
// io.EOF, and writes until ErrWouldBlock, handles them without looking.
//
// # Concurrency
//
// [Poller.Wait] must be called from one goroutine at a time (the loop).
// [Poller.Add], [Poller.Modify], [Poller.Remove], [Poller.Wake] and
// [Poller.Close] are safe to call from any goroutine, also while Wait is
// blocked. Wake is the way for other goroutines to hand work to a loop: put
// the work on a queue the loop owns, then call Wake; Wait returns with
// woken set and the loop drains the queue. Repeated Wake calls before the
// loop wakes coalesce into one and cost one atomic operation each.
//
// The socket helpers are plain system calls and safe from any goroutine;
// as with any descriptor, the caller must not close a descriptor while
// another goroutine may still use it.
//
// # System calls
//
// On Linux and FreeBSD, [Read], [Write] and [Writev] enter the kernel
// without telling the Go scheduler (as syscall.RawSyscall does). On a
// non-blocking socket they return at once, and a scheduled system call
// costs more than it saves: a loop that spends most of its time in short
// reads and writes looks to the runtime like a thread stuck in the kernel,
// so the runtime keeps handing its P to another thread and back. The
// descriptors passed to them must therefore be non-blocking, as every
// descriptor this package creates is: on a blocking descriptor the call
// would hold its P, and other goroutines could not run on it, for as long
// as the kernel waits. [Poller.Wait], which may sleep, goes through the
// scheduler.
//
// # Ownership
//
// The slice returned by Wait belongs to the Poller and is valid until the
// next call to Wait. Functions that take a []byte never retain it.
//
// # Platforms
//
// The package builds everywhere. On systems without epoll or kqueue (such
// as Windows) [New] and every socket helper return [ErrNotSupported]:
// event loops need epoll or kqueue, and callers there should fall back to
// a goroutine per connection.
package poller
