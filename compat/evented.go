package websocket

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// Events are the callbacks of a connection served by ServeEvents.
//
// They are called one at a time per connection, in the order of events on
// the wire, on one of lull's event loops: a callback must not block, since
// the loop serves many connections. Hand long work to a goroutine.
// Writing to the connection (WriteMessage, NextWriter, WriteControl) from a
// callback is fine: writes never wait for the peer (see ServeEvents).
type Events struct {
	// OnMessage is called for each data message, with TextMessage or
	// BinaryMessage. data is valid only during the call: copy it to keep
	// it.
	OnMessage func(c *Conn, messageType int, data []byte)

	// OnClose is called once, when the connection has ended, with the
	// error a read method would have returned: a *CloseError when the peer
	// sent a close message (or, code 1006, when the connection dropped
	// without one), ErrReadLimit, or another error. The connection is
	// closed when OnClose runs.
	OnClose func(c *Conn, err error)
}

// errEvented is returned by the read methods of a connection whose reads
// have been handed to ServeEvents.
var errEvented = errors.New("websocket: the connection's reads are served by ServeEvents")

// evented is the state of a connection served by an engine.
type evented struct {
	ec     *engine.Conn
	events Events
	failed error        // a handler's error, reported to OnClose
	conn   detachedConn // what NetConn returns from then on
}

var (
	eventsOnce   sync.Once
	eventsEngine *engine.Engine
	eventsErr    error
)

// eventLoops returns the engine that serves every evented connection of
// the process, starting it on first use.
func eventLoops() (*engine.Engine, error) {
	eventsOnce.Do(func() {
		eventsEngine, eventsErr = engine.New(engine.Config{
			MaxMessageSize: -1, // each connection has its own (SetReadLimit)
			NoAutoPong:     true,
			SkipUTF8:       true,
			OnMessage:      onEventMessage,
			OnPing:         onEventPing,
			OnPong:         onEventPong,
			OnClose:        onEventClose,
		})
	})
	return eventsEngine, eventsErr
}

func onEventMessage(ec *engine.Conn, op frame.Opcode, data []byte) {
	c := ec.UserData().(*Conn)
	if h := c.ev.Load().events.OnMessage; h != nil {
		h(c, int(op), data)
	}
}

func onEventPing(ec *engine.Conn, data []byte) {
	c := ec.UserData().(*Conn)
	var err error
	if c.pingH() != nil {
		err = c.pingH()(string(data))
	} else {
		err = ec.Pong(data)
		if err == engine.ErrClosed || err == engine.ErrWriteQueueFull {
			err = nil
		}
	}
	if err != nil {
		c.ev.Load().fail(ec, err)
	}
}

func onEventPong(ec *engine.Conn, data []byte) {
	c := ec.UserData().(*Conn)
	if c.pongH() != nil {
		if err := c.pongH()(string(data)); err != nil {
			c.ev.Load().fail(ec, err)
		}
	}
}

func onEventClose(ec *engine.Conn, err error) {
	c := ec.UserData().(*Conn)
	ev := c.ev.Load()
	if ev.failed != nil {
		err = ev.failed
	} else {
		var ce *engine.CloseError
		var fe *frame.Error
		switch {
		case errors.As(err, &ce):
			if ce.Remote && c.closeH() != nil {
				// The engine has already answered; the handler still
				// sees the close message.
				if herr := c.closeH()(int(ce.Code), ce.Reason); herr != nil {
					err = herr
					break
				}
			}
			if !ce.Remote && ce.Code == frame.CloseMessageTooBig {
				err = ErrReadLimit // the engine refused a message over the limit
				break
			}
			err = &CloseError{Code: int(ce.Code), Text: ce.Reason}
		case errors.As(err, &fe):
			if fe == frame.ErrMessageTooBig || fe == frame.ErrLengthOverflow {
				err = ErrReadLimit
			} else {
				err = errors.New("websocket: " + fe.Reason)
			}
		case err == nil, err == io.EOF, errors.Is(err, io.ErrUnexpectedEOF):
			err = errUnexpectedEOF
		}
	}
	c.setReadErr(err)
	if h := ev.events.OnClose; h != nil {
		h(c, err)
	}
}

// fail ends the connection because a handler returned err.
func (ev *evented) fail(ec *engine.Conn, err error) {
	if ev.failed == nil {
		ev.failed = err
	}
	ec.Abort()
}

func (ev *evented) close(c *Conn) error {
	c.wmu.Lock() // ServeEvents sets ec with wmu held; evented writes never block
	ec := ev.ec
	c.wmu.Unlock()
	if ec != nil {
		ec.Abort()
	}
	return nil
}

// write sends one whole frame through the engine: data messages whole
// (the message writer keeps a message together until it is closed),
// control frames as they come.
func (ev *evented) write(op frame.Opcode, fin bool, payload []byte) error {
	var err error
	switch op {
	case frame.OpPing:
		err = ev.ec.Ping(payload)
	case frame.OpPong:
		err = ev.ec.Pong(payload)
	case frame.OpClose:
		code, reason, perr := frame.ParseClose(payload)
		if perr != nil {
			return perr
		}
		err = ev.ec.Close(code, string(reason))
	default:
		err = ev.ec.WriteMessage(op, payload)
	}
	if err == engine.ErrClosed {
		err = ErrCloseSent
	}
	return err
}

// ServeEvents hands the connection's reads to lull's event loops: from
// now on every message received goes to events.OnMessage, and the end of
// the connection to events.OnClose, with no goroutine waiting for them. An
// idle evented connection costs a few hundred bytes and no goroutine.
//
// The handlers set with SetPingHandler, SetPongHandler and SetCloseHandler
// are called from the loops too (the default ping handler answers with a
// pong, and a close message is always answered with one echoing its code).
// The read limit set with SetReadLimit applies, and so does
// EnableTextValidation. The read methods
// (NextReader, ReadMessage, ReadJSON) fail from then on; the write methods
// keep working, from any goroutine and from the callbacks, but they no
// longer wait for the peer: what the socket does not take at once is
// queued (up to 4 MiB, beyond which writes fail), a message written with
// NextWriter is sent whole when its writer is closed, and SetWriteDeadline
// has no effect. Close closes the connection at once, as before.
//
// ServeEvents must be called from the goroutine that reads, between
// messages: typically right after Upgrade or Dial. On a connection that is
// not a plain TCP or Unix socket (TLS, for one) the same events are
// delivered by a goroutine that reads in the blocking style.
func (c *Conn) ServeEvents(events Events) error {
	if c.ev.Load() != nil {
		return errors.New("websocket: ServeEvents called twice")
	}
	if c.readErr() != nil {
		return c.readErr()
	}
	if c.rs == nil || c.rs.inMsg || !c.rs.p.AtBoundary() {
		return errors.New("websocket: ServeEvents called in the middle of a message")
	}
	if c.raw == nil {
		go c.serveBlocking(events)
		return nil
	}
	e, err := eventLoops()
	if err != nil {
		go c.serveBlocking(events)
		return nil
	}
	c.msgMu.Lock()
	defer c.msgMu.Unlock()
	if c.writer != nil {
		c.writer.closeLocked()
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var buffered []byte
	if c.rs.rbuf != nil {
		buffered = (*c.rs.rbuf)[c.rs.rpos:c.rs.rend]
	}
	limit := c.rs.p.MaxMessageSize
	if limit == 0 {
		limit = -1
	}
	ev := &evented{events: events}
	c.ev.Store(ev)
	res := upgrade.Result{Subprotocol: c.subprotocolName()}
	if c.deflate {
		res.Deflate = true
		res.DeflateParams = upgrade.DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
		if c.compressLevel == smallWindowLevel {
			res.DeflateParams.ClientMaxWindowBits = 8 // the engine compresses Huffman-only
		}
	}
	ec, err := e.AdoptWith(c.conn, buffered, res,
		&engine.AdoptOptions{Client: !c.isServer, UserData: c, MaxMessageSize: limit, CheckUTF8: !c.rs.p.SkipUTF8})
	if c.rs.rbuf != nil {
		putBuf(c.rs.rbuf)
		c.rs.rbuf, c.rs.rpos, c.rs.rend = nil, 0, 0
	}
	if err != nil {
		c.ev.Store(nil)
		c.setReadErr(err)
		return err
	}
	ev.ec = ec
	// The engine owns the socket now: keep only what the methods that
	// remain need.
	d := &ev.conn
	d.ec = ec
	if _, ok := c.conn.(*net.TCPConn); !ok {
		d.laddr, d.raddr = c.conn.LocalAddr(), c.conn.RemoteAddr()
	}
	c.conn = d
	c.raw = nil
	c.rs = nil
	return nil
}

// detachedConn stands for the net.Conn of a connection handed to the
// engine (NetConn returns it): it reports the addresses (the engine's, for
// TCP), and reading or writing it fails.
type detachedConn struct {
	ec           *engine.Conn
	laddr, raddr net.Addr // kept for Unix sockets
}

var errDetached = errors.New("websocket: the connection's socket belongs to lull's event loops (ServeEvents)")

func (d *detachedConn) Read([]byte) (int, error)  { return 0, errDetached }
func (d *detachedConn) Write([]byte) (int, error) { return 0, errDetached }
func (d *detachedConn) Close() error              { return nil }
func (d *detachedConn) LocalAddr() net.Addr {
	if d.laddr != nil {
		return d.laddr
	}
	return net.TCPAddrFromAddrPort(d.ec.LocalAddr())
}

func (d *detachedConn) RemoteAddr() net.Addr {
	if d.raddr != nil {
		return d.raddr
	}
	return net.TCPAddrFromAddrPort(d.ec.RemoteAddr())
}
func (d *detachedConn) SetDeadline(time.Time) error      { return nil }
func (d *detachedConn) SetReadDeadline(time.Time) error  { return nil }
func (d *detachedConn) SetWriteDeadline(time.Time) error { return nil }

// serveBlocking delivers a blocking connection's messages to events.
func (c *Conn) serveBlocking(events Events) {
	for {
		mt, p, err := c.ReadMessage()
		if err != nil {
			c.conn.Close()
			if events.OnClose != nil {
				events.OnClose(c, err)
			}
			return
		}
		if events.OnMessage != nil {
			events.OnMessage(c, mt, p)
		}
	}
}

// UpgradeEvented upgrades the HTTP server connection to the WebSocket
// protocol, as Upgrade does, and hands it to ServeEvents.
func (u *Upgrader) UpgradeEvented(w http.ResponseWriter, r *http.Request, responseHeader http.Header, events Events) (*Conn, error) {
	c, err := u.upgrade(w, r, responseHeader, true)
	if err != nil {
		return nil, err
	}
	if err := c.ServeEvents(events); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
