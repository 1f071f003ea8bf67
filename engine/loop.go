package engine

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/lullws/lull/poller"
)

// maxReadsPerEvent caps the reads one readiness event may make before the
// loop serves other connections; a connection still holding data is then
// resumed after the rest of the batch.
const maxReadsPerEvent = 4

// loop is one event loop: a poller, the connections registered with it, a
// read buffer shared by all of them, a timing wheel, and a queue through
// which other goroutines hand it work.
type loop struct {
	eng    *Engine
	id     int
	poller *poller.Poller
	buf    []byte // read buffer, owned by the loop goroutine

	conns     []*Conn    // by descriptor; loop goroutine only
	listeners []listener // descriptors accepted on this loop
	pending   []*Conn    // connections that hit the read cap and still hold data
	timers    wheel
	now       int64 // unix nanoseconds, refreshed after each wait

	mu     sync.Mutex
	tasks  []func() // handed over by other goroutines; run by the loop
	spare  []func()
	exited bool

	open  atomic.Int64 // connections registered with this loop
	stats counters
}

type listener struct {
	fd   int
	next *loop // with a shared socket: where the next connection goes
}

func newLoop(e *Engine, id int) (*loop, error) {
	p, err := poller.New()
	if err != nil {
		return nil, err
	}
	l := &loop{
		eng:    e,
		id:     id,
		poller: p,
		buf:    make([]byte, intOr(e.cfg.ReadBufferSize, DefaultReadBufferSize)),
	}
	l.now = time.Now().UnixNano()
	l.timers.init(l.now)
	return l, nil
}

// post hands f to the loop, to run on its goroutine. It is safe from any
// goroutine; it reports false if the loop has exited.
func (l *loop) post(f func()) bool {
	l.mu.Lock()
	if l.exited {
		l.mu.Unlock()
		return false
	}
	l.tasks = append(l.tasks, f)
	l.mu.Unlock()
	l.poller.Wake()
	return true
}

func (l *loop) runTasks() {
	l.mu.Lock()
	tasks := l.tasks
	l.tasks = l.spare[:0]
	l.mu.Unlock()
	for i, f := range tasks {
		f()
		tasks[i] = nil
	}
	l.mu.Lock()
	l.spare = tasks[:0]
	l.mu.Unlock()
}

// run is the loop's goroutine.
func (l *loop) run() {
	for {
		wait := time.Duration(l.timers.wait(l.now))
		if len(l.pending) > 0 {
			wait = 0
		}
		events, woken, err := l.poller.Wait(wait)
		if err != nil {
			if l.eng.stopping.Load() {
				return
			}
			l.eng.logf("engine: loop %d: wait: %v", l.id, err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		l.now = time.Now().UnixNano()
		if woken {
			l.runTasks()
			if l.eng.stopped.Load() {
				l.exit()
				return
			}
		}
		for _, ev := range events {
			l.dispatch(ev)
		}
		if len(l.pending) > 0 {
			pending := l.pending
			l.pending = nil
			for _, c := range pending {
				c.pendingRead = false
				if c.state != stateClosed {
					c.readable()
				}
			}
		}
		l.timers.advance(l.now, l.timerDue)
	}
}

func (l *loop) dispatch(ev poller.Event) {
	for i := range l.listeners {
		if l.listeners[i].fd == ev.FD {
			l.accept(&l.listeners[i])
			return
		}
	}
	if ev.FD >= len(l.conns) {
		return
	}
	c := l.conns[ev.FD]
	if c == nil {
		return
	}
	if ev.Events&poller.Writable != 0 {
		c.writable()
	}
	if ev.Events&poller.Readable != 0 && c.state != stateClosed {
		c.readable()
	}
}

// register adds c to the loop and the poller. Loop goroutine only.
func (l *loop) register(c *Conn) error {
	fd := int(c.fd)
	for fd >= len(l.conns) {
		n := 2 * len(l.conns)
		if n < 1024 {
			n = 1024
		}
		grown := make([]*Conn, n)
		copy(grown, l.conns)
		l.conns = grown
	}
	l.conns[fd] = c
	if err := l.poller.Add(fd, poller.Readable|poller.Writable); err != nil {
		l.conns[fd] = nil
		return err
	}
	l.open.Add(1)
	l.stats.accepted.Add(1)
	return nil
}

// unregister forgets c; its descriptor is about to be closed. Loop
// goroutine only.
func (l *loop) unregister(c *Conn) {
	fd := int(c.fd)
	if fd >= 0 && fd < len(l.conns) && l.conns[fd] == c {
		l.conns[fd] = nil
		l.open.Add(-1)
	}
	l.timers.unlink(c)
}

func (l *loop) timerDue(c *Conn) { c.timerDue() }

// accept takes every pending connection from a listening socket.
func (l *loop) accept(ln *listener) {
	for {
		fd, _, err := poller.Accept(ln.fd)
		if err != nil {
			if err != poller.ErrWouldBlock && !l.eng.stopping.Load() {
				l.stats.acceptErrors.Add(1)
				l.eng.logf("engine: accept: %v", err)
			}
			return
		}
		poller.SetNoDelay(fd, true)
		target := l
		if ln.next != nil {
			target = ln.next
			ln.next = l.eng.loops[(target.id+1)%len(l.eng.loops)]
		}
		c := newConn(target, fd, false)
		if target == l {
			c.start(nil)
		} else if !target.post(func() { c.start(nil) }) {
			poller.Close(fd)
		}
	}
}

// exit runs at shutdown's end: it refuses further tasks, runs those still
// queued (which close what they carry, since the engine is stopping), and
// closes every connection without a close handshake.
func (l *loop) exit() {
	l.mu.Lock()
	l.exited = true
	tasks := l.tasks
	l.tasks = nil
	l.mu.Unlock()
	for _, f := range tasks {
		f()
	}
	l.closeAll(ErrEngineClosed)
}

func (l *loop) closeAll(err error) {
	for _, c := range l.conns {
		if c != nil {
			c.closeNow(err)
		}
	}
	for _, ln := range l.listeners {
		poller.Close(ln.fd)
	}
	l.listeners = nil
	l.poller.Close()
}

// counters are a loop's statistics, read by Engine.Stats from any goroutine.
type counters struct {
	accepted     atomic.Int64
	acceptErrors atomic.Int64
	handshakes   atomic.Int64
	badHandshake atomic.Int64
	msgsIn       atomic.Int64
	msgsOut      atomic.Int64
	bytesIn      atomic.Int64
	bytesOut     atomic.Int64
	protoErrors  atomic.Int64
	timeouts     atomic.Int64
	queueFull    atomic.Int64
}
