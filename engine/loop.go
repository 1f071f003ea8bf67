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

// loop is one event loop: a poller, a read buffer shared by all of its
// connections, a timing wheel, and a queue through which other goroutines
// hand it work. Its connections are found through the engine's table.
type loop struct {
	eng    *Engine
	id     int
	poller *poller.Poller
	buf    []byte // read buffer, owned by the loop goroutine

	listeners []listener // listening sockets accepted on by this loop
	pending   []*Conn    // connections that hit the read cap and still hold data
	spareP    []*Conn
	timers    wheel
	now       int64  // unix nanoseconds, refreshed after each wait
	tick      uint32 // now in ticks since the engine's epoch
	tickPub   atomic.Uint32
	keys      keySource

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
	l.setNow(time.Now().UnixNano())
	l.timers.init(l.tick)
	return l, nil
}

func (l *loop) setNow(now int64) {
	l.now = now
	l.tick = l.eng.ticks(now)
	l.tickPub.Store(l.tick)
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
		wait := time.Duration(l.timers.wait(l.now, l.eng.epoch))
		if len(l.pending) > 0 {
			wait = 0
		}
		events, woken, err := l.poller.Wait(wait)
		if err != nil {
			if l.eng.stopping.Load() {
				l.exit()
				return
			}
			l.eng.logf("engine: loop %d: wait: %v", l.id, err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		l.setNow(time.Now().UnixNano())
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
			l.pending = l.spareP[:0]
			for i, c := range pending {
				c.flags &^= fPendingRead
				if c.state != stateClosed {
					c.readable(true)
				}
				pending[i] = nil
			}
			l.spareP = pending[:0]
		}
		l.timers.advance(l.tick, l.timerDue)
	}
}

func (l *loop) dispatch(ev poller.Event) {
	for i := range l.listeners {
		if l.listeners[i].fd == ev.FD {
			l.accept(&l.listeners[i])
			return
		}
	}
	c := l.eng.conns.load(ev.FD)
	if c == nil || c.loop != l {
		return // closed in this batch; the descriptor may be another loop's now
	}
	if ev.Events&poller.Writable != 0 {
		c.writable()
	}
	if ev.Events&poller.Readable != 0 && c.state != stateClosed {
		c.readable(ev.Events&poller.HangUp != 0)
	}
}

// register adds c to the engine's table and the loop's poller. Loop
// goroutine only.
func (l *loop) register(c *Conn) error {
	fd := int(c.fd)
	l.eng.conns.store(fd, c)
	if err := l.poller.Add(fd, poller.Readable|poller.Writable); err != nil {
		l.eng.conns.clear(fd, c)
		return err
	}
	l.open.Add(1)
	l.stats.accepted.Add(1)
	return nil
}

// unregister forgets c; its descriptor is about to be closed. Loop
// goroutine only.
func (l *loop) unregister(c *Conn) {
	if fd := int(c.fd); fd >= 0 && l.eng.conns.clear(fd, c) {
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
			c.start()
		} else if !target.post(c.start) {
			poller.Close(fd)
		}
	}
}

// forEach calls f for every connection of this loop. Loop goroutine only.
func (l *loop) forEach(f func(*Conn)) {
	l.eng.conns.each(func(c *Conn) {
		if c.loop == l {
			f(c)
		}
	})
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
	l.forEach(func(c *Conn) { c.closeNow(ErrEngineClosed) })
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

	compressedIn  atomic.Int64
	compressedOut atomic.Int64
}

// connTable maps descriptors to connections for all of an engine's loops:
// one pointer per descriptor number, in chunks allocated as descriptors
// grow, so that its cost is 8 bytes per connection whatever the number of
// loops. Each slot is written only by the loop that owns the connection;
// lookups are atomic loads.
type connTable struct {
	mu  sync.Mutex // serialises growth
	dir atomic.Pointer[[]atomic.Pointer[connChunk]]
}

const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
)

type connChunk [chunkSize]atomic.Pointer[Conn]

func (t *connTable) chunk(fd int) *connChunk {
	d := t.dir.Load()
	if d == nil || fd>>chunkBits >= len(*d) {
		return nil
	}
	return (*d)[fd>>chunkBits].Load()
}

func (t *connTable) load(fd int) *Conn {
	if ch := t.chunk(fd); ch != nil {
		return ch[fd&(chunkSize-1)].Load()
	}
	return nil
}

func (t *connTable) store(fd int, c *Conn) {
	ch := t.chunk(fd)
	if ch == nil {
		ch = t.grow(fd)
	}
	ch[fd&(chunkSize-1)].Store(c)
}

func (t *connTable) grow(fd int) *connChunk {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := fd >> chunkBits
	d := t.dir.Load()
	if d == nil || i >= len(*d) {
		n := 16
		if d != nil {
			n = len(*d)
		}
		for n <= i {
			n *= 2
		}
		grown := make([]atomic.Pointer[connChunk], n)
		if d != nil {
			for j := range *d {
				grown[j].Store((*d)[j].Load())
			}
		}
		t.dir.Store(&grown)
		d = &grown
	}
	ch := (*d)[i].Load()
	if ch == nil {
		ch = new(connChunk)
		(*d)[i].Store(ch)
	}
	return ch
}

// clear empties fd's slot if it still holds c, and reports whether it did.
func (t *connTable) clear(fd int, c *Conn) bool {
	if ch := t.chunk(fd); ch != nil {
		return ch[fd&(chunkSize-1)].CompareAndSwap(c, nil)
	}
	return false
}

// each calls f for every connection in the table.
func (t *connTable) each(f func(*Conn)) {
	d := t.dir.Load()
	if d == nil {
		return
	}
	for i := range *d {
		ch := (*d)[i].Load()
		if ch == nil {
			continue
		}
		for j := range ch {
			if c := ch[j].Load(); c != nil {
				f(c)
			}
		}
	}
}
