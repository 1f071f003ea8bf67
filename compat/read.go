package websocket

import (
	"errors"
	"io"
	"strings"
	"time"
	"weak"

	"github.com/lullws/lull/compat/internal/hooks"
	"github.com/lullws/lull/frame"
)

// fill reads more bytes from the connection once every buffered byte has
// been consumed.
func (c *Conn) fill() error {
	c.rs.rpos, c.rs.rend = 0, 0
	if c.raw != nil {
		if c.rs.rbuf != nil {
			putBuf(c.rs.rbuf) // hold nothing while waiting
			c.rs.rbuf = nil
		}
		c.rs.peek = true
		if err := c.raw.Read(c.rs.rawFn); err != nil {
			return err
		}
		// rawRead records a read error as the sticky one (every caller
		// of fill makes it so), which saves a field.
		return c.readErr()
	}
	if c.rs.rbuf == nil {
		c.rs.rbuf = getBuf(int(c.rs.readBufSize))
	}
	for {
		n, err := c.conn.Read((*c.rs.rbuf)[:c.rs.readBufSize])
		if n > 0 {
			c.rs.rend = int32(n)
			return nil // a sticky error comes back on the next Read
		}
		if err != nil {
			return err
		}
	}
}

// releaseReadBuffer gives the read buffer back once nothing in it is
// pending.
func (c *Conn) releaseReadBuffer() {
	if c.rs.rbuf != nil && c.rs.rpos == c.rs.rend && c.rs.curLo == c.rs.curHi {
		putBuf(c.rs.rbuf)
		c.rs.rbuf = nil
		c.rs.rpos, c.rs.rend = 0, 0
	}
}

// next returns the next fragment of a data message, handling the control
// frames before it.
func (c *Conn) next() (frame.Fragment, error) {
	for {
		if c.rs.rpos == c.rs.rend {
			if err := c.fill(); err != nil {
				if err == io.EOF {
					return frame.Fragment{}, errUnexpectedEOF
				}
				return frame.Fragment{}, hideTempErr(err)
			}
		}
		start := c.rs.rpos
		f, n, ok, err := c.rs.p.Next((*c.rs.rbuf)[c.rs.rpos:c.rs.rend])
		c.rs.rpos += int32(n)
		if err != nil {
			return frame.Fragment{}, c.protocolError(err, (*c.rs.rbuf)[start:c.rs.rend])
		}
		if !ok {
			c.rs.rpos = c.rs.rend
			continue
		}
		if f.Opcode.IsControl() {
			if err := c.control(&f); err != nil {
				return frame.Fragment{}, err
			}
			continue
		}
		return f, nil
	}
}

// control handles (a piece of) a control frame.
func (c *Conn) control(f *frame.Fragment) error {
	payload := f.Payload
	if !f.Start || !f.End {
		cb := &c.rs.extras().ctl
		if f.Start {
			cb.n = 0
		}
		cb.n += copy(cb.b[cb.n:], f.Payload)
		if !f.End {
			return nil
		}
		payload = cb.b[:cb.n]
	}
	switch f.Opcode {
	case frame.OpPing:
		if c.pingH() != nil {
			return c.pingH()(string(payload))
		}
		return c.defaultPingHandler(string(payload))
	case frame.OpPong:
		if c.pongH() != nil {
			return c.pongH()(string(payload))
		}
		return nil
	case frame.OpClose:
		code, reason, _ := frame.ParseClose(payload) // the parser has validated it
		text := string(reason)
		var err error
		if c.closeH() != nil {
			err = c.closeH()(int(code), text)
		} else {
			err = c.defaultCloseHandler(int(code), text)
		}
		if err != nil {
			return err
		}
		return &CloseError{Code: int(code), Text: text}
	}
	return nil
}

// protocolError fails the connection for a frame-level violation, as
// gorilla/websocket does: a close message, then an error for the reader,
// worded as gorilla's. b is what the parser was handed (see
// hooks.NewProtocolError).
func (c *Conn) protocolError(err error, b []byte) error {
	var fe *frame.Error
	if !errors.As(err, &fe) {
		return err
	}
	switch fe {
	case frame.ErrMessageTooBig:
		c.WriteControl(CloseMessage, FormatCloseMessage(CloseMessageTooBig, ""), time.Now().Add(writeWait))
		return ErrReadLimit
	case frame.ErrLengthOverflow:
		return ErrReadLimit
	case frame.ErrInvalidUTF8: // EnableTextValidation is on
		c.WriteControl(CloseMessage, FormatCloseMessage(CloseInvalidFramePayloadData, fe.Reason), time.Now().Add(writeWait))
		return hooks.NewProtocolError(fe, b, c.rs.p.Compression)
	}
	pe := hooks.NewProtocolError(fe, b, c.rs.p.Compression)
	data := FormatCloseMessage(CloseProtocolError, strings.TrimPrefix(pe.Text, "websocket: "))
	if len(data) > maxControlPayload {
		data = data[:maxControlPayload]
	}
	c.WriteControl(CloseMessage, data, time.Now().Add(writeWait))
	return pe
}

// waitIdle waits for bytes when nothing is buffered and no message is
// open, as close to the caller as possible: an idle goroutine parks with
// the shortest stack.
func (c *Conn) waitIdle() error {
	rs := c.rs
	if rs.rpos < rs.rend || rs.inMsg || c.readErr() != nil {
		return nil
	}
	if err := c.fill(); err != nil {
		if err == io.EOF {
			err = errUnexpectedEOF
		} else {
			err = hideTempErr(err)
		}
		c.setReadErr(err)
		return err
	}
	return nil
}

// setCur records payload, a fragment's bytes in the read buffer, as the
// current fragment.
func (c *Conn) setCur(payload []byte, end bool) {
	rs := c.rs
	rs.curEnd = end
	if rs.curInflated {
		rs.curInflated, rs.more.inflated = false, nil
	}
	if len(payload) == 0 {
		rs.curLo, rs.curHi = 0, 0
		return
	}
	lo := int32(cap(*rs.rbuf) - cap(payload))
	rs.curLo, rs.curHi = lo, lo+int32(len(payload))
}

// cur returns the unread bytes of the current fragment.
func (c *Conn) cur() []byte {
	if c.rs.curLo == c.rs.curHi {
		return nil
	}
	if c.rs.curInflated {
		return c.rs.more.inflated[c.rs.curLo:c.rs.curHi]
	}
	return (*c.rs.rbuf)[c.rs.curLo:c.rs.curHi]
}

// inflate reads the rest of a compressed message and inflates it; the
// result becomes the current (and last) fragment. A text message (op) is
// validated once inflated when EnableTextValidation is on.
func (c *Conn) inflate(op frame.Opcode) error {
	rs := c.rs
	z := append([]byte(nil), c.cur()...)
	for !rs.curEnd {
		f, err := c.next()
		if err != nil {
			return err
		}
		c.setCur(f.Payload, f.End)
		z = append(z, c.cur()...)
	}
	out, err := frame.AppendInflate(nil, z, rs.p.MaxMessageSize)
	if err == nil && op == frame.OpText && !rs.p.SkipUTF8 && !frame.ValidUTF8(out) {
		err = frame.ErrInvalidUTF8 // EnableTextValidation is on
	}
	if err != nil {
		var fe *frame.Error
		if errors.As(err, &fe) {
			if fe == frame.ErrMessageTooBig {
				c.WriteControl(CloseMessage, FormatCloseMessage(CloseMessageTooBig, ""), time.Now().Add(writeWait))
				return ErrReadLimit
			}
			c.WriteControl(CloseMessage, FormatCloseMessage(int(fe.Code), fe.Reason), time.Now().Add(writeWait))
			return errors.New("websocket: " + fe.Reason)
		}
		return err
	}
	rs.curLo, rs.curHi = 0, 0
	rs.curInflated, rs.extras().inflated = len(out) > 0, out
	rs.curHi = int32(len(out))
	rs.curEnd = true
	return nil
}

// beginMessage skips what is left of the current message and reads up to
// the first fragment of the next data message, which it leaves as the current fragment.
func (c *Conn) beginMessage() (int, error) {
	c.rs.readSeq++
	if c.readErr() != nil {
		return noFrame, c.readErr()
	}
	for c.rs.inMsg {
		c.rs.curLo, c.rs.curHi = 0, 0
		if c.rs.curEnd {
			c.rs.inMsg = false
			break
		}
		f, err := c.next()
		if err != nil {
			c.setReadErr(err)
			return noFrame, err
		}
		c.setCur(f.Payload, f.End)
	}
	c.releaseReadBuffer()
	f, err := c.next()
	if err != nil {
		c.setReadErr(err)
		return noFrame, err
	}
	c.rs.inMsg = true
	c.setCur(f.Payload, f.End)
	if f.Compressed {
		if err := c.inflate(f.Opcode); err != nil {
			c.setReadErr(err)
			return noFrame, err
		}
	}
	return int(f.Opcode), nil
}

// NextReader returns the next data message received from the peer. The
// returned messageType is either TextMessage or BinaryMessage.
//
// There can be at most one open reader on a connection. NextReader discards
// the previous message if the application has not already consumed it; the
// previous reader then returns io.EOF.
//
// Applications must break out of the application's read loop when this
// method returns a non-nil error value. Errors returned from this method are
// permanent. Once this method returns a non-nil error, all subsequent calls
// to this method return the same error.
func (c *Conn) NextReader() (messageType int, r io.Reader, err error) {
	if c.ev.Load() != nil {
		return noFrame, nil, errEvented
	}
	if err := c.waitIdle(); err != nil {
		return noFrame, nil, err
	}
	messageType, err = c.beginMessage()
	if err != nil {
		return noFrame, nil, err
	}
	return messageType, c.newReader(), nil
}

// readerBlock is how many readers newReader allocates at once.
const readerBlock = 16

// newReader returns a reader for the message just begun. Readers are
// allocated in blocks of readerBlock and never reused, so that a reader
// kept past its message can tell, by its sequence number, that it is
// stale.
//
// The connection holds its current block by a weak pointer only: a
// connection reading messages allocates once per readerBlock of them, and
// an idle one keeps no block past the next garbage collection (the
// readers the application still holds keep theirs alive; a collected
// block is replaced by a fresh one).
func (c *Conn) newReader() *messageReader {
	rs := c.rs
	block := rs.readers.Value()
	if block == nil || rs.nextReader == readerBlock {
		block = new([readerBlock]messageReader)
		rs.readers = weak.Make(block)
		rs.nextReader = 0
	}
	r := &block[rs.nextReader]
	rs.nextReader++
	r.c, r.seq = c, rs.readSeq
	return r
}

// messageReader reads one message; it returns io.EOF at its end, or once
// a later message has been begun.
type messageReader struct {
	c   *Conn
	seq uint32
}

func (r *messageReader) Read(b []byte) (int, error) {
	c := r.c
	if r.seq != c.rs.readSeq || !c.rs.inMsg {
		return 0, io.EOF
	}
	for c.rs.curLo == c.rs.curHi {
		if c.rs.curEnd {
			c.rs.inMsg = false
			c.releaseReadBuffer()
			return 0, io.EOF
		}
		if c.readErr() != nil {
			return 0, c.readErr()
		}
		f, err := c.next()
		if err != nil {
			c.setReadErr(err)
			return 0, err
		}
		c.setCur(f.Payload, f.End)
	}
	n := copy(b, c.cur())
	c.rs.curLo += int32(n)
	return n, nil
}

// ReadMessage is a helper method for getting a reader using NextReader and
// reading from that reader to a buffer. The returned slice is newly
// allocated and belongs to the caller.
func (c *Conn) ReadMessage() (messageType int, p []byte, err error) {
	if c.ev.Load() != nil {
		return noFrame, nil, errEvented
	}
	if err := c.waitIdle(); err != nil {
		return noFrame, nil, err
	}
	messageType, err = c.beginMessage()
	if err != nil {
		return noFrame, nil, err
	}
	if c.rs.curEnd {
		cur := c.cur()
		p = make([]byte, len(cur))
		copy(p, cur)
	} else {
		size := 2 * int(c.rs.curHi-c.rs.curLo)
		if h := c.rs.p.Frame(); h.Fin && h.Length <= 1<<20 {
			size = int(h.Length)
		}
		p = make([]byte, 0, max(size, 512))
		p = append(p, c.cur()...)
		for !c.rs.curEnd {
			f, err := c.next()
			if err != nil {
				c.setReadErr(err)
				c.rs.curLo, c.rs.curHi = 0, 0
				return messageType, p, err
			}
			c.setCur(f.Payload, f.End)
			p = append(p, c.cur()...)
		}
	}
	c.rs.curLo, c.rs.curHi, c.rs.inMsg = 0, 0, false
	c.rs.readSeq++
	c.releaseReadBuffer()
	return messageType, p, nil
}
