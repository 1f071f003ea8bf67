package websocket

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/lullws/lull/compat/internal/hooks"
	"github.com/lullws/lull/frame"
)

// rawRead is the callback given to syscall.RawConn.Read: it reads what the
// socket has into a pooled buffer and reports false (wait for readability)
// when it has nothing, so that a goroutine waiting for a message holds no
// buffer.
func (c *Conn) rawRead(fd uintptr) bool {
	b := c.rbuf
	if b == nil {
		b = getBuf(c.readBufSize)
	}
	for {
		n, err := syscall.Read(int(fd), (*b)[c.rend:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			if c.rbuf == nil {
				putBuf(b)
			}
			return false
		case err != nil:
			c.rawErr = &net.OpError{Op: "read", Net: c.conn.LocalAddr().Network(),
				Source: c.conn.LocalAddr(), Addr: c.conn.RemoteAddr(), Err: os.NewSyscallError("read", err)}
		case n == 0:
			c.rawErr = io.EOF
		default:
			c.rbuf = b
			c.rawN = n
			return true
		}
		if c.rbuf == nil {
			putBuf(b)
		}
		return true
	}
}

// fill reads more bytes from the connection once every buffered byte has
// been consumed.
func (c *Conn) fill() error {
	c.rpos, c.rend = 0, 0
	if c.raw != nil {
		if c.rbuf != nil {
			putBuf(c.rbuf) // hold nothing while waiting
			c.rbuf = nil
		}
		c.rawN, c.rawErr = 0, nil
		if err := c.raw.Read(c.rawFn); err != nil {
			return err
		}
		if c.rawErr != nil {
			return c.rawErr
		}
		c.rend = c.rawN
		return nil
	}
	if c.rbuf == nil {
		c.rbuf = getBuf(c.readBufSize)
	}
	for {
		n, err := c.conn.Read((*c.rbuf)[:c.readBufSize])
		if n > 0 {
			c.rend = n
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
	if c.rbuf != nil && c.rpos == c.rend && len(c.cur) == 0 {
		putBuf(c.rbuf)
		c.rbuf = nil
		c.rpos, c.rend = 0, 0
	}
}

// next returns the next fragment of a data message, handling the control
// frames before it.
func (c *Conn) next() (frame.Fragment, error) {
	for {
		if c.rpos == c.rend {
			if err := c.fill(); err != nil {
				if err == io.EOF {
					return frame.Fragment{}, errUnexpectedEOF
				}
				return frame.Fragment{}, hideTempErr(err)
			}
		}
		start := c.rpos
		f, n, ok, err := c.p.Next((*c.rbuf)[c.rpos:c.rend])
		c.rpos += n
		if err != nil {
			return frame.Fragment{}, c.protocolError(err, (*c.rbuf)[start:c.rend])
		}
		if !ok {
			c.rpos = c.rend
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
		if f.Start {
			if c.ctl == nil {
				c.ctl = make([]byte, 0, maxControlPayload)
			}
			c.ctl = c.ctl[:0]
		}
		c.ctl = append(c.ctl, f.Payload...)
		if !f.End {
			return nil
		}
		payload = c.ctl
	}
	switch f.Opcode {
	case frame.OpPing:
		if c.handlePing != nil {
			return c.handlePing(string(payload))
		}
		return c.defaultPingHandler(string(payload))
	case frame.OpPong:
		if c.handlePong != nil {
			return c.handlePong(string(payload))
		}
		return nil
	case frame.OpClose:
		code, reason, _ := frame.ParseClose(payload) // the parser has validated it
		text := string(reason)
		var err error
		if c.handleClose != nil {
			err = c.handleClose(int(code), text)
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
	}
	pe := hooks.NewProtocolError(fe, b, c.p.Compression)
	data := FormatCloseMessage(CloseProtocolError, strings.TrimPrefix(pe.Text, "websocket: "))
	if len(data) > maxControlPayload {
		data = data[:maxControlPayload]
	}
	c.WriteControl(CloseMessage, data, time.Now().Add(writeWait))
	return pe
}

// beginMessage skips what is left of the current message and reads up to
// the first fragment of the next data message, which it leaves in c.cur.
func (c *Conn) beginMessage() (int, error) {
	c.readSeq++
	if c.readErr != nil {
		return noFrame, c.readErr
	}
	for c.inMsg {
		c.cur = nil
		if c.curEnd {
			c.inMsg = false
			break
		}
		f, err := c.next()
		if err != nil {
			c.readErr = err
			return noFrame, err
		}
		c.cur, c.curEnd = f.Payload, f.End
	}
	c.releaseReadBuffer()
	f, err := c.next()
	if err != nil {
		c.readErr = err
		return noFrame, err
	}
	c.inMsg, c.cur, c.curEnd = true, f.Payload, f.End
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
	messageType, err = c.beginMessage()
	if err != nil {
		return noFrame, nil, err
	}
	return messageType, c.newReader(), nil
}

// readerBlock is how many readers newReader allocates at once.
const readerBlock = 16

// newReader returns a reader for the message just begun. Readers are
// allocated in blocks and never reused, so that a reader kept past its
// message can tell, by its sequence number, that it is stale.
func (c *Conn) newReader() *messageReader {
	if len(c.readers) == 0 {
		c.readers = make([]messageReader, readerBlock)
	}
	r := &c.readers[0]
	c.readers = c.readers[1:]
	r.c, r.seq = c, c.readSeq
	return r
}

// messageReader reads one message; it returns io.EOF at its end, or once
// a later message has been begun.
type messageReader struct {
	c   *Conn
	seq uint64
}

func (r *messageReader) Read(b []byte) (int, error) {
	c := r.c
	if r.seq != c.readSeq || !c.inMsg {
		return 0, io.EOF
	}
	for len(c.cur) == 0 {
		if c.curEnd {
			c.inMsg = false
			c.releaseReadBuffer()
			return 0, io.EOF
		}
		if c.readErr != nil {
			return 0, c.readErr
		}
		f, err := c.next()
		if err != nil {
			c.readErr = err
			return 0, err
		}
		c.cur, c.curEnd = f.Payload, f.End
	}
	n := copy(b, c.cur)
	c.cur = c.cur[n:]
	return n, nil
}

// ReadMessage is a helper method for getting a reader using NextReader and
// reading from that reader to a buffer. The returned slice is newly
// allocated and belongs to the caller.
func (c *Conn) ReadMessage() (messageType int, p []byte, err error) {
	if c.ev.Load() != nil {
		return noFrame, nil, errEvented
	}
	messageType, err = c.beginMessage()
	if err != nil {
		return noFrame, nil, err
	}
	if c.curEnd {
		p = make([]byte, len(c.cur))
		copy(p, c.cur)
	} else {
		size := 2 * len(c.cur)
		if h := c.p.Frame(); h.Fin && h.Length <= 1<<20 {
			size = int(h.Length)
		}
		p = make([]byte, 0, max(size, 512))
		p = append(p, c.cur...)
		for !c.curEnd {
			f, err := c.next()
			if err != nil {
				c.readErr = err
				c.cur = nil
				return messageType, p, err
			}
			c.cur, c.curEnd = f.Payload, f.End
			p = append(p, c.cur...)
		}
	}
	c.cur, c.inMsg = nil, false
	c.readSeq++
	c.releaseReadBuffer()
	return messageType, p, nil
}
