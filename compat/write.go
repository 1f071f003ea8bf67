package websocket

import (
	"io"
	"math/rand/v2"
	"time"

	"github.com/lullws/lull/frame"
)

// maxCopyFrame is the largest frame written by copying header and payload
// into one pooled buffer (a single write); larger frames are written in
// pieces.
const maxCopyFrame = 64 << 10

func isControl(messageType int) bool {
	return messageType == CloseMessage || messageType == PingMessage || messageType == PongMessage
}

func isData(messageType int) bool {
	return messageType == TextMessage || messageType == BinaryMessage
}

// writeFrame writes one frame, holding wmu. A write error is sticky, and
// after a close frame every write returns ErrCloseSent.
func (c *Conn) writeFrame(op frame.Opcode, fin bool, payload []byte, deadline int64) error {
	return c.writeFrameRsv(op, fin, 0, payload, deadline)
}

// writeFrameRsv is writeFrame with reserved bits (frame.Rsv1 for a
// compressed message).
func (c *Conn) writeFrameRsv(op frame.Opcode, fin bool, rsv uint8, payload []byte, deadline int64) error {
	c.wmu.Lock()
	err := c.writeErr()
	if err == nil {
		err = c.writeFrameLocked(op, fin, rsv, payload, deadline)
		if err != nil {
			err = hideTempErr(err)
			c.setWriteErr(err)
		} else if op == frame.OpClose {
			c.setWriteErr(ErrCloseSent)
		}
	}
	c.wmu.Unlock()
	return err
}

func (c *Conn) writeFrameLocked(op frame.Opcode, fin bool, rsv uint8, payload []byte, deadline int64) error {
	if ev := c.ev.Load(); ev != nil {
		return ev.write(op, fin, payload)
	}
	if deadline != c.connDeadline() {
		if err := c.setConnWriteDeadline(deadline); err != nil {
			return err
		}
	}
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(payload))}
	if !c.isServer {
		h.Masked = true
		k := rand.Uint32()
		h.Key = [4]byte{byte(k), byte(k >> 8), byte(k >> 16), byte(k >> 24)}
	}
	hs := h.Size()
	if total := hs + len(payload); total <= maxCopyFrame {
		b := getBuf(total)
		buf := (*b)[:total]
		frame.PutHeader(buf, h)
		copy(buf[hs:], payload)
		if h.Masked {
			frame.Mask(h.Key, 0, buf[hs:])
		}
		_, err := c.conn.Write(buf)
		putBuf(b)
		return err
	}
	b := getBuf(maxCopyFrame)
	buf := *b
	n := frame.PutHeader(buf, h)
	var err error
	if !h.Masked {
		if _, err = c.conn.Write(buf[:n]); err == nil {
			_, err = c.conn.Write(payload)
		}
	} else {
		pos := 0
		for err == nil && pos < len(payload) {
			m := copy(buf[n:], payload[pos:])
			frame.Mask(h.Key, pos, buf[n:n+m])
			_, err = c.conn.Write(buf[:n+m])
			pos += m
			n = 0
		}
	}
	putBuf(b)
	return err
}

// setConnWriteDeadline sets the net.Conn's write deadline. Called with wmu
// held.
func (c *Conn) setConnWriteDeadline(d int64) error {
	var t time.Time
	if d != 0 {
		t = time.Unix(0, d)
	}
	if err := c.conn.SetWriteDeadline(t); err != nil {
		return err
	}
	if d != 0 || c.x.Load() != nil {
		c.extras().connDeadline = d
	}
	return nil
}

// WriteControl writes a control message with the given deadline. The allowed
// message types are CloseMessage, PingMessage and PongMessage.
//
// WriteControl may be called concurrently with every other method. It waits
// for a frame being written to finish (a control message may come between
// the frames of a message being written with NextWriter) until deadline,
// and fails with a timeout error then; a zero deadline means no limit.
func (c *Conn) WriteControl(messageType int, data []byte, deadline time.Time) error {
	if !isControl(messageType) {
		return errBadWriteOpCode
	}
	if len(data) > maxControlPayload {
		return errInvalidControlFrame
	}
	if !deadline.IsZero() {
		if time.Until(deadline) < 0 {
			return errWriteTimeout
		}
		wait := 10 * time.Microsecond
		for !c.wmu.TryLock() {
			if time.Until(deadline) < wait {
				return errWriteTimeout
			}
			time.Sleep(wait)
			wait = min(2*wait, time.Millisecond)
		}
	} else {
		c.wmu.Lock()
	}
	err := c.writeErr()
	if err == nil {
		err = c.writeFrameLocked(frame.Opcode(messageType), true, 0, data, deadlineNanos(deadline))
		if err != nil {
			err = hideTempErr(err)
			c.setWriteErr(err)
		} else if messageType == CloseMessage {
			c.setWriteErr(ErrCloseSent)
		}
	}
	c.wmu.Unlock()
	return err
}

// WriteMessage is a helper method for getting a writer using NextWriter,
// writing the message and closing the writer. It writes data as a single
// frame and does not retain it.
func (c *Conn) WriteMessage(messageType int, data []byte) error {
	if !isData(messageType) {
		if !isControl(messageType) {
			return errBadWriteOpCode
		}
		if len(data) > maxControlPayload {
			return errInvalidControlFrame
		}
	}
	c.msgMu.Lock()
	if c.writer != nil {
		c.writer.closeLocked()
	}
	var err error
	if c.deflate && c.compressWrite && isData(messageType) && c.ev.Load() == nil {
		err = c.writeCompressed(frame.Opcode(messageType), data)
	} else {
		err = c.writeFrame(frame.Opcode(messageType), true, data, c.writeDeadline())
	}
	c.msgMu.Unlock()
	return err
}

// writeCompressed sends data as one permessage-deflate message. Called
// with msgMu held.
func (c *Conn) writeCompressed(op frame.Opcode, data []byte) error {
	b := getBuf(len(data) + 64)
	z, err := frame.AppendDeflate((*b)[:0], data, c.level())
	if err == nil {
		err = c.writeFrameRsv(op, true, frame.Rsv1, z, c.writeDeadline())
	}
	if cap(z) == cap(*b) {
		putBuf(b)
	}
	return err
}

// NextWriter returns a writer for the next message to send. The writer's
// Close method flushes the complete message to the network.
//
// There can be at most one open writer on a connection. NextWriter closes
// the previous writer if the application has not already done so.
//
// All message types (TextMessage, BinaryMessage, CloseMessage, PingMessage
// and PongMessage) are supported.
func (c *Conn) NextWriter(messageType int) (io.WriteCloser, error) {
	if !isData(messageType) && !isControl(messageType) {
		return nil, errBadWriteOpCode
	}
	c.msgMu.Lock()
	defer c.msgMu.Unlock()
	if c.writer != nil {
		c.writer.closeLocked()
	}
	c.wmu.Lock()
	err := c.writeErr()
	c.wmu.Unlock()
	if err != nil {
		return nil, err
	}
	w := &messageWriter{c: c, op: frame.Opcode(messageType)}
	w.compress = c.deflate && c.compressWrite && isData(messageType) && c.ev.Load() == nil
	c.writer = w
	return w, nil
}

// messageWriter buffers a message written with NextWriter and sends it as
// one or more frames of at most WriteBufferSize payload bytes.
type messageWriter struct {
	c      *Conn
	op     frame.Opcode // the next frame's opcode: the message's, then continuation
	bp     *[]byte
	pooled *writePoolData // from the caller's BufferPool
	buf    []byte
	pos    int
	closed bool
	err    error

	compress bool // sent whole, compressed, at Close
}

func (w *messageWriter) buffer() []byte {
	if w.buf == nil {
		c := w.c
		if pool := c.writePool(); pool != nil {
			if d, ok := pool.Get().(*writePoolData); ok && len(d.buf) >= int(c.writeBufSize) {
				w.pooled = d
			} else {
				w.pooled = &writePoolData{buf: make([]byte, c.writeBufSize)}
			}
			w.buf = w.pooled.buf[:c.writeBufSize]
		} else {
			w.bp = getBuf(int(c.writeBufSize))
			w.buf = (*w.bp)[:c.writeBufSize]
		}
	}
	return w.buf
}

func (w *messageWriter) release() {
	if w.bp != nil {
		putBuf(w.bp)
		w.bp = nil
	}
	if w.pooled != nil {
		w.c.writePool().Put(w.pooled)
		w.pooled = nil
	}
	w.buf = nil
}

// flush sends the buffered bytes as a frame. Called with c.msgMu held.
func (w *messageWriter) flush(payload []byte, final bool) error {
	if w.err != nil {
		return w.err
	}
	if w.op.IsControl() && (!final || len(payload) > maxControlPayload) {
		w.err = errInvalidControlFrame
		return w.err
	}
	err := w.c.writeFrame(w.op, final, payload, w.c.writeDeadline())
	w.op = frame.OpContinuation
	w.pos = 0
	if err != nil {
		w.err = err
	}
	return err
}

// spill makes room in a full buffer: it sends the buffered bytes as a
// frame, or, on an evented connection (whose engine sends whole messages),
// grows the buffer.
func (w *messageWriter) spill() error {
	if w.c.ev.Load() == nil && !w.compress {
		return w.flush(w.buf[:w.pos], false)
	}
	nb := make([]byte, 2*len(w.buf))
	copy(nb, w.buf[:w.pos])
	w.release()
	w.buf = nb
	return nil
}

func (w *messageWriter) write(p []byte) (int, error) {
	if w.closed {
		return 0, errWriteClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	nn := len(p)
	buf := w.buffer()
	if w.pos == 0 && len(p) >= 2*len(buf) && (w.op.IsData() || w.op == frame.OpContinuation) && w.c.ev.Load() == nil && !w.compress {
		// A large write goes out as one frame, without a copy.
		if err := w.flush(p, false); err != nil {
			return 0, err
		}
		return nn, nil
	}
	for len(p) > 0 {
		if w.pos == len(buf) {
			if err := w.spill(); err != nil {
				return 0, err
			}
			buf = w.buffer()
		}
		n := copy(buf[w.pos:], p)
		w.pos += n
		p = p[n:]
	}
	return nn, nil
}

func (w *messageWriter) Write(p []byte) (int, error) {
	w.c.msgMu.Lock()
	n, err := w.write(p)
	w.c.msgMu.Unlock()
	return n, err
}

func (w *messageWriter) WriteString(s string) (int, error) {
	w.c.msgMu.Lock()
	defer w.c.msgMu.Unlock()
	if w.closed {
		return 0, errWriteClosed
	}
	nn := len(s)
	for len(s) > 0 {
		if w.err != nil {
			return 0, w.err
		}
		buf := w.buffer()
		if w.pos == len(buf) {
			if err := w.spill(); err != nil {
				return 0, err
			}
			buf = w.buffer()
		}
		n := copy(buf[w.pos:], s)
		w.pos += n
		s = s[n:]
	}
	return nn, nil
}

func (w *messageWriter) ReadFrom(r io.Reader) (nn int64, err error) {
	w.c.msgMu.Lock()
	defer w.c.msgMu.Unlock()
	if w.closed {
		return 0, errWriteClosed
	}
	for {
		if w.err != nil {
			return nn, w.err
		}
		buf := w.buffer()
		if w.pos == len(buf) {
			if err := w.spill(); err != nil {
				return nn, err
			}
			buf = w.buffer()
		}
		var n int
		n, err = r.Read(buf[w.pos:])
		w.pos += n
		nn += int64(n)
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return nn, err
		}
	}
}

// closeLocked sends the final frame. Called with c.msgMu held.
func (w *messageWriter) closeLocked() error {
	if w.closed {
		return errWriteClosed
	}
	var err error
	switch {
	case w.compress && w.err == nil:
		err = w.c.writeCompressed(w.op, w.buf[:w.pos])
	case w.buf != nil:
		err = w.flush(w.buf[:w.pos], true)
	default:
		err = w.flush(nil, true)
	}
	w.closed = true
	w.release()
	if w.c.writer == w {
		w.c.writer = nil
	}
	return err
}

func (w *messageWriter) Close() error {
	w.c.msgMu.Lock()
	err := w.closeLocked()
	w.c.msgMu.Unlock()
	return err
}
