package engine

import (
	"crypto/rand"
	"sync"

	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/poller"
)

// WriteMessage sends data as one message of type op (frame.OpText or
// frame.OpBinary), compressed when the connection negotiated
// permessage-deflate and data is at least Config.Compression.Threshold
// bytes long (see SetWriteCompression). It is safe from any goroutine;
// concurrent writes are sent whole, one after the other. data is not retained: what the socket
// does not take at once is copied to the connection's queue, so the
// caller may reuse data as soon as WriteMessage returns.
//
// It fails with ErrNotOpen during the opening handshake, with ErrClosed
// once a close frame has been sent (or the connection has closed), and
// with ErrWriteQueueFull when Config.WriteQueueLimit bytes are already
// queued because the peer is not reading; then nothing was sent and the
// connection stays open: drop the message, retry later, or Close.
//
// Text must be valid UTF-8; the engine does not check what it sends.
// While a message sent with WriteFragment is unfinished, WriteMessage
// fails with ErrFragmentOpen.
func (c *Conn) WriteMessage(op frame.Opcode, data []byte) error {
	if op != frame.OpText && op != frame.OpBinary {
		return ErrBadOpcode
	}
	if d := c.dfl.Load(); d != 0 && c.compressing(d, len(data)) {
		return c.writeCompressed(op, data, d)
	}
	return c.writeFrame(op, data, false, nil)
}

// WriteFragment sends data as one frame of a message sent in pieces, for a
// message too large to hold at once or produced as it goes. The first
// fragment names the message's type (frame.OpText or frame.OpBinary), the
// later ones pass frame.OpContinuation, and the last has fin set; a
// fragment may be empty. Pings, pongs and Close may be sent between
// fragments, as RFC 6455 allows, but no other message: until the last
// fragment, WriteMessage, WritePrepared and a new first fragment fail with
// ErrFragmentOpen. A continuation with no message begun fails with
// ErrNoFragmentOpen, and any other opcode with ErrBadOpcode.
//
// Fragments are sent uncompressed even when the connection negotiated
// permessage-deflate (RFC 7692 lets any message go uncompressed). A text
// message's fragments may split a UTF-8 sequence; the whole message must
// be valid UTF-8. Other errors, and the ownership of data, are as for
// WriteMessage; after ErrWriteQueueFull nothing was sent and the same
// fragment may be tried again.
//
// WriteFragment is safe from any goroutine, but one message's fragments
// must come from one goroutine at a time, in order: the engine keeps only
// whether a fragmented message is open, not who opened it.
func (c *Conn) WriteFragment(op frame.Opcode, data []byte, fin bool) error {
	if op != frame.OpText && op != frame.OpBinary && op != frame.OpContinuation {
		return ErrBadOpcode
	}
	return c.writeFrameFull(op, 0, data, fin, false, nil)
}

// Ping sends a ping with the given payload (at most 125 bytes).
func (c *Conn) Ping(data []byte) error {
	if len(data) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	return c.writeFrame(frame.OpPing, data, false, nil)
}

// Pong sends a pong with the given payload (at most 125 bytes). Pongs
// answering pings are sent automatically unless Config.NoAutoPong is set.
func (c *Conn) Pong(data []byte) error {
	if len(data) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	return c.writeFrame(frame.OpPong, data, false, nil)
}

// Close starts the close handshake: it sends a close frame with code and
// reason (at most 123 bytes of UTF-8; frame.CloseNoStatus with no reason
// sends an empty close payload), after which no more messages may be sent.
// Codes that may not be sent (frame.CloseCode.Valid) are refused.
// The close frame is queued even when the write queue is full. The
// connection ends when the peer answers (a server then closes TCP, a
// client waits for the server to) or after Config.CloseTimeout; OnClose
// then reports the exchange. Close is safe from any goroutine; a second
// call returns ErrClosed.
func (c *Conn) Close(code frame.CloseCode, reason string) error {
	var payload [frame.MaxControlPayload]byte
	n, err := frame.PutClose(payload[:], code, reason)
	if err != nil {
		return err
	}
	if err := c.writeFrame(frame.OpClose, payload[:n], true, &CloseError{Code: code, Reason: reason}); err != nil {
		return err
	}
	c.loop.post(func() {
		if c.state == stateOpen {
			c.enterClosing()
		}
	})
	return nil
}

// Abort closes the connection at once, without a close handshake: TCP is
// closed and anything still queued is dropped. OnClose is then called with
// ErrClosed (unless the connection had already ended). Abort is safe from
// any goroutine and may be called more than once.
func (c *Conn) Abort() {
	c.loop.post(func() { c.closeNow(ErrClosed) })
}

// sendClose sends a close frame from the loop: the reply to the peer's
// close or the notice of a failure. A reason too long for the frame is cut.
func (c *Conn) sendClose(code frame.CloseCode, reason string) {
	var payload [frame.MaxControlPayload]byte
	n := 0
	if code != frame.CloseNoStatus {
		if len(reason) > frame.MaxCloseReason {
			reason = reason[:frame.MaxCloseReason]
		}
		var err error
		if n, err = frame.PutClose(payload[:], code, reason); err != nil {
			n, _ = frame.PutClose(payload[:], code, "")
		}
	}
	c.writeFrame(frame.OpClose, payload[:n], true, nil)
}

// writeFrame writes one final frame. force lets a close frame past a full
// queue, so that a failing connection still says why. closeErr, for a
// close frame, is recorded as the connection's close reason in the same
// critical section as the frame is sent, so that it precedes the answer.
func (c *Conn) writeFrame(op frame.Opcode, payload []byte, force bool, closeErr error) error {
	return c.writeFrameFull(op, 0, payload, true, force, closeErr)
}

// writeFrameRsv writes a final data frame with reserved bits rsv (a
// compressed message's RSV1).
func (c *Conn) writeFrameRsv(op frame.Opcode, rsv uint8, payload []byte) error {
	return c.writeFrameFull(op, rsv, payload, true, false, nil)
}

func (c *Conn) writeFrameFull(op frame.Opcode, rsv uint8, payload []byte, fin, force bool, closeErr error) error {
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(payload))}
	var hdr [frame.MaxHeaderSize]byte
	client := c.client()
	if client {
		h.Masked = true
		h.Key = c.loop.keys.next()
	}
	hn := frame.PutHeader(hdr[:], h)

	c.mu.Lock()
	if err := c.canSend(); err != nil {
		c.mu.Unlock()
		return err
	}
	if err := c.inSequence(op); err != nil {
		c.mu.Unlock()
		return err
	}
	if closeErr != nil && c.closeErr == nil {
		c.closeErr = closeErr
	}
	st := &c.loop.stats
	if c.out != nil {
		if !force && len(c.out.B)-c.outOff >= c.loop.eng.queueLimit {
			c.mu.Unlock()
			st.queueFull.Add(1)
			return ErrWriteQueueFull
		}
		c.countOut(op, rsv, fin)
		c.out.B = append(c.out.B, hdr[:hn]...)
		start := len(c.out.B)
		c.out.B = append(c.out.B, payload...)
		if client {
			frame.Mask(h.Key, 0, c.out.B[start:])
		}
		c.mu.Unlock()
		return nil
	}
	c.countOut(op, rsv, fin)

	var err error
	if client {
		// A client masks a copy: the caller's payload is not modified.
		buf := bufPool.Get()
		buf.B = append(buf.B, hdr[:hn]...)
		buf.B = append(buf.B, payload...)
		frame.Mask(h.Key, 0, buf.B[hn:])
		err = c.send(buf.B, nil)
		bufPool.Put(buf)
	} else {
		err = c.send(hdr[:hn], payload)
	}
	c.mu.Unlock()
	return err
}

// canSend reports whether a frame may be written now. c.mu is held.
func (c *Conn) canSend() error {
	switch {
	case c.fd < 0 || c.wflags&wCloseSent != 0:
		return ErrClosed
	case c.wflags&wCanWrite == 0:
		return ErrNotOpen
	}
	return nil
}

// inSequence reports whether a frame of type op may be sent now, given
// the fragmented message (WriteFragment) that may be open. c.mu is held.
func (c *Conn) inSequence(op frame.Opcode) error {
	switch open := c.wflags&wFragment != 0; {
	case op.IsControl():
		return nil
	case op == frame.OpContinuation && !open:
		return ErrNoFragmentOpen
	case op != frame.OpContinuation && open:
		return ErrFragmentOpen
	}
	return nil
}

// countOut records a frame that is being sent (or queued): the close frame
// that ends writing, a message's end, and whether a fragmented message is
// open. c.mu is held.
func (c *Conn) countOut(op frame.Opcode, rsv uint8, fin bool) {
	switch {
	case op == frame.OpClose:
		c.wflags |= wCloseSent
	case op.IsControl():
	case !fin:
		c.wflags |= wFragment
	default:
		c.wflags &^= wFragment
		c.loop.stats.msgsOut.Add(1)
		if rsv&frame.Rsv1 != 0 {
			c.loop.stats.compressedOut.Add(1)
		}
	}
}

// send writes a and then b straight to the socket when nothing is queued,
// and queues what the socket does not take; the writable edge that follows
// flushes it. c.mu is held and c.out is nil.
func (c *Conn) send(a, b []byte) error {
	var n int
	var err error
	if len(b) == 0 {
		n, err = poller.Write(int(c.fd), a)
	} else {
		bufs := [2][]byte{a, b}
		n, err = poller.Writev(int(c.fd), bufs[:])
	}
	if err != nil && err != poller.ErrWouldBlock {
		// Nothing more can be sent; the loop sees the socket's error on its
		// next event and closes the connection.
		c.wflags |= wCloseSent
		return err
	}
	c.loop.stats.bytesOut.Add(int64(n))
	if n == len(a)+len(b) {
		return nil
	}
	c.out = bufPool.Get()
	if n < len(a) {
		c.out.B = append(c.out.B, a[n:]...)
		c.out.B = append(c.out.B, b...)
	} else {
		c.out.B = append(c.out.B, b[n-len(a):]...)
	}
	c.outOff = 0
	c.outSince = c.loop.tickPub.Load()
	return nil
}

// writable flushes the queue when the socket has room again. Loop
// goroutine only.
func (c *Conn) writable() {
	if c.state == stateConnecting {
		c.connected()
		return
	}
	c.mu.Lock()
	if c.out == nil || c.fd < 0 {
		c.mu.Unlock()
		return
	}
	for c.outOff < len(c.out.B) {
		n, err := poller.Write(int(c.fd), c.out.B[c.outOff:])
		if n > 0 {
			c.outOff += n
			c.loop.stats.bytesOut.Add(int64(n))
		}
		if err == poller.ErrWouldBlock {
			c.mu.Unlock()
			return
		}
		if err != nil {
			c.wflags |= wCloseSent
			c.mu.Unlock()
			c.closeNow(err)
			return
		}
	}
	bufPool.Put(c.out)
	c.out, c.outOff = nil, 0
	closeAfter := c.wflags&wCloseAfter != 0
	c.mu.Unlock()
	if closeAfter {
		c.sendFIN()
	}
}

// Prepared is a message framed once for sending to many connections, as
// for a broadcast. It is immutable and safe for concurrent use.
type Prepared struct {
	op      frame.Opcode
	payload []byte
	wire    []byte // the whole unmasked frame, as a server sends it

	mu       sync.Mutex
	deflated []*preparedDeflate // compressed once per level used, on demand
}

// NewPrepared frames data as a message of type op (frame.OpText or
// frame.OpBinary). data is copied.
func NewPrepared(op frame.Opcode, data []byte) (*Prepared, error) {
	if op != frame.OpText && op != frame.OpBinary {
		return nil, ErrBadOpcode
	}
	wire := frame.AppendFrame(make([]byte, 0, frame.MaxHeaderSize+len(data)), frame.Header{Fin: true, Opcode: op}, data)
	return &Prepared{op: op, payload: wire[len(wire)-len(data):], wire: wire}, nil
}

// WritePrepared sends a prepared message. A server connection writes the
// bytes framed once by NewPrepared, without copying them unless the socket
// does not take them at once; a client connection, which must mask each
// frame with its own key, frames it anew. Errors are WriteMessage's.
//
// On connections that negotiated permessage-deflate the message is
// compressed, once per compression level in use, on first need, and the
// compressed frame is cached in pm (as gorilla's PreparedMessage does),
// under the same threshold as WriteMessage. A connection that keeps its
// compression context (Compression.ContextTakeover) compresses it anew,
// as its context requires.
func (c *Conn) WritePrepared(pm *Prepared) error {
	if d := c.dfl.Load(); d != 0 && c.compressing(d, len(pm.payload)) {
		if d&dCompressKeep != 0 {
			return c.writeCompressed(pm.op, pm.payload, d)
		}
		z := pm.compressed(c.level(d))
		if c.client() {
			return c.writeFrameRsv(pm.op, frame.Rsv1, z.payload)
		}
		return c.writeWire(pm.op, frame.Rsv1, z.wire)
	}
	if c.client() {
		return c.writeFrame(pm.op, pm.payload, false, nil)
	}
	return c.writeWire(pm.op, 0, pm.wire)
}

// writeWire sends wire, one whole frame of type op with reserved bits rsv,
// framed (and, from a client, masked) beforehand, or queues it behind
// what is queued already. It is the path of every frame built outside the
// connection's lock: Prepared frames and compressed messages.
func (c *Conn) writeWire(op frame.Opcode, rsv uint8, wire []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.canSend(); err != nil {
		return err
	}
	if err := c.inSequence(op); err != nil {
		return err
	}
	if c.out != nil {
		if len(c.out.B)-c.outOff >= c.loop.eng.queueLimit {
			c.loop.stats.queueFull.Add(1)
			return ErrWriteQueueFull
		}
		c.countOut(op, rsv, true)
		c.out.B = append(c.out.B, wire...)
		return nil
	}
	c.countOut(op, rsv, true)
	return c.send(wire, nil)
}

// Broadcast sends pm to every connection in conns, framed once, and
// returns how many sends failed (closed connections, full queues). It is
// safe from any goroutine.
func Broadcast(conns []*Conn, pm *Prepared) (failed int) {
	for _, c := range conns {
		if c.WritePrepared(pm) != nil {
			failed++
		}
	}
	return failed
}

// keySource hands out masking keys for client frames: 4 bytes at a time
// from a batch read from crypto/rand, so that a key costs a copy, not a
// system call.
type keySource struct {
	mu  sync.Mutex
	buf [512]byte
	pos int
}

func (k *keySource) next() (key [4]byte) {
	k.mu.Lock()
	if k.pos == 0 || k.pos+4 > len(k.buf) {
		if _, err := rand.Read(k.buf[:]); err != nil {
			// crypto/rand does not fail on supported systems (Go 1.24
			// makes Read crash the program instead of returning).
			panic("engine: crypto/rand failed: " + err.Error())
		}
		k.pos = 0
	}
	copy(key[:], k.buf[k.pos:])
	k.pos += 4
	if k.pos == len(k.buf) {
		k.pos = 0
	}
	k.mu.Unlock()
	return key
}
