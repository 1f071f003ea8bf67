package engine

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/poller"
	"github.com/lullws/lull/upgrade"
)

// Engine runs event loops that serve and dial WebSocket connections. Its
// methods are safe for concurrent use.
type Engine struct {
	cfg        Config
	loops      []*loop
	workers    []*worker
	conns      connTable
	queueLimit int

	compLevel     int // Config.Compression, defaults applied
	compThreshold int
	deflateCtx    sync.Map // *Conn → *deflateState, for connections with context takeover only
	errorLog      *log.Logger

	epoch          int64  // unix nanoseconds at New: tick 0
	handshakeTicks uint32 // Config's timeouts in ticks
	closeTicks     uint32
	readTicks      uint32
	writeTicks     uint32
	pingTicks      uint32

	next     atomic.Uint32 // round-robin over loops for Serve, Adopt and Dial
	stopping atomic.Bool   // Shutdown has begun: accept no more connections
	stopped  atomic.Bool   // loops must close everything and exit

	mu        sync.Mutex
	netLns    []net.Listener
	serving   sync.WaitGroup
	loopsDone sync.WaitGroup
}

// New starts an engine's loops (and workers) with the given configuration.
// It fails with poller.ErrNotSupported on systems without epoll or kqueue.
func New(cfg Config) (*Engine, error) {
	e := &Engine{
		cfg:            cfg,
		queueLimit:     intOr(cfg.WriteQueueLimit, DefaultWriteQueueLimit),
		compLevel:      DefaultCompressionLevel,
		compThreshold:  DefaultCompressionThreshold,
		errorLog:       cfg.ErrorLog,
		epoch:          time.Now().UnixNano(),
		handshakeTicks: durationTicks(durationOr(cfg.HandshakeTimeout, DefaultHandshakeTimeout)),
		closeTicks:     durationTicks(durationOr(cfg.CloseTimeout, DefaultCloseTimeout)),
		readTicks:      durationTicks(cfg.ReadTimeout),
		writeTicks:     durationTicks(cfg.WriteTimeout),
		pingTicks:      durationTicks(cfg.PingInterval),
	}
	switch l := cfg.Compression.Level; {
	case l == 0:
	case frame.ValidCompressionLevel(l):
		e.compLevel = l
	default:
		return nil, ErrCompressionLevel
	}
	switch t := cfg.Compression.Threshold; {
	case t < 0:
		e.compThreshold = 0
	case t > 0:
		e.compThreshold = t
	}
	for i := 0; i < cfg.loops(); i++ {
		l, err := newLoop(e, i)
		if err != nil {
			for _, l := range e.loops {
				l.poller.Close()
			}
			return nil, err
		}
		e.loops = append(e.loops, l)
	}
	if cfg.Workers > 0 {
		e.workers = make([]*worker, cfg.Workers)
		for i := range e.workers {
			e.workers[i] = newWorker(&e.cfg)
		}
	}
	for _, l := range e.loops {
		e.loopsDone.Add(1)
		go func() {
			defer e.loopsDone.Done()
			l.run()
		}()
	}
	return e, nil
}

func (e *Engine) logf(format string, args ...any) {
	if e.errorLog != nil {
		e.errorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

func (e *Engine) pickLoop() *loop {
	return e.loops[int(e.next.Add(1)-1)%len(e.loops)]
}

// Listen opens a listening TCP socket on address (network "tcp", "tcp4" or
// "tcp6") and serves the WebSocket connections made to it on the engine's
// loops. With Config.ReusePort it opens one socket per loop on the same
// address. It returns the address listened on, with the port chosen when
// address asked for port 0.
func (e *Engine) Listen(network, address string) (netip.AddrPort, error) {
	if e.stopping.Load() {
		return netip.AddrPort{}, ErrEngineClosed
	}
	n := 1
	if e.cfg.ReusePort {
		n = len(e.loops)
	}
	var bound netip.AddrPort
	fds := make([]int, 0, n)
	for i := 0; i < n; i++ {
		addr := address
		if i > 0 {
			addr = bound.String()
		}
		fd, a, err := poller.Listen(network, addr, e.cfg.ReusePort, 0)
		if err != nil {
			for _, fd := range fds {
				poller.Close(fd)
			}
			return netip.AddrPort{}, err
		}
		fds = append(fds, fd)
		bound = a
	}
	for i, fd := range fds {
		l := e.loops[i]
		ln := listener{fd: fd}
		if !e.cfg.ReusePort && len(e.loops) > 1 {
			ln.next = e.loops[0]
		}
		ok := l.post(func() {
			if err := l.poller.Add(fd, poller.Readable); err != nil {
				e.logf("engine: listen: %v", err)
				poller.Close(fd)
				return
			}
			l.listeners = append(l.listeners, ln)
			l.accept(&l.listeners[len(l.listeners)-1]) // connections that came before registration
		})
		if !ok {
			poller.Close(fd)
			return netip.AddrPort{}, ErrEngineClosed
		}
	}
	return bound, nil
}

// Serve accepts connections from ln and serves them on the engine's loops
// until ln is closed or the engine shuts down; it then returns the error
// that stopped it (nil after Shutdown). ln's connections must expose their
// descriptors (syscall.Conn), as TCP and Unix connections do: TLS does not
// work here.
func (e *Engine) Serve(ln net.Listener) error {
	e.mu.Lock()
	if e.stopping.Load() {
		e.mu.Unlock()
		return ErrEngineClosed
	}
	e.netLns = append(e.netLns, ln)
	e.serving.Add(1)
	e.mu.Unlock()
	defer e.serving.Done()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if e.stopping.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		fd, err := poller.TakeOver(nc)
		if err != nil {
			nc.Close()
			e.logf("engine: serve: %v", err)
			continue
		}
		poller.SetNoDelay(fd, true)
		l := e.pickLoop()
		c := newConn(l, fd, false)
		if !l.post(c.start) {
			poller.Close(fd)
		}
	}
}

// Adopt takes over a connection that has already been upgraded elsewhere,
// typically by upgrade.Server.UpgradeHTTP in a net/http handler, and serves
// it on the engine's loops from then on. buffered holds bytes read from the
// connection after the handshake (they are copied); res is the handshake's
// outcome. nc must expose its descriptor (syscall.Conn), as a plain TCP
// connection does, and must not be used by the caller afterwards.
//
// OnOpen is called on the connection's loop, as for any other connection;
// the returned Conn may be written to at once.
func (e *Engine) Adopt(nc net.Conn, buffered []byte, res upgrade.Result) (*Conn, error) {
	return e.AdoptWith(nc, buffered, res, nil)
}

// AdoptOptions configures AdoptWith. The zero value adopts a server
// connection as Adopt does.
type AdoptOptions struct {
	// Client marks a connection whose handshake this side made as the
	// client (it dialled): its frames are masked, the server's are not.
	Client bool

	// UserData is set on the Conn (see Conn.SetUserData) before any
	// handler can see it, OnOpen included.
	UserData any

	// MaxMessageSize overrides Config.MaxMessageSize for this connection
	// when not zero; a negative value means no limit.
	MaxMessageSize int64

	// CheckUTF8 validates this connection's text messages even when
	// Config.SkipUTF8 is set (an engine shared by connections that differ).
	CheckUTF8 bool
}

// AdoptWith is Adopt with options: it can take over a client connection,
// attach user data before OnOpen, and give the connection its own message
// size limit. opts may be nil.
func (e *Engine) AdoptWith(nc net.Conn, buffered []byte, res upgrade.Result, opts *AdoptOptions) (*Conn, error) {
	if e.stopping.Load() {
		nc.Close()
		return nil, ErrEngineClosed
	}
	var o AdoptOptions
	if opts != nil {
		o = *opts
	}
	fd, err := poller.TakeOver(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	poller.SetNoDelay(fd, true)
	l := e.pickLoop()
	c := newConn(l, fd, o.Client)
	c.userData = o.UserData
	switch {
	case o.MaxMessageSize > 0:
		c.parser.MaxMessageSize = o.MaxMessageSize
	case o.MaxMessageSize < 0:
		c.parser.MaxMessageSize = 0
	}
	if o.CheckUTF8 {
		c.parser.SkipUTF8 = false
	}
	c.state = stateOpen
	// Before the caller can write, which it may do before the loop has
	// run open.
	c.negotiated(&res, e.cfg.Upgrade.Subprotocols)
	c.wflags = wCanWrite
	var pending []byte
	if len(buffered) > 0 {
		pending = append([]byte(nil), buffered...)
	}
	if !l.post(func() {
		if err := l.register(c); err != nil {
			c.closeNow(err)
			return
		}
		c.open()
		if len(pending) > 0 && c.state == stateOpen {
			c.process(pending)
		}
	}) {
		poller.Close(fd)
		return nil, ErrEngineClosed
	}
	return c, nil
}

// Shutdown shuts the engine down gracefully: it stops accepting, sends a
// close frame (1001, going away) to every open connection, and waits for
// the close handshakes to finish until ctx is done. Then it closes whatever
// is left, stops the loops and returns ctx's error if it ran out.
func (e *Engine) Shutdown(ctx context.Context) error {
	if !e.stopping.CompareAndSwap(false, true) {
		e.loopsDone.Wait()
		return nil
	}
	e.mu.Lock()
	for _, ln := range e.netLns {
		ln.Close()
	}
	e.mu.Unlock()
	for _, l := range e.loops {
		l.post(func() {
			for _, ln := range l.listeners {
				l.poller.Remove(ln.fd)
				poller.Close(ln.fd)
			}
			l.listeners = nil
			l.forEach(func(c *Conn) {
				switch c.state {
				case stateOpen:
					c.Close(frame.CloseGoingAway, "shutting down")
				case stateClosing, stateClosed:
				default:
					c.closeNow(ErrEngineClosed)
				}
			})
		})
	}
	var err error
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for e.openConns() > 0 {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-tick.C:
			continue
		}
		break
	}
	e.serving.Wait()
	e.stopped.Store(true)
	for _, l := range e.loops {
		l.poller.Wake()
	}
	e.loopsDone.Wait()
	for _, w := range e.workers {
		w.stop()
	}
	return err
}

// Close shuts the engine down at once: connections are closed without a
// close handshake.
func (e *Engine) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.Shutdown(ctx)
	return nil
}

func (e *Engine) openConns() int64 {
	var n int64
	for _, l := range e.loops {
		n += l.open.Load()
	}
	return n
}

// Stats is a snapshot of an engine's counters.
type Stats struct {
	Open            int64 // connections registered now, in any state
	Accepted        int64 // connections accepted, adopted or dialled
	AcceptErrors    int64
	Handshakes      int64 // opening handshakes completed
	BadHandshakes   int64 // opening handshakes refused or failed
	MessagesIn      int64 // data messages received
	MessagesOut     int64 // data messages sent or queued
	BytesIn         int64 // bytes read from sockets
	BytesOut        int64 // bytes written to sockets
	ProtocolErrors  int64 // connections failed for protocol violations
	Timeouts        int64 // connections closed by a timeout
	WriteQueueFulls int64 // writes refused with ErrWriteQueueFull
	CompressedIn    int64 // data messages received compressed (permessage-deflate), among MessagesIn
	CompressedOut   int64 // data messages sent compressed, among MessagesOut
}

// Stats returns the engine's counters, summed over its loops. It is safe
// from any goroutine; the counters are read one by one, not atomically as a
// set.
func (e *Engine) Stats() Stats {
	var s Stats
	for _, l := range e.loops {
		c := &l.stats
		s.Open += l.open.Load()
		s.Accepted += c.accepted.Load()
		s.AcceptErrors += c.acceptErrors.Load()
		s.Handshakes += c.handshakes.Load()
		s.BadHandshakes += c.badHandshake.Load()
		s.MessagesIn += c.msgsIn.Load()
		s.MessagesOut += c.msgsOut.Load()
		s.BytesIn += c.bytesIn.Load()
		s.BytesOut += c.bytesOut.Load()
		s.ProtocolErrors += c.protoErrors.Load()
		s.Timeouts += c.timeouts.Load()
		s.WriteQueueFulls += c.queueFull.Load()
		s.CompressedIn += c.compressedIn.Load()
		s.CompressedOut += c.compressedOut.Load()
	}
	return s
}

func (s Stats) String() string {
	return fmt.Sprintf("open=%d accepted=%d handshakes=%d msgs in/out=%d/%d compressed in/out=%d/%d bytes in/out=%d/%d protocol errors=%d timeouts=%d queue full=%d",
		s.Open, s.Accepted, s.Handshakes, s.MessagesIn, s.MessagesOut, s.CompressedIn, s.CompressedOut, s.BytesIn, s.BytesOut, s.ProtocolErrors, s.Timeouts, s.WriteQueueFulls)
}
