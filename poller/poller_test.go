//go:build linux || darwin || freebsd

package poller

import (
	"errors"
	"io"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// socketpair returns a connected pair of non-blocking stream sockets that
// the test closes at cleanup.
func socketpair(t testing.TB) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		unix.SetNonblock(fd, true)
		unix.CloseOnExec(fd)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

func newPoller(t testing.TB) *Poller {
	t.Helper()
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// waitFor waits up to a second for events and returns what was reported
// for fd (merged over one Wait) and whether any Wait was woken.
func waitFor(t testing.TB, p *Poller, fd int, timeout time.Duration) (got Events, woken bool) {
	t.Helper()
	evs, woken, err := p.Wait(timeout)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.FD == fd {
			got |= e.Events
		}
	}
	return got, woken
}

func TestSocketpairEdges(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, Readable|Writable); err != nil {
		t.Fatal(err)
	}
	// A fresh socket is writable, not readable: one Writable edge.
	got, _ := waitFor(t, p, a, time.Second)
	if got != Writable {
		t.Fatalf("first edge = %v, want Writable", got)
	}
	// Edge-triggered: nothing new happened, so nothing is reported.
	if got, _ := waitFor(t, p, a, 20*time.Millisecond); got != 0 {
		t.Fatalf("no new edge, got %v", got)
	}
	if _, err := Write(b, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	got, _ = waitFor(t, p, a, time.Second)
	if got&Readable == 0 || got&(HangUp|Error) != 0 {
		t.Fatalf("after peer write: %v, want Readable", got)
	}
	// Not drained: still no second notification for the same data.
	if got, _ := waitFor(t, p, a, 20*time.Millisecond); got != 0 {
		t.Fatalf("undrained, no new data, got %v", got)
	}
	buf := make([]byte, 2)
	if n, err := Read(a, buf); n != 2 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	// New data is a new edge even though the old was not drained.
	Write(b, []byte("!"))
	if got, _ := waitFor(t, p, a, time.Second); got&Readable == 0 {
		t.Fatalf("after more data: %v, want Readable", got)
	}
	var all []byte
	for {
		n, err := Read(a, buf)
		all = append(all, buf[:n]...)
		if err == ErrWouldBlock {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if string(all) != "llo!" {
		t.Fatalf("drained %q, want %q", all, "llo!")
	}
	if got, _ := waitFor(t, p, a, 20*time.Millisecond); got != 0 {
		t.Fatalf("drained, got %v", got)
	}
	Write(b, []byte("x"))
	if got, _ := waitFor(t, p, a, time.Second); got&Readable == 0 {
		t.Fatalf("data after drain: %v, want Readable", got)
	}
}

func TestWritableEdgeAfterFull(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, Readable|Writable); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, a, time.Second) // initial Writable
	chunk := make([]byte, 64<<10)
	total := 0
	for {
		n, err := Write(a, chunk)
		total += n
		if err == ErrWouldBlock {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if total > 64<<20 {
			t.Fatal("send buffer never filled")
		}
	}
	if got, _ := waitFor(t, p, a, 20*time.Millisecond); got != 0 {
		t.Fatalf("full, got %v", got)
	}
	// Drain the peer: room opens, a Writable edge arrives.
	buf := make([]byte, 64<<10)
	read := 0
	for read < total {
		n, err := Read(b, buf)
		if err == ErrWouldBlock {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		read += n
	}
	if read != total {
		t.Fatalf("peer read %d of %d bytes", read, total)
	}
	if got, _ := waitFor(t, p, a, time.Second); got&Writable == 0 {
		t.Fatalf("after peer drained: %v, want Writable", got)
	}
}

func TestHangUp(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	p.Add(a, Readable|Writable)
	waitFor(t, p, a, time.Second)
	unix.Shutdown(b, unix.SHUT_WR)
	got, _ := waitFor(t, p, a, time.Second)
	if got&(HangUp|Readable) != HangUp|Readable {
		t.Fatalf("after peer shutdown: %v, want Readable|HangUp", got)
	}
	if _, err := Read(a, make([]byte, 8)); err != io.EOF {
		t.Fatalf("Read after hang-up = %v, want io.EOF", err)
	}
}

func TestRemove(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	p.Add(a, Readable|Writable)
	waitFor(t, p, a, time.Second)
	if err := p.Remove(a); err != nil {
		t.Fatal(err)
	}
	Write(b, []byte("x"))
	if got, _ := waitFor(t, p, a, 50*time.Millisecond); got != 0 {
		t.Fatalf("after Remove: %v", got)
	}
	if err := p.Remove(a); !errors.Is(err, unix.ENOENT) {
		t.Fatalf("second Remove = %v, want ENOENT", err)
	}
}

func TestWake(t *testing.T) {
	p := newPoller(t)
	done := make(chan struct{})
	go func() {
		time.Sleep(20 * time.Millisecond)
		for i := 0; i < 100; i++ {
			if err := p.Wake(); err != nil {
				t.Error(err)
			}
		}
		close(done)
	}()
	start := time.Now()
	evs, woken, err := p.Wait(5 * time.Second)
	if err != nil || !woken || len(evs) != 0 {
		t.Fatalf("Wait = %v, %v, %v; want woken", evs, woken, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Wake took %v", d)
	}
	<-done
	// The 100 wakes coalesced: at most one more wake is pending.
	_, woken, _ = p.Wait(0)
	if _, again, _ := p.Wait(0); again {
		t.Fatal("more than one wake left after coalescing")
	}
	_ = woken
}

func TestWaitAllocs(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	p.Add(a, Readable|Writable)
	one := []byte("x")
	buf := make([]byte, 16)
	allocs := testing.AllocsPerRun(200, func() {
		Write(b, one)
		p.Wake()
		evs, _, err := p.Wait(time.Second)
		if err != nil || len(evs) == 0 {
			t.Fatal("no event", err)
		}
		Read(a, buf)
	})
	if allocs != 0 {
		t.Fatalf("Wait+Wake+Read+Write allocated %v times per run", allocs)
	}
}

func TestModify(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, Readable); err != nil {
		t.Fatal(err)
	}
	// Writable is not armed: a writable socket reports nothing.
	if got, _ := waitFor(t, p, a, 20*time.Millisecond); got&Writable != 0 {
		t.Fatalf("Writable reported without interest: %v", got)
	}
	// Arming a condition that already holds reports it.
	if err := p.Modify(a, Readable|Writable); err != nil {
		t.Fatal(err)
	}
	if got, _ := waitFor(t, p, a, time.Second); got&Writable == 0 {
		t.Fatalf("after Modify(Readable|Writable): %v, want Writable", got)
	}
	// Readable disarmed: data raises nothing.
	if err := p.Modify(a, Writable); err != nil {
		t.Fatal(err)
	}
	Write(b, []byte("x"))
	if got, _ := waitFor(t, p, a, 20*time.Millisecond); got&Readable != 0 {
		t.Fatalf("Readable reported without interest: %v", got)
	}
	if err := p.Modify(a, Readable); err != nil {
		t.Fatal(err)
	}
	if got, _ := waitFor(t, p, a, time.Second); got&Readable == 0 {
		t.Fatalf("after Modify(Readable) with data pending: %v, want Readable", got)
	}
}

func TestAddErrors(t *testing.T) {
	p := newPoller(t)
	a, _ := socketpair(t)
	if err := p.Add(a, Readable); err != nil {
		t.Fatal(err)
	}
	if goos == "linux" {
		if err := p.Add(a, Readable); !errors.Is(err, unix.EEXIST) {
			t.Fatalf("second Add = %v, want EEXIST", err)
		}
	}
	if err := p.Add(-1, Readable); err == nil {
		t.Fatal("Add(-1) succeeded")
	}
}

func TestClose(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for {
			if _, _, err := p.Wait(-1); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != ErrClosed {
			t.Fatalf("Wait after Close = %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not end a blocked Wait")
	}
	if err := p.Wake(); err != ErrClosed {
		t.Fatalf("Wake after Close = %v", err)
	}
	if err := p.Add(0, Readable); err != ErrClosed {
		t.Fatalf("Add after Close = %v", err)
	}
	if err := p.Close(); err != ErrClosed {
		t.Fatalf("second Close = %v", err)
	}
}

func TestEventsString(t *testing.T) {
	if s := (Readable | HangUp).String(); s != "Readable|HangUp" {
		t.Fatalf("String = %q", s)
	}
}
