package engine

import (
	"errors"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/poller"
	"github.com/lullws/lull/upgrade"
	"github.com/valyala/bytebufferpool"
)

// Connection states. Only the loop goroutine changes them.
const (
	stateHandshake       uint8 = iota // server: reading the upgrade request
	stateConnecting                   // client: TCP connect in progress
	stateClientHandshake              // client: request sent, reading the response
	stateOpen
	stateClosing // close sent or failed: waiting for the peer's close, or for TCP to end
	stateClosed
)

// Flags the loop goroutine alone reads and writes (Conn.flags).
const (
	fCloseRecv   uint8 = 1 << iota // a close frame was received: nothing more is processed
	fPendingRead                   // on the loop's list of connections that hit the read cap
	fOpened                        // OnOpen was called, so OnClose will be
	fFinSent                       // server: TCP sending side shut down, waiting for the peer's FIN
	fTimer                         // linked into the timer wheel
)

// Flags guarded by Conn.mu (Conn.wflags).
const (
	wCanWrite   uint8 = 1 << iota // the opening handshake is done
	wCloseSent                    // a close frame was sent (or writing failed): no more frames
	wCloseAfter                   // server: shut TCP down once the queue drains
	wFragment                     // a message sent with WriteFragment has begun and not ended
)

// Conn is one WebSocket connection served (or dialled) by an Engine.
//
// Its write methods (WriteMessage, WriteFragment, WritePrepared, Ping,
// Pong, Close) and
// Buffered, RemoteAddr and LocalAddr are safe to call from any goroutine,
// concurrently with each other and with the handlers. The rest of its
// state belongs to its loop. A Conn must not be copied.
//
// A Conn is small (248 bytes on 64-bit systems) and holds no buffer while idle: read
// bytes are kept only for an incomplete message, and written bytes only
// while the socket does not take them.
type Conn struct {
	loop   *loop
	fd     int32 // -1 once closed; written by the loop under mu
	state  uint8
	flags  uint8 // f* flags: loop goroutine only
	wflags uint8 // w* flags: guarded by mu
	isCli  bool  // dialled by this engine; set at creation, read by writers

	// Times in loop ticks (see timer.go): loop goroutine only.
	lastRead uint32
	lastPing uint32
	deadline uint32 // handshake or close deadline, by state
	timerAt  uint32 // wheel: tick of the next check, while fTimer is set

	timerNext, timerPrev *Conn // wheel links: loop goroutine only

	// Write side, guarded by mu.
	mu       sync.Mutex
	outSince uint32                     // tick at which out became non-empty
	dfl      atomic.Uint32              // permessage-deflate: d* bits, set before the first write; atomic
	out      *bytebufferpool.ByteBuffer // bytes the socket has not taken yet; nil when empty
	outOff   int                        // bytes of out already written

	// Read side: loop goroutine only.
	parser frame.Parser
	in     *bytebufferpool.ByteBuffer // handshake bytes or an incomplete message; nil when idle
	ctl    *bytebufferpool.ByteBuffer // a control frame split across reads; nil otherwise
	hs     *handshake                 // opening handshake state; nil once open

	closeErr    error   // what OnClose reports: the first close frame sent or received, or the failure; guarded by mu
	subprotocol *string // an element of the offered list, or nil
	userData    any
}

// handshake is a connection's opening-handshake state, dropped once it is
// open: the request being parsed (server) or the dial (client).
type handshake struct {
	req  upgrade.Request
	dial *dialState
}

var (
	bufPool bytebufferpool.Pool
	hsPool  = sync.Pool{New: func() any { return new(handshake) }}
)

func newConn(l *loop, fd int, client bool) *Conn {
	c := &Conn{loop: l, fd: int32(fd), isCli: client}
	c.parser.Client = client
	c.parser.MaxMessageSize = l.eng.cfg.maxMessageSize()
	c.parser.SkipUTF8 = l.eng.cfg.SkipUTF8
	return c
}

func (c *Conn) client() bool { return c.isCli }

// start registers a server connection with its loop and begins the
// opening handshake. Loop goroutine only.
func (c *Conn) start() {
	l := c.loop
	if l.eng.stopping.Load() {
		poller.Close(int(c.fd))
		return
	}
	if err := l.register(c); err != nil {
		l.eng.logf("engine: register: %v", err)
		poller.Close(int(c.fd))
		return
	}
	c.lastRead = l.tick
	c.deadline = l.tick + l.eng.handshakeTicks + 1 // + 1: ticks are floors; never early
	l.timers.schedule(c, c.deadline)
}

// UserData returns the value set by SetUserData.
func (c *Conn) UserData() any { return c.userData }

// SetUserData attaches a value of the caller's to the connection, typically
// in OnOpen. It is not synchronised: set it before other goroutines read it.
func (c *Conn) SetUserData(v any) { c.userData = v }

// Subprotocol returns the subprotocol negotiated in the handshake, or "".
// It is set before OnOpen runs (and before Adopt or Dial returns) and
// never changes, so any goroutine that got the Conn from them may call it.
func (c *Conn) Subprotocol() string {
	if c.subprotocol == nil {
		return ""
	}
	return *c.subprotocol
}

// IsClient reports whether the connection was dialled by this engine.
func (c *Conn) IsClient() bool { return c.client() }

// RemoteAddr returns the address of the peer, or the zero value once the
// connection is closed.
func (c *Conn) RemoteAddr() netip.AddrPort {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return netip.AddrPort{}
	}
	a, _ := poller.RemoteAddr(int(c.fd))
	return a
}

// LocalAddr returns the connection's local address, or the zero value once
// the connection is closed.
func (c *Conn) LocalAddr() netip.AddrPort {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return netip.AddrPort{}
	}
	a, _ := poller.LocalAddr(int(c.fd))
	return a
}

// Buffered returns the number of bytes written to the connection that the
// socket has not taken yet (see Config.WriteQueueLimit).
func (c *Conn) Buffered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.out == nil {
		return 0
	}
	return len(c.out.B) - c.outOff
}

// readable drains the socket: it reads until the kernel has nothing more,
// or until the fairness cap, and processes what it reads. A read shorter
// than the buffer means the socket is drained, unless the event reported
// the peer's FIN (hup), which then lies behind the data and raises no new
// edge: read on to the end of stream.
func (c *Conn) readable(hup bool) {
	l := c.loop
	for i := 0; i < maxReadsPerEvent; i++ {
		n, err := poller.Read(int(c.fd), l.buf)
		if n > 0 {
			c.lastRead = l.tick
			l.stats.bytesIn.Add(int64(n))
			c.process(l.buf[:n])
			if c.state == stateClosed {
				return
			}
		}
		switch {
		case err == poller.ErrWouldBlock:
			return
		case err == io.EOF:
			c.peerEOF()
			return
		case err != nil:
			c.closeNow(err)
			return
		case n < len(l.buf) && !hup:
			// A short read from a stream socket means it is drained; new
			// data will raise a new edge.
			return
		}
	}
	if c.flags&fPendingRead == 0 {
		c.flags |= fPendingRead
		l.pending = append(l.pending, c)
	}
}

// process consumes bytes read from the socket.
func (c *Conn) process(b []byte) {
	switch c.state {
	case stateHandshake:
		c.serverHandshake(b)
	case stateClientHandshake:
		c.clientHandshake(b)
	case stateOpen, stateClosing:
		c.frames(b)
	}
}

// frames parses and delivers frames. Nothing after a close frame, or after
// a protocol violation, is processed: it is discarded until TCP closes.
func (c *Conn) frames(b []byte) {
	if c.flags&fCloseRecv != 0 || c.parser.Err() != nil {
		return
	}
	for len(b) > 0 {
		f, n, ok, err := c.parser.Next(b)
		b = b[n:]
		if err != nil {
			c.fail(err)
			return
		}
		if !ok {
			return
		}
		if f.Opcode.IsControl() {
			if data, buf, whole := gather(&c.ctl, &f); whole {
				c.control(f.Opcode, data)
				release(buf)
			}
			if c.flags&fCloseRecv != 0 || c.state == stateClosed {
				return
			}
			continue
		}
		if data, buf, whole := gather(&c.in, &f); whole {
			if f.Compressed {
				c.inflated(f.Opcode, data)
			} else {
				c.message(f.Opcode, data) // zero copy when whole in one read
			}
			release(buf)
		}
		if c.state == stateClosed {
			return
		}
	}
}

// gather returns the whole payload of the message or control frame that f
// belongs to once f ends it (whole). A payload that arrives in one
// fragment is returned as it lies in the read buffer; one in pieces is
// gathered in *acc, a pooled buffer, which gather then hands over as buf
// for the caller to release after delivery.
func gather(acc **bytebufferpool.ByteBuffer, f *frame.Fragment) (data []byte, buf *bytebufferpool.ByteBuffer, whole bool) {
	if f.Start && f.End {
		return f.Payload, nil, true
	}
	if *acc == nil {
		*acc = bufPool.Get()
	}
	(*acc).B = append((*acc).B, f.Payload...)
	if !f.End {
		return nil, nil, false
	}
	buf, *acc = *acc, nil
	return buf.B, buf, true
}

// release puts back a buffer gather handed over, if any.
func release(buf *bytebufferpool.ByteBuffer) {
	if buf != nil {
		bufPool.Put(buf)
	}
}

func (c *Conn) message(op frame.Opcode, data []byte) {
	l := c.loop
	l.stats.msgsIn.Add(1)
	if h := l.eng.cfg.OnMessage; h != nil {
		if w := c.worker(); w != nil {
			w.submit(c, evMessage, op, data)
		} else {
			h(c, op, data)
		}
	}
}

func (c *Conn) control(op frame.Opcode, data []byte) {
	cfg := &c.loop.eng.cfg
	switch op {
	case frame.OpPing:
		if c.state != stateOpen {
			return
		}
		if !cfg.NoAutoPong {
			c.Pong(data)
		}
		if cfg.OnPing != nil {
			if w := c.worker(); w != nil {
				w.submit(c, evPing, op, data)
			} else {
				cfg.OnPing(c, data)
			}
		}
	case frame.OpPong:
		if c.state == stateOpen && cfg.OnPong != nil {
			if w := c.worker(); w != nil {
				w.submit(c, evPong, op, data)
			} else {
				cfg.OnPong(c, data)
			}
		}
	case frame.OpClose:
		c.flags |= fCloseRecv
		code, reason, _ := frame.ParseClose(data) // the parser has validated it
		c.setCloseErr(&CloseError{Code: code, Reason: string(reason), Remote: true})
		if c.state == stateOpen {
			// Echo the code (an empty payload for an empty one).
			c.sendClose(code, "")
		}
		c.endTCP()
	}
}

// fail answers a protocol violation: a close frame with the violation's
// code, then the end of the connection; nothing after the offending frame
// is processed.
func (c *Conn) fail(err error) {
	l := c.loop
	l.stats.protoErrors.Add(1)
	var perr *frame.Error
	if !errors.As(err, &perr) {
		c.closeNow(err)
		return
	}
	c.setCloseErr(&CloseError{Code: perr.Code, Reason: perr.Reason})
	if c.in != nil {
		bufPool.Put(c.in)
		c.in = nil
	}
	if c.ctl != nil {
		bufPool.Put(c.ctl)
		c.ctl = nil
	}
	if c.state == stateOpen {
		c.sendClose(perr.Code, perr.Reason)
	}
	c.endTCP()
}

// endTCP ends the connection once the close handshake is over (or failed):
// a server closes TCP first (RFC 6455 §7.1.1): it flushes its queue, shuts
// down its sending side and waits for the peer's FIN; a client waits for
// the server to close. Both waits are bounded by Config.CloseTimeout.
func (c *Conn) endTCP() {
	if c.state == stateClosed {
		return
	}
	c.enterClosing()
	if c.client() {
		return
	}
	c.mu.Lock()
	pending := c.out != nil
	if pending {
		c.wflags |= wCloseAfter
	}
	c.mu.Unlock()
	if !pending {
		c.sendFIN()
	}
}

// sendFIN shuts down the sending side of a server connection; the loop
// then reads (and discards) until the peer's FIN. Loop goroutine only.
func (c *Conn) sendFIN() {
	if c.flags&fFinSent != 0 || c.fd < 0 {
		return
	}
	c.flags |= fFinSent
	c.mu.Lock()
	c.wflags |= wCloseSent
	c.mu.Unlock()
	if poller.ShutdownWrite(int(c.fd)) != nil {
		c.closeNow(nil)
	}
}

// enterClosing moves the connection to the closing state, with a deadline
// of Config.CloseTimeout from now.
func (c *Conn) enterClosing() {
	if c.state == stateClosed {
		return
	}
	l := c.loop
	c.state = stateClosing
	c.deadline = l.tick + l.eng.closeTicks + 1
	l.timers.schedule(c, c.deadline)
}

// peerEOF handles the peer closing its side of TCP.
func (c *Conn) peerEOF() {
	c.closeNow(io.ErrUnexpectedEOF)
}

// setCloseErr records why the connection ends, unless a reason was
// recorded already: the first close frame of the handshake, sent or
// received, or the first failure.
func (c *Conn) setCloseErr(err error) {
	c.mu.Lock()
	if c.closeErr == nil {
		c.closeErr = err
	}
	c.mu.Unlock()
}

// closeNow closes the connection without further ado and calls OnClose.
// Loop goroutine only.
func (c *Conn) closeNow(err error) {
	if c.state == stateClosed {
		return
	}
	l := c.loop
	c.state = stateClosed
	w := c.worker() // before the descriptor is gone
	l.unregister(c)

	c.mu.Lock()
	if c.closeErr == nil {
		c.closeErr = err
	}
	if c.closeErr == nil {
		c.closeErr = io.ErrUnexpectedEOF
	}
	closeErr := c.closeErr
	fd := int(c.fd)
	c.fd = -1
	if c.out != nil {
		bufPool.Put(c.out)
		c.out, c.outOff = nil, 0
	}
	c.wflags |= wCloseSent
	c.mu.Unlock()
	if fd >= 0 {
		poller.Close(fd)
	}

	if c.in != nil {
		bufPool.Put(c.in)
		c.in = nil
	}
	if c.ctl != nil {
		bufPool.Put(c.ctl)
		c.ctl = nil
	}
	if c.dfl.Load()&(dInflateKeep|dCompressKeep) != 0 {
		l.eng.deflateCtx.Delete(c) // writers that hold it finish with it
	}
	if hs := c.hs; hs != nil {
		c.hs = nil
		if hs.dial != nil {
			hs.dial.finish(nil, closeErr)
		}
		releaseHandshake(hs)
	}
	if h := l.eng.cfg.OnClose; h != nil && c.flags&fOpened != 0 {
		if w != nil {
			w.submitClose(c, closeErr)
		} else {
			h(c, closeErr)
		}
	}
}

func releaseHandshake(hs *handshake) {
	if hs.dial != nil {
		return // a client's: not pooled
	}
	hs.req.Reset()
	hsPool.Put(hs)
}

// timerDue runs when the connection's timer comes up: it enforces the
// timeouts that are due and schedules the next check.
func (c *Conn) timerDue() {
	l := c.loop
	e := l.eng
	now := l.tick
	switch c.state {
	case stateHandshake, stateConnecting, stateClientHandshake, stateClosing:
		if after(now, c.deadline) {
			err := ErrHandshakeTimeout
			if c.state == stateClosing {
				err = ErrCloseTimeout
			}
			if c.flags&fFinSent == 0 {
				l.stats.timeouts.Add(1)
			}
			c.closeNow(err)
			return
		}
		l.timers.schedule(c, c.deadline)
		return
	case stateClosed:
		return
	}

	var next uint32
	soonest := func(t uint32) {
		if next == 0 || before(t, next) {
			next = t
		}
	}
	if d := e.readTicks; d > 0 {
		if now-c.lastRead > d { // ticks are floors: > d means at least d has passed
			l.stats.timeouts.Add(1)
			c.setCloseErr(ErrReadTimeout)
			c.sendClose(frame.CloseGoingAway, "idle timeout")
			c.enterClosing()
			return
		}
		soonest(c.lastRead + d + 1)
	}
	if d := e.writeTicks; d > 0 {
		c.mu.Lock()
		stalled, since := c.out != nil, c.outSince
		c.mu.Unlock()
		if stalled {
			if now-since > d {
				l.stats.timeouts.Add(1)
				c.closeNow(ErrWriteTimeout)
				return
			}
			soonest(since + d + 1)
		} else {
			soonest(now + d + 1)
		}
	}
	if d := e.pingTicks; d > 0 {
		if now-c.lastPing >= d {
			c.lastPing = now
			c.Ping(nil)
		}
		soonest(c.lastPing + d)
	}
	if next != 0 {
		l.timers.schedule(c, next)
	}
}

// negotiated applies what the opening handshake settled: the subprotocol
// (offered is the list it was chosen from) and permessage-deflate. It runs
// once, before the connection can be written to: on the loop just before
// open, or, for Adopt, before the Conn is handed to the caller.
func (c *Conn) negotiated(res *upgrade.Result, offered []string) {
	if res.Subprotocol != "" {
		c.subprotocol = intern(offered, res.Subprotocol)
	}
	c.setupDeflate(res)
}

// open finishes the opening handshake, after negotiated. Loop goroutine
// only.
func (c *Conn) open() {
	l := c.loop
	c.state = stateOpen
	c.lastRead, c.lastPing = l.tick, l.tick
	l.timers.unlink(c)
	l.stats.handshakes.Add(1)
	c.mu.Lock()
	c.wflags |= wCanWrite
	c.mu.Unlock()
	c.flags |= fOpened
	if h := l.eng.cfg.OnOpen; h != nil {
		if w := c.worker(); w != nil {
			w.submit(c, evOpen, 0, nil)
		} else {
			h(c)
		}
	}
	if c.state == stateOpen {
		c.timerDue() // schedules the idle, write and heartbeat checks, if any
	}
}

// worker returns the worker the connection's handlers run on, or nil when
// they run on the loop. Connections are pinned to workers by descriptor,
// so a connection's handlers run in order.
func (c *Conn) worker() *worker {
	ws := c.loop.eng.workers
	if ws == nil || c.fd < 0 {
		return nil
	}
	return ws[int(c.fd)%len(ws)]
}

// intern returns a pointer to the element of list equal to s, so that a
// connection keeps its subprotocol in one word; a string not in list is
// copied to the heap.
func intern(list []string, s string) *string {
	for i := range list {
		if list[i] == s {
			return &list[i]
		}
	}
	return &s
}
