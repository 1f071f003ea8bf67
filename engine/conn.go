package engine

import (
	"errors"
	"io"
	"net/netip"
	"sync"

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
	stateClosing // close sent; waiting for the peer's close or for TCP to close
	stateClosed
)

// Conn is one WebSocket connection served by an Engine's loop.
//
// Its write methods (WriteMessage, WritePrepared, Ping, Pong, Close) are
// safe to call from any goroutine, concurrently with each other and with
// the handlers. The rest of its state belongs to its loop.
type Conn struct {
	loop   *loop
	client bool
	state  uint8
	fd     int32 // -1 once closed; guarded by mu for writers

	// Read side: loop goroutine only.
	parser      frame.Parser
	in          *bytebufferpool.ByteBuffer // handshake bytes or an incomplete message; nil when idle
	ctl         *bytebufferpool.ByteBuffer // a control frame split across reads; nil otherwise
	closeRecv   bool
	pendingRead bool
	opened      bool // OnOpen was called
	lastRead    int64
	lastPing    int64
	deadline    int64 // handshake or close deadline, by state
	req         *upgrade.Request
	dial        *dialState

	// Timer wheel links: loop goroutine only.
	timerNext, timerPrev *Conn
	timerAt              int64
	timerSlot            int32

	// Write side, guarded by mu.
	mu         sync.Mutex
	out        *bytebufferpool.ByteBuffer // bytes the socket has not taken yet; nil when empty
	outOff     int                        // bytes of out already written
	outSince   int64                      // when out became non-empty
	canWrite   bool                       // the handshake is done
	closeSent  bool
	closeAfter bool // close TCP once out drains

	closeErr    error
	subprotocol string
	userData    any
	worker      *worker
}

var (
	bufPool bytebufferpool.Pool
	reqPool = sync.Pool{New: func() any { return new(upgrade.Request) }}
)

func newConn(l *loop, fd int, client bool) *Conn {
	c := &Conn{loop: l, fd: int32(fd), client: client, timerSlot: -1}
	c.parser.Client = client
	c.parser.MaxMessageSize = l.eng.cfg.maxMessageSize()
	if l.eng.workers != nil {
		c.worker = l.eng.workers[fd%len(l.eng.workers)]
	}
	return c
}

// start registers a server connection with its loop and begins the
// opening handshake; buffered holds bytes already read from it. Loop
// goroutine only.
func (c *Conn) start(buffered []byte) {
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
	c.lastRead = l.now
	c.deadline = l.now + int64(durationOr(l.eng.cfg.HandshakeTimeout, DefaultHandshakeTimeout))
	l.timers.schedule(c, c.deadline)
	if len(buffered) > 0 {
		c.process(buffered)
	}
}

// UserData returns the value set by SetUserData.
func (c *Conn) UserData() any { return c.userData }

// SetUserData attaches a value of the caller's to the connection, typically
// in OnOpen. It is not synchronised: set it before other goroutines read it.
func (c *Conn) SetUserData(v any) { c.userData = v }

// Subprotocol returns the subprotocol negotiated in the handshake, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// IsClient reports whether the connection was dialled by this engine.
func (c *Conn) IsClient() bool { return c.client }

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

// readable drains the socket: it reads until the kernel has nothing more,
// or until the fairness cap, and processes what it reads.
func (c *Conn) readable() {
	l := c.loop
	for i := 0; i < maxReadsPerEvent; i++ {
		n, err := poller.Read(int(c.fd), l.buf)
		if n > 0 {
			c.lastRead = l.now
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
		case n < len(l.buf):
			// A short read from a stream socket means it is drained; new
			// data will raise a new edge.
			return
		}
	}
	if !c.pendingRead {
		c.pendingRead = true
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
	if c.closeRecv || c.parser.Err() != nil {
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
			if f.Start && f.End {
				c.control(f.Opcode, f.Payload)
			} else {
				if c.ctl == nil {
					c.ctl = bufPool.Get()
				}
				c.ctl.B = append(c.ctl.B, f.Payload...)
				if f.End {
					c.control(f.Opcode, c.ctl.B)
					bufPool.Put(c.ctl)
					c.ctl = nil
				}
			}
			if c.closeRecv || c.state == stateClosed {
				return
			}
			continue
		}
		if f.Start && f.End {
			c.message(f.Opcode, f.Payload) // zero copy: straight from the read buffer
			continue
		}
		if c.in == nil {
			c.in = bufPool.Get()
		}
		c.in.B = append(c.in.B, f.Payload...)
		if f.End {
			c.message(f.Opcode, c.in.B)
			bufPool.Put(c.in)
			c.in = nil
		}
	}
}

func (c *Conn) message(op frame.Opcode, data []byte) {
	l := c.loop
	l.stats.msgsIn.Add(1)
	if c.state != stateOpen && c.state != stateClosing {
		return
	}
	if h := l.eng.cfg.OnMessage; h != nil {
		if c.worker != nil {
			c.worker.submit(c, evMessage, op, data)
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
			if c.worker != nil {
				c.worker.submit(c, evPing, op, data)
			} else {
				cfg.OnPing(c, data)
			}
		}
	case frame.OpPong:
		if c.state == stateOpen && cfg.OnPong != nil {
			if c.worker != nil {
				c.worker.submit(c, evPong, op, data)
			} else {
				cfg.OnPong(c, data)
			}
		}
	case frame.OpClose:
		c.closeRecv = true
		code, reason, _ := frame.ParseClose(data) // the parser has validated it
		ce := &CloseError{Code: code, Reason: string(reason), Remote: true}
		if c.closeErr == nil {
			c.closeErr = ce
		}
		if c.state == stateOpen {
			// Echo the code (an empty payload for an empty one).
			c.sendClose(code, "", true)
		}
		if !c.client {
			c.closeAfterFlush()
			return
		}
		// A client waits for the server to close TCP.
		c.enterClosing()
	}
}

// fail answers a protocol violation: a close frame with the violation's
// code, then TCP is closed.
func (c *Conn) fail(err error) {
	l := c.loop
	l.stats.protoErrors.Add(1)
	var perr *frame.Error
	if !errors.As(err, &perr) {
		c.closeNow(err)
		return
	}
	if c.closeErr == nil {
		c.closeErr = &CloseError{Code: perr.Code, Reason: perr.Reason}
	}
	if c.state == stateOpen {
		c.sendClose(perr.Code, perr.Reason, true)
	}
	if c.client {
		c.enterClosing()
		return
	}
	c.closeAfterFlush()
}

// enterClosing waits, at most CloseTimeout, for the peer to finish the
// close handshake or close TCP.
func (c *Conn) enterClosing() {
	if c.state == stateClosed {
		return
	}
	l := c.loop
	c.state = stateClosing
	c.deadline = l.now + int64(durationOr(l.eng.cfg.CloseTimeout, DefaultCloseTimeout))
	l.timers.schedule(c, c.deadline)
}

// closeAfterFlush closes TCP as soon as everything queued (the close frame
// last) has been written.
func (c *Conn) closeAfterFlush() {
	c.mu.Lock()
	pending := c.out != nil
	if pending {
		c.closeAfter = true
	}
	c.mu.Unlock()
	if !pending {
		c.closeNow(nil)
		return
	}
	c.enterClosing() // bounded: a peer that never reads is cut off at CloseTimeout
}

// peerEOF handles the peer closing its side of TCP.
func (c *Conn) peerEOF() {
	if c.closeErr == nil {
		c.closeErr = io.ErrUnexpectedEOF
	}
	c.closeNow(nil)
}

// closeNow closes the connection without further ado. Loop goroutine
// only.
func (c *Conn) closeNow(err error) {
	if c.state == stateClosed {
		return
	}
	l := c.loop
	c.state = stateClosed
	if c.closeErr == nil {
		c.closeErr = err
	}
	if c.closeErr == nil {
		c.closeErr = io.ErrUnexpectedEOF
	}
	l.unregister(c)

	c.mu.Lock()
	fd := int(c.fd)
	c.fd = -1
	if c.out != nil {
		bufPool.Put(c.out)
		c.out = nil
	}
	c.closeSent = true
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
	if c.req != nil {
		c.req.Reset()
		reqPool.Put(c.req)
		c.req = nil
	}
	if c.dial != nil {
		c.dial.finish(nil, c.closeErr)
		c.dial = nil
	}
	if h := l.eng.cfg.OnClose; h != nil && c.opened {
		if c.worker != nil {
			c.worker.submitClose(c, c.closeErr)
		} else {
			h(c, c.closeErr)
		}
	}
}

// timerDue runs when the connection's timer slot comes up: it enforces the
// timeouts that are due and schedules the next check.
func (c *Conn) timerDue() {
	l := c.loop
	cfg := &l.eng.cfg
	now := l.now
	switch c.state {
	case stateHandshake, stateConnecting, stateClientHandshake, stateClosing:
		if now >= c.deadline {
			l.stats.timeouts.Add(1)
			err := ErrHandshakeTimeout
			if c.state == stateClosing {
				err = ErrCloseTimeout
			}
			c.closeNow(err)
			return
		}
		l.timers.schedule(c, c.deadline)
		return
	case stateClosed:
		return
	}

	next := int64(0)
	soonest := func(t int64) {
		if next == 0 || t < next {
			next = t
		}
	}
	if d := int64(cfg.ReadTimeout); d > 0 {
		if now-c.lastRead >= d {
			l.stats.timeouts.Add(1)
			c.closeErr = ErrReadTimeout
			c.sendClose(frame.CloseGoingAway, "idle timeout", true)
			c.closeAfterFlush()
			return
		}
		soonest(c.lastRead + d)
	}
	if d := int64(cfg.WriteTimeout); d > 0 {
		c.mu.Lock()
		stalled, since := c.out != nil, c.outSince
		c.mu.Unlock()
		if stalled {
			if now-since >= d {
				l.stats.timeouts.Add(1)
				c.closeNow(ErrWriteTimeout)
				return
			}
			soonest(since + d)
		} else {
			soonest(now + d)
		}
	}
	if d := int64(cfg.PingInterval); d > 0 {
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

// open finishes the opening handshake. Loop goroutine only.
func (c *Conn) open(res *upgrade.Result) {
	l := c.loop
	c.state = stateOpen
	c.subprotocol = res.Subprotocol
	c.lastRead, c.lastPing = l.now, l.now
	l.timers.unlink(c)
	l.stats.handshakes.Add(1)
	c.mu.Lock()
	c.canWrite = true
	c.mu.Unlock()
	c.opened = true
	if h := l.eng.cfg.OnOpen; h != nil {
		if c.worker != nil {
			c.worker.submit(c, evOpen, 0, nil)
		} else {
			h(c)
		}
	}
	if c.state == stateOpen {
		c.timerDue() // schedules the idle, write and heartbeat checks, if any
	}
}
