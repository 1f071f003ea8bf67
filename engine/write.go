package engine

import (
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/poller"
)

// WriteMessage sends data as one message of type op (frame.OpText or
// frame.OpBinary). It is safe from any goroutine. data is not retained:
// what the socket does not take at once is copied to the connection's
// queue. It fails with ErrClosed after a close frame has been sent, with
// ErrNotOpen during the handshake, and with ErrWriteQueueFull when the
// peer is not reading (see Config.WriteQueueLimit).
//
// Text must be valid UTF-8; the engine does not check what it sends.
func (c *Conn) WriteMessage(op frame.Opcode, data []byte) error {
	if op != frame.OpText && op != frame.OpBinary {
		return ErrBadOpcode
	}
	return c.writeFrame(op, data, false)
}

// Ping sends a ping with the given payload (at most 125 bytes).
func (c *Conn) Ping(data []byte) error {
	if len(data) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	return c.writeFrame(frame.OpPing, data, false)
}

// Pong sends a pong with the given payload (at most 125 bytes). Pongs
// answering pings are sent automatically unless Config.NoAutoPong is set.
func (c *Conn) Pong(data []byte) error {
	if len(data) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	return c.writeFrame(frame.OpPong, data, false)
}

// Close starts the close handshake: it sends a close frame with code and
// reason, after which no more messages may be sent. The connection closes
// when the peer answers (OnClose reports the exchange), or after
// Config.CloseTimeout. It is safe from any goroutine; a second call returns
// ErrClosed.
func (c *Conn) Close(code frame.CloseCode, reason string) error {
	var payload [frame.MaxControlPayload]byte
	n, err := frame.PutClose(payload[:], code, reason)
	if err != nil {
		return err
	}
	if err := c.writeFrame(frame.OpClose, payload[:n], false); err != nil {
		return err
	}
	l := c.loop
	l.post(func() {
		if c.state == stateOpen {
			if c.closeErr == nil {
				c.closeErr = &CloseError{Code: code, Reason: reason}
			}
			c.enterClosing()
		}
	})
	return nil
}

// sendClose sends a close frame from the loop: the reply to the peer's
// close or the notice of a failure. A reason too long for the frame is cut.
func (c *Conn) sendClose(code frame.CloseCode, reason string, force bool) {
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
	c.writeFrame(frame.OpClose, payload[:n], force)
}

// writeFrame writes one final frame. force lets a close frame past a full
// queue, so that a failing connection still says why.
func (c *Conn) writeFrame(op frame.Opcode, payload []byte, force bool) error {
	h := frame.Header{Fin: true, Opcode: op, Length: int64(len(payload))}
	var hdr [frame.MaxHeaderSize]byte
	if c.client {
		h.Masked = true
		h.Key = c.loop.eng.maskKey()
	}
	hn := frame.PutHeader(hdr[:], h)

	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.fd < 0 || c.closeSent:
		return ErrClosed
	case !c.canWrite:
		return ErrNotOpen
	}
	st := &c.loop.stats
	if op == frame.OpClose {
		c.closeSent = true
	} else if !op.IsControl() {
		st.msgsOut.Add(1)
	}
	if c.out != nil {
		if c.out.Len()-c.outOff >= c.loop.eng.queueLimit && !force {
			st.queueFull.Add(1)
			return ErrWriteQueueFull
		}
		c.out.B = append(c.out.B, hdr[:hn]...)
		start := len(c.out.B)
		c.out.B = append(c.out.B, payload...)
		if h.Masked {
			frame.Mask(h.Key, 0, c.out.B[start:])
		}
		return nil
	}

	if h.Masked {
		// A client masks a copy: the caller's payload is not modified.
		buf := bufPool.Get()
		buf.B = append(buf.B, hdr[:hn]...)
		buf.B = append(buf.B, payload...)
		frame.Mask(h.Key, 0, buf.B[hn:])
		n, err := poller.Write(int(c.fd), buf.B)
		if err != nil && err != poller.ErrWouldBlock {
			bufPool.Put(buf)
			return c.writeFailed(err)
		}
		st.bytesOut.Add(int64(n))
		if n == len(buf.B) {
			bufPool.Put(buf)
			return nil
		}
		c.out, c.outOff, c.outSince = buf, n, c.loop.eng.now()
		return nil
	}

	bufs := [2][]byte{hdr[:hn], payload}
	n, err := poller.Writev(int(c.fd), bufs[:])
	if err != nil && err != poller.ErrWouldBlock {
		return c.writeFailed(err)
	}
	st.bytesOut.Add(int64(n))
	if total := hn + len(payload); n < total {
		// Queue what the socket did not take; the writable edge that
		// follows flushes it.
		c.out = bufPool.Get()
		if n < hn {
			c.out.B = append(c.out.B, hdr[n:hn]...)
			c.out.B = append(c.out.B, payload...)
		} else {
			c.out.B = append(c.out.B, payload[n-hn:]...)
		}
		c.outOff = 0
		c.outSince = c.loop.eng.now()
	}
	return nil
}

// writeFailed records a write error; the loop sees the socket's error on
// its next event and closes the connection. c.mu is held.
func (c *Conn) writeFailed(err error) error {
	c.closeSent = true // nothing more can be sent
	return err
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
			c.closeSent = true
			c.mu.Unlock()
			c.closeNow(err)
			return
		}
	}
	bufPool.Put(c.out)
	c.out, c.outOff = nil, 0
	closeAfter := c.closeAfter
	c.mu.Unlock()
	if closeAfter {
		c.closeNow(nil)
	}
}

// Prepared is a message framed once for sending to many connections, as
// for a broadcast. It is immutable and safe for concurrent use.
type Prepared struct {
	op      frame.Opcode
	payload []byte
	wire    []byte // the whole unmasked frame, as a server sends it
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
// frame built once by NewPrepared; a client connection, which must mask
// each frame with its own key, frames it anew. Errors are WriteMessage's.
func (c *Conn) WritePrepared(pm *Prepared) error {
	if c.client {
		return c.writeFrame(pm.op, pm.payload, false)
	}
	return c.writeRaw(pm.wire)
}

// writeRaw writes bytes that are already one or more whole frames.
func (c *Conn) writeRaw(wire []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.fd < 0 || c.closeSent:
		return ErrClosed
	case !c.canWrite:
		return ErrNotOpen
	}
	st := &c.loop.stats
	st.msgsOut.Add(1)
	if c.out != nil {
		if c.out.Len()-c.outOff >= c.loop.eng.queueLimit {
			st.queueFull.Add(1)
			return ErrWriteQueueFull
		}
		c.out.B = append(c.out.B, wire...)
		return nil
	}
	n, err := poller.Write(int(c.fd), wire)
	if err != nil && err != poller.ErrWouldBlock {
		return c.writeFailed(err)
	}
	st.bytesOut.Add(int64(n))
	if n < len(wire) {
		c.out = bufPool.Get()
		c.out.B = append(c.out.B, wire[n:]...)
		c.outOff, c.outSince = 0, c.loop.eng.now()
	}
	return nil
}

// Broadcast sends pm to every connection in conns and returns how many
// sends failed (closed connections, full queues).
func Broadcast(conns []*Conn, pm *Prepared) (failed int) {
	for _, c := range conns {
		if c.WritePrepared(pm) != nil {
			failed++
		}
	}
	return failed
}
