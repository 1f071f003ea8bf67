package websocket

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"weak"

	"github.com/lullws/lull/frame"
)

const (
	defaultReadBufferSize  = 4096
	defaultWriteBufferSize = 4096
	writeWait              = time.Second
	noFrame                = -1
	maxControlPayload      = frame.MaxControlPayload
)

// Conn represents a WebSocket connection.
//
// A Conn holds no buffer while idle: bytes are read into a pooled buffer
// that goes back to the pool once its frames have been consumed, and
// messages are written through pooled buffers. On a plain TCP or Unix
// connection (the usual server and client case) a goroutine waiting in
// NextReader or ReadMessage waits for the socket to become readable
// without holding even a read buffer, in Go's network poller; the same
// goroutine then reads and parses the frames. Other net.Conn
// implementations (TLS, net.Pipe) are read with blocking Read calls into
// a pooled buffer held while the read waits.
//
// See the package documentation for which methods may be called
// concurrently.
type Conn struct {
	conn net.Conn
	raw  syscall.RawConn // set when reads can wait without a buffer

	// Write side. msgMu orders data messages and guards writer, the write
	// deadline and the compression settings; wmu puts one frame at a time
	// on the wire and guards the write error and the deadline set on conn.
	msgMu sync.Mutex
	wmu   sync.Mutex
	// writer is the open NextWriter, if any.
	writer *messageWriter

	// Read side: owned by the goroutine calling the read methods; dropped
	// by ServeEvents.
	rs *readState

	// x holds what most connections never set, allocated on first use:
	// an idle connection is kept small (see connExtras).
	x atomic.Pointer[connExtras]

	ev atomic.Pointer[evented] // set once ServeEvents hands the connection to an engine

	writeBufSize  int32
	compressLevel int8
	compressWrite bool
	deflate       bool // permessage-deflate was negotiated
	isServer      bool
}

// connExtras are the parts of a Conn that most connections never need,
// or need only once something has happened: a subprotocol, a caller's
// write buffer pool, a write deadline, handlers, errors. Kept out of Conn,
// they cost an idle connection one pointer; Conn and its readState then
// fit the 256-byte size class, where they took 416 bytes with these
// fields inline.
type connExtras struct {
	subprotocol   string
	writePool     BufferPool
	writeDeadline int64 // UnixNano; 0 means none (guarded by msgMu)
	connDeadline  int64 // the write deadline last set on conn, as writeDeadline (guarded by wmu)
	writeErr      error // sticky (guarded by wmu)
	readErr       error // sticky; owned by the reading goroutine

	// The handlers the application set; nil ones mean the defaults.
	ping, pong func(appData string) error
	close      func(code int, text string) error
}

// extras returns c's connExtras, allocating them on first use. Any
// goroutine may call it.
func (c *Conn) extras() *connExtras {
	if x := c.x.Load(); x != nil {
		return x
	}
	x := new(connExtras)
	if c.x.CompareAndSwap(nil, x) {
		return x
	}
	return c.x.Load()
}

func (c *Conn) subprotocolName() string {
	if x := c.x.Load(); x != nil {
		return x.subprotocol
	}
	return ""
}

func (c *Conn) setSubprotocol(name string) {
	if name != "" {
		c.extras().subprotocol = name
	}
}

func (c *Conn) writePool() BufferPool {
	if x := c.x.Load(); x != nil {
		return x.writePool
	}
	return nil
}

// writeDeadline returns the deadline set by SetWriteDeadline. Called with
// msgMu held.
func (c *Conn) writeDeadline() int64 {
	if x := c.x.Load(); x != nil {
		return x.writeDeadline
	}
	return 0
}

// connDeadline returns the write deadline last set on conn. Called with wmu
// held.
func (c *Conn) connDeadline() int64 {
	if x := c.x.Load(); x != nil {
		return x.connDeadline
	}
	return 0
}

// writeErr returns the sticky write error. Called with wmu held.
func (c *Conn) writeErr() error {
	if x := c.x.Load(); x != nil {
		return x.writeErr
	}
	return nil
}

// setWriteErr records the sticky write error. Called with wmu held.
func (c *Conn) setWriteErr(err error) {
	if err != nil || c.x.Load() != nil {
		c.extras().writeErr = err
	}
}

// readErr returns the sticky read error.
func (c *Conn) readErr() error {
	if x := c.x.Load(); x != nil {
		return x.readErr
	}
	return nil
}

// setReadErr records the sticky read error.
func (c *Conn) setReadErr(err error) {
	if err != nil || c.x.Load() != nil {
		c.extras().readErr = err
	}
}

func (c *Conn) pingH() func(string) error {
	if x := c.x.Load(); x != nil {
		return x.ping
	}
	return nil
}

func (c *Conn) pongH() func(string) error {
	if x := c.x.Load(); x != nil {
		return x.pong
	}
	return nil
}

func (c *Conn) closeH() func(int, string) error {
	if x := c.x.Load(); x != nil {
		return x.close
	}
	return nil
}

// readState is the state of the blocking read methods. It is allocated
// with its Conn (see connAndReader); what few connections use (a control
// frame split across reads, an inflated message, a block of readers) hangs
// off it on pointers.
type readState struct {
	p       frame.Parser
	rbuf    *[]byte                                  // pooled; nil while nothing is buffered (raw mode)
	readers weak.Pointer[[readerBlock]messageReader] // the current block (see newReader)
	more    *readMore                                // allocated on first use
	rawFn   func(fd uintptr) bool

	rpos, rend  int32
	curLo       int32 // the current data fragment's unread bytes: rbuf[curLo:curHi]
	curHi       int32
	readBufSize int32
	readSeq     uint32  // incremented by each NextReader/ReadMessage: older readers return io.EOF
	nextReader  uint8   // the current block's next reader
	curEnd      bool    // cur's fragment ends its message
	inMsg       bool    // a data message has begun and has not been read to its end
	peek        bool    // rawRead's next call is the first of a wait
	curInflated bool    // the current fragment is in more.inflated, not rbuf
	peekByte    [1]byte // where the peek puts a byte it leaves in the socket (MSG_PEEK)
}

// readMore is the rarely used part of readState.
type readMore struct {
	inflated []byte // the current message, inflated
	ctl      ctlBuf // a control frame's payload split across reads
}

func (rs *readState) extras() *readMore {
	if rs.more == nil {
		rs.more = new(readMore)
	}
	return rs.more
}

// ctlBuf collects a control frame's payload when it arrives in pieces.
type ctlBuf struct {
	b [maxControlPayload]byte
	n int
}

// deadlineNanos returns t as Unix nanoseconds, 0 for the zero time.
func deadlineNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// connAndReader allocates a blocking connection and its read state
// together.
type connAndReader struct {
	c  Conn
	rs readState
}

// newConn wraps nc. leftover holds bytes already read from nc after the
// handshake (the peer's first frames); it is copied.
func newConn(nc net.Conn, isServer bool, readBufSize, writeBufSize int, pool BufferPool, leftover []byte) *Conn {
	return newConnFor(nc, isServer, readBufSize, writeBufSize, pool, leftover, false)
}

// newConnFor is newConn; forEvents allocates the read state apart, so that
// ServeEvents can free it.
func newConnFor(nc net.Conn, isServer bool, readBufSize, writeBufSize int, pool BufferPool, leftover []byte, forEvents bool) *Conn {
	if readBufSize <= 0 {
		readBufSize = defaultReadBufferSize
	}
	if readBufSize < 256 {
		readBufSize = 256
	}
	if readBufSize > 1<<20 {
		readBufSize = 1 << 20
	}
	if writeBufSize <= 0 {
		writeBufSize = defaultWriteBufferSize
	}
	var c *Conn
	if forEvents {
		c = &Conn{rs: &readState{}}
	} else {
		a := &connAndReader{}
		c = &a.c
		c.rs = &a.rs
	}
	c.conn = nc
	c.isServer = isServer
	c.rs.readBufSize = int32(readBufSize)
	c.writeBufSize = int32(writeBufSize)
	if pool != nil {
		c.extras().writePool = pool
	}
	c.compressLevel = defaultCompressionLevel
	c.rs.p.Client = !isServer
	c.rs.p.SkipUTF8 = true // gorilla/websocket leaves text validation to the application
	if rc := rawConnFor(nc); rc != nil {
		c.raw = rc
		c.rs.rawFn = c.rawRead
	}
	if len(leftover) > 0 {
		c.rs.rbuf = getBuf(max(len(leftover), readBufSize))
		c.rs.rend = int32(copy(*c.rs.rbuf, leftover))
	}
	return c
}

// Subprotocol returns the negotiated protocol for the connection.
func (c *Conn) Subprotocol() string { return c.subprotocolName() }

// Close closes the underlying network connection without sending or waiting
// for a close message.
func (c *Conn) Close() error {
	if ev := c.ev.Load(); ev != nil {
		return ev.close(c)
	}
	return c.conn.Close()
}

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// NetConn returns the underlying connection that is wrapped by c. Reading
// from or writing to it directly corrupts the WebSocket connection.
func (c *Conn) NetConn() net.Conn { return c.conn }

// UnderlyingConn returns the internal net.Conn. This can be used to further
// modifications to connection specific flags.
//
// Deprecated: Use the NetConn method.
func (c *Conn) UnderlyingConn() net.Conn { return c.conn }

// SetReadDeadline sets the read deadline on the underlying network
// connection. After a read has timed out, the websocket connection state is
// corrupt and all future reads will return an error. A zero value for t
// means reads will not time out.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline on the underlying network
// connection. After a write has timed out, the websocket state is corrupt
// and all future writes will return an error. A zero value for t means
// writes will not time out.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	d := deadlineNanos(t)
	c.msgMu.Lock()
	if d != 0 || c.x.Load() != nil {
		c.extras().writeDeadline = d
	}
	c.msgMu.Unlock()
	return nil
}

// SetReadLimit sets the maximum size in bytes for a message read from the
// peer. If a message exceeds the limit, the connection sends a close message
// to the peer and returns ErrReadLimit to the application. Zero means no
// limit.
func (c *Conn) SetReadLimit(limit int64) {
	if limit < 0 {
		limit = 0
	}
	if c.rs != nil { // nil once ServeEvents has taken the reads
		c.rs.p.MaxMessageSize = limit
	}
}

// EnableTextValidation turns UTF-8 validation of received text messages on
// or off. It is off by default, as in gorilla/websocket, which leaves
// validation to the application: a text message that is not valid UTF-8 is
// then delivered as it came.
//
// When it is on, text messages are validated as they arrive, compressed
// ones once inflated, and the connection fails at the first invalid byte
// sequence, before the rest of the message is read: the connection sends a
// close message with code CloseInvalidFramePayloadData (1007) and
// NextReader, ReadMessage or the message's reader returns an error (after
// the valid bytes before the offending sequence, for a reader). This lets a
// server fail fast, as RFC 6455 asks, even when it reads whole messages
// with ReadMessage.
//
// Call it before reading, or between messages, and for a connection served
// by ServeEvents before calling ServeEvents (the setting is carried over);
// once ServeEvents has taken the reads, it has no effect. This method is a
// lull addition to gorilla/websocket's API.
func (c *Conn) EnableTextValidation(enable bool) {
	if c.rs != nil { // nil once ServeEvents has taken the reads
		c.rs.p.SkipUTF8 = !enable
	}
}

// CloseHandler returns the current close handler.
func (c *Conn) CloseHandler() func(code int, text string) error {
	if c.closeH() != nil {
		return c.closeH()
	}
	return c.defaultCloseHandler
}

// SetCloseHandler sets the handler for close messages received from the
// peer. The code argument to h is the received close code or
// CloseNoStatusReceived if the close message is empty. The default close
// handler sends a close message back to the peer with the same code.
//
// The handler function is called from the NextReader, ReadMessage and
// message reader Read methods. The application must read the connection to
// process close messages as described in the section on Control Messages
// in the package documentation.
//
// The connection read methods return a CloseError when a close message is
// received. Most applications should handle close messages as part of their
// normal error handling; a close handler is for applications that must do
// something before the close message is answered.
func (c *Conn) SetCloseHandler(h func(code int, text string) error) {
	if h != nil || c.x.Load() != nil {
		c.extras().close = h
	}
}

func (c *Conn) defaultCloseHandler(code int, text string) error {
	c.WriteControl(CloseMessage, FormatCloseMessage(code, ""), time.Now().Add(writeWait))
	return nil
}

// PingHandler returns the current ping handler.
func (c *Conn) PingHandler() func(appData string) error {
	if c.pingH() != nil {
		return c.pingH()
	}
	return c.defaultPingHandler
}

// SetPingHandler sets the handler for ping messages received from the peer.
// The appData argument to h is the PING message application data. The
// default ping handler sends a pong to the peer; nil restores it.
//
// The handler function is called from the NextReader, ReadMessage and
// message reader Read methods.
func (c *Conn) SetPingHandler(h func(appData string) error) {
	if h != nil || c.x.Load() != nil {
		c.extras().ping = h
	}
}

func (c *Conn) defaultPingHandler(message string) error {
	err := c.WriteControl(PongMessage, []byte(message), time.Now().Add(writeWait))
	if err == ErrCloseSent {
		return nil
	}
	if e, ok := err.(net.Error); ok && e.Temporary() { //nolint:staticcheck
		return nil
	}
	return err
}

// PongHandler returns the current pong handler.
func (c *Conn) PongHandler() func(appData string) error {
	if c.pongH() != nil {
		return c.pongH()
	}
	return defaultPongHandler
}

func defaultPongHandler(string) error { return nil }

// SetPongHandler sets the handler for pong messages received from the peer.
// The appData argument to h is the PONG message application data. The
// default pong handler does nothing; nil restores it.
//
// The handler function is called from the NextReader, ReadMessage and
// message reader Read methods.
func (c *Conn) SetPongHandler(h func(appData string) error) {
	if h != nil || c.x.Load() != nil {
		c.extras().pong = h
	}
}

var _ io.Reader = (*messageReader)(nil)
