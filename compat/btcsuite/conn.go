package websocket

import (
	"errors"
	"io"
	"net"
	"strconv"
	"time"

	compat "github.com/lullws/lull/compat"
	"github.com/lullws/lull/compat/internal/hooks"
	"github.com/lullws/lull/frame"
)

// Close codes defined in RFC 6455, section 11.7.
const (
	CloseNormalClosure           = 1000
	CloseGoingAway               = 1001
	CloseProtocolError           = 1002
	CloseUnsupportedData         = 1003
	CloseNoStatusReceived        = 1005
	CloseAbnormalClosure         = 1006
	CloseInvalidFramePayloadData = 1007
	ClosePolicyViolation         = 1008
	CloseMessageTooBig           = 1009
	CloseMandatoryExtension      = 1010
	CloseInternalServerErr       = 1011
	CloseTLSHandshake            = 1015
)

// Message types (RFC 6455, section 11.8), as NextWriter, WriteMessage and
// WriteControl take them and NextReader and ReadMessage report them.
const (
	TextMessage   = 1  // a data message whose payload is UTF-8 text (not checked by this package)
	BinaryMessage = 2  // a data message whose payload is left to the application
	CloseMessage  = 8  // a control message ending the connection; see FormatCloseMessage
	PingMessage   = 9  // a control message asking for a pong with the same payload
	PongMessage   = 10 // a control message answering a ping
)

// ErrCloseSent is returned when the application writes a message to the
// connection after sending a close message. It is the same value as
// compat's ErrCloseSent.
var ErrCloseSent = compat.ErrCloseSent

// ErrReadLimit is returned when reading a message that is larger than the
// read limit set for the connection. It is the same value as compat's
// ErrReadLimit.
var ErrReadLimit = compat.ErrReadLimit

// closeError is what a read returns for a close frame other than 1000 and
// 1001 (which give io.EOF), and for a connection that ended without one.
type closeError struct {
	code int
	text string
}

func (e *closeError) Error() string {
	return "websocket: close " + strconv.Itoa(e.code) + " " + e.text
}

var (
	errUnexpectedEOF = &closeError{code: CloseAbnormalClosure, text: io.ErrUnexpectedEOF.Error()}
	errWriteTimeout  = &timeoutError{}
)

// timeoutError is the write timeout of WriteControl. Unlike compat's
// (gorilla's) it is not Temporary: btcsuite's never was.
type timeoutError struct{}

func (*timeoutError) Error() string   { return "websocket: write timeout" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return false }

var _ net.Error = errWriteTimeout

// Conn represents a WebSocket connection.
//
// It runs on compat's core (lull's engine): an idle connection holds no
// read or write buffer. The read methods (NextReader, SetReadDeadline,
// ReadMessage, ReadJSON) must be called from one goroutine at a time, and
// so must the write methods (NextWriter, SetWriteDeadline, WriteMessage,
// WriteJSON); one reader and one writer may run concurrently. Close and
// WriteControl may be called concurrently with all other methods.
type Conn struct {
	c *compat.Conn

	// The last error a read returned, as compat reported it and as it was
	// handed to the caller, so that a sticky error stays the same value.
	readIn, readOut error
}

func newConn(c *compat.Conn) *Conn {
	conn := &Conn{c: c}
	// btcsuite answers a close frame with an empty close frame, whatever
	// code it carried, and ignores a failure to send it.
	c.SetCloseHandler(func(code int, text string) error {
		c.WriteControl(CloseMessage, []byte{}, time.Now().Add(time.Second))
		return nil
	})
	conn.SetPingHandler(nil)
	return conn
}

// readError turns compat's read errors into btcsuite's: io.EOF for close
// 1000 and 1001, an error reading "websocket: close CODE TEXT" for the
// other close codes. Inside a message (the reader's Read), a normal close
// is an unexpected end of the message.
func (c *Conn) readError(err error, inMessage bool) error {
	if err == nil || err == io.EOF {
		return err
	}
	if err == c.readIn {
		return c.readOut
	}
	out := err
	if pe, ok := err.(*hooks.ProtocolError); ok {
		out = protocolError(pe)
	}
	if ce, ok := err.(*compat.CloseError); ok {
		switch {
		case ce.Code == CloseNormalClosure || ce.Code == CloseGoingAway:
			out = io.EOF
			if inMessage {
				out = errUnexpectedEOF
			}
		case ce.Code == CloseAbnormalClosure && ce.Text == errUnexpectedEOF.text:
			out = errUnexpectedEOF
		default:
			out = &closeError{code: ce.Code, text: ce.Text}
		}
	}
	if !inMessage {
		c.readIn, c.readOut = err, out
	}
	return out
}

// protocolError words a framing violation as btcsuite did. Violations
// btcsuite did not check (close codes, close reasons) keep compat's words.
func protocolError(pe *hooks.ProtocolError) error {
	var msg string
	switch pe.Frame {
	case frame.ErrReservedBits, frame.ErrCompressedCont:
		msg = "unexpected reserved bits"
		if pe.HeaderKnown {
			msg += " " + strconv.Itoa(int(pe.Header>>4&7))
		}
	case frame.ErrControlTooLong:
		msg = "control frame length > 125"
	case frame.ErrControlFragment:
		msg = "control frame not final"
	case frame.ErrExpectedCont:
		msg = "message start before final message frame"
	case frame.ErrUnexpectedCont:
		msg = "continuation after final message frame"
	case frame.ErrReservedOpcode:
		msg = "unknown opcode"
		if pe.HeaderKnown {
			msg += " " + strconv.Itoa(int(pe.Header&0x0f))
		}
	case frame.ErrMaskRequired, frame.ErrMaskForbidden:
		msg = "incorrect mask flag"
	default:
		return pe
	}
	return errors.New("websocket: " + msg)
}

// Subprotocol returns the negotiated protocol for the connection.
func (c *Conn) Subprotocol() string { return c.c.Subprotocol() }

// Close closes the underlying network connection without sending or waiting
// for a close frame.
func (c *Conn) Close() error { return c.c.Close() }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.c.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.c.RemoteAddr() }

// WriteControl writes a control message with the given deadline. The allowed
// message types are CloseMessage, PingMessage and PongMessage. A zero
// deadline means no timeout. If the deadline passes before the message is
// written, the error is a net.Error whose Timeout method reports true.
func (c *Conn) WriteControl(messageType int, data []byte, deadline time.Time) error {
	err := c.c.WriteControl(messageType, data, deadline)
	if ne, ok := err.(net.Error); ok && ne.Timeout() && err.Error() == errWriteTimeout.Error() {
		return errWriteTimeout
	}
	return err
}

// NextWriter begins a message of the given type and returns its writer;
// the writer's Close sends the message's last frame. A connection has one
// writer at a time: NextWriter first ends a previous message that is still
// open. After a close frame has been sent, the writer's Write and Close
// fail with ErrCloseSent. The writer belongs to one goroutine at a time.
func (c *Conn) NextWriter(messageType int) (io.WriteCloser, error) {
	w, err := c.c.NextWriter(messageType)
	if err == ErrCloseSent {
		// btcsuite hands out a writer and fails when the frame is sent.
		return closeSentWriter{}, nil
	}
	return w, err
}

// closeSentWriter is the writer of a message begun after a close frame.
type closeSentWriter struct{}

func (closeSentWriter) Write([]byte) (int, error) { return 0, ErrCloseSent }
func (closeSentWriter) Close() error              { return ErrCloseSent }

// WriteMessage sends data as one message of the given type: NextWriter,
// Write and Close in one call.
func (c *Conn) WriteMessage(messageType int, data []byte) error {
	return c.c.WriteMessage(messageType, data)
}

// SetWriteDeadline sets the time after which data-frame writes (from the
// writer of NextWriter, WriteMessage, WriteJSON) fail with a timeout; the
// zero time means no deadline. A failed write leaves the connection unable
// to write data. It always returns nil.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.c.SetWriteDeadline(t)
	return nil
}

// NextReader waits for the next data message and returns its type
// (TextMessage or BinaryMessage) and a reader of its payload. The unread
// rest of the previous message is discarded, and the previous reader then
// returns io.EOF.
//
// Ping and pong control messages received before the data message are
// passed to the handlers set with SetPingHandler and SetPongHandler. A close
// message ends the connection: NextReader returns io.EOF for close codes
// 1000 and 1001, and an error reading "websocket: close CODE TEXT" for any
// other. Errors are permanent: once NextReader returns one, every later call
// returns the same.
func (c *Conn) NextReader() (messageType int, r io.Reader, err error) {
	mt, r, err := c.c.NextReader()
	if err != nil {
		return mt, nil, c.readError(err, false)
	}
	return mt, &messageReader{c: c, r: r}, nil
}

// messageReader maps the errors of compat's message reader.
type messageReader struct {
	c *Conn
	r io.Reader
}

func (r *messageReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	return n, r.c.readError(err, true)
}

// ReadMessage reads the next data message whole: NextReader and
// io.ReadAll in one call.
func (c *Conn) ReadMessage() (messageType int, p []byte, err error) {
	messageType, r, err := c.NextReader()
	if err != nil {
		return messageType, nil, err
	}
	p, err = io.ReadAll(r)
	return messageType, p, err
}

// SetReadDeadline sets the read deadline of the network connection; the
// zero time means none. A read that times out leaves the connection unable
// to read: every later read returns the same error.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.c.SetReadDeadline(t) }

// SetReadLimit sets the largest message payload, in bytes, that reads
// accept (0: no limit). A longer message makes the connection send close
// 1009 and the read return ErrReadLimit, for good.
func (c *Conn) SetReadLimit(limit int64) { c.c.SetReadLimit(limit) }

// SetPingHandler sets the handler for ping messages received from the peer.
// The default handler, restored by h == nil, sends a pong with the same
// application data and ignores any failure to send it.
func (c *Conn) SetPingHandler(h func(string) error) {
	if h == nil {
		cc := c.c
		h = func(message string) error {
			cc.WriteControl(PongMessage, []byte(message), time.Now().Add(time.Second))
			return nil
		}
	}
	c.c.SetPingHandler(h)
}

// SetPongHandler sets the handler for pong messages received from the peer.
// The default handler, restored by h == nil, does nothing.
func (c *Conn) SetPongHandler(h func(string) error) { c.c.SetPongHandler(h) }

// UnderlyingConn returns the network connection, as hijacked from net/http
// or given to NewClient.
func (c *Conn) UnderlyingConn() net.Conn { return c.c.UnderlyingConn() }

// FormatCloseMessage formats closeCode and text as a WebSocket close
// message: two bytes of code followed by the text, always (unlike compat's,
// which returns an empty payload for CloseNoStatusReceived).
func FormatCloseMessage(closeCode int, text string) []byte {
	buf := make([]byte, 2+len(text))
	buf[0], buf[1] = byte(closeCode>>8), byte(closeCode)
	copy(buf[2:], text)
	return buf
}
