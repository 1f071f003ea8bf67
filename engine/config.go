package engine

import (
	"errors"
	"log"
	"runtime"
	"time"

	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// Defaults for the zero values of Config's fields.
const (
	DefaultMaxMessageSize   = 64 << 20 // fits the 16 MiB messages of Autobahn 9.x with room to spare
	DefaultWriteQueueLimit  = 4 << 20
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultCloseTimeout     = 2 * time.Second
	DefaultReadBufferSize   = 64 << 10
)

// Config configures an Engine. The zero value is usable: every zero field
// takes the default its comment names. A Config must not be modified after
// it is passed to New.
type Config struct {
	// Loops is the number of event loops; 0 means runtime.GOMAXPROCS(0).
	Loops int

	// ReusePort makes Listen open one listening socket per loop with
	// SO_REUSEPORT, so that the kernel spreads new connections over the
	// loops. Without it one socket is opened and its connections are dealt
	// to the loops in turn.
	ReusePort bool

	// ReadBufferSize is the size of each loop's read buffer; 0 means
	// DefaultReadBufferSize. It bounds how much one read takes from a
	// socket, not the size of a message.
	ReadBufferSize int

	// MaxMessageSize is the largest data message accepted, in payload bytes
	// summed over its frames; a larger one fails the connection with 1009.
	// 0 means DefaultMaxMessageSize; a negative value means no limit.
	MaxMessageSize int64

	// WriteQueueLimit bounds the bytes queued for a connection whose socket
	// is not taking them. A write that finds the queue at or over the limit
	// returns ErrWriteQueueFull and queues nothing; a write that finds it
	// under the limit is queued whole, so the queue never exceeds the limit
	// by more than one message. 0 means DefaultWriteQueueLimit.
	WriteQueueLimit int

	// HandshakeTimeout bounds the opening handshake, from accept (or
	// connect) to the end of the upgrade; 0 means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration

	// ReadTimeout closes a connection from which nothing has been read for
	// this long (with close code 1001); 0 means no idle timeout.
	ReadTimeout time.Duration

	// WriteTimeout closes a connection whose write queue has not drained
	// for this long: its peer is not reading. 0 means no write timeout.
	WriteTimeout time.Duration

	// PingInterval sends a ping on every open connection this often, to
	// keep intermediaries from dropping idle connections and, with
	// ReadTimeout, to detect dead peers. 0 means no heartbeat.
	PingInterval time.Duration

	// CloseTimeout bounds the wait for the peer's half of the close
	// handshake, and a client's wait for the server to close TCP; 0 means
	// DefaultCloseTimeout.
	CloseTimeout time.Duration

	// Workers, when positive, runs the handlers on that many worker
	// goroutines instead of on the loops; the handlers of one connection
	// still run one at a time, in order. Messages are then copied into
	// pooled buffers for the handler. Use it when handlers may block.
	// Each worker queues up to 1024 calls, with their payloads; a loop
	// that finds the queue full waits, so a handler that blocks for long
	// stalls, in the end, the loops that feed its worker, and the queued
	// payloads are bounded by 1024 times MaxMessageSize per worker.
	Workers int

	// ErrorLog receives errors the engine cannot return to a caller (a
	// failed accept, say). Nil means the log package's standard logger.
	ErrorLog *log.Logger

	// Upgrade configures the server's opening handshake: limits, origin
	// policy, subprotocols and extensions.
	Upgrade upgrade.Server

	// Compression configures permessage-deflate for the connections that
	// negotiate it (Upgrade.Deflate on the server, DialOptions.Deflate on
	// the client): level, threshold and context takeover.
	Compression Compression

	// NoAutoPong stops the engine from answering pings; OnPing then decides.
	NoAutoPong bool

	// SkipUTF8 stops the engine from checking that text messages are valid
	// UTF-8, for callers that promise their users no validation (the compat
	// package, like gorilla/websocket, leaves it to the application).
	// Close reasons are checked regardless.
	SkipUTF8 bool

	// OnOpen is called once the handshake is done, before any message.
	//
	// OnOpen and the handlers below run on the connection's loop
	// goroutine, or on a worker when Workers is set; those of one
	// connection run one at a time, in order. A handler that blocks on a
	// loop stalls every connection of that loop: hand slow work to another
	// goroutine, or set Workers.
	OnOpen func(c *Conn)

	// OnMessage is called for each complete data message: op is
	// frame.OpText (valid UTF-8, checked unless SkipUTF8 is set) or
	// frame.OpBinary; a compressed message arrives inflated. data is valid
	// only during the call (it may be the loop's read buffer): copy what
	// must outlive it. Writing data back (WriteMessage) during the call is
	// safe, as WriteMessage does not retain it.
	OnMessage func(c *Conn, op frame.Opcode, data []byte)

	// OnPing is called for each ping, after the automatic pong unless
	// NoAutoPong is set. data is valid only during the call.
	OnPing func(c *Conn, data []byte)

	// OnPong is called for each pong. data is valid only during the call.
	OnPong func(c *Conn, data []byte)

	// OnClose is called once per connection that OnOpen was called for,
	// when it is closed: err is a *CloseError when a close frame was
	// received or sent, otherwise the error that ended the connection.
	OnClose func(c *Conn, err error)
}

func (c *Config) loops() int {
	if c.Loops > 0 {
		return c.Loops
	}
	return runtime.GOMAXPROCS(0)
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func intOr(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

func (c *Config) maxMessageSize() int64 {
	switch {
	case c.MaxMessageSize == 0:
		return DefaultMaxMessageSize
	case c.MaxMessageSize < 0:
		return 0 // the parser's "no limit"
	}
	return c.MaxMessageSize
}

// Errors returned by Conn's methods and the Engine.
var (
	// ErrClosed: the connection is closed, or a close frame has been sent
	// and no more data may follow it.
	ErrClosed = errors.New("engine: connection closed")

	// ErrNotOpen: the opening handshake has not finished.
	ErrNotOpen = errors.New("engine: connection not open yet: write from OnOpen on (or once Dial or Adopt has returned)")

	// ErrWriteQueueFull: the connection's write queue is at
	// Config.WriteQueueLimit because its peer is not reading fast enough.
	// Nothing was queued; drop the message or close the connection.
	ErrWriteQueueFull = errors.New("engine: write queue full: the peer is not reading; drop the message, retry later or close")

	// ErrEngineClosed: the engine has been shut down.
	ErrEngineClosed = errors.New("engine: engine closed (Close or Shutdown was called)")

	// ErrControlTooLong: a ping, pong or close payload over 125 bytes.
	ErrControlTooLong = errors.New("engine: control frame payload longer than 125 bytes")

	// ErrBadOpcode: WriteMessage was given an opcode other than text or
	// binary.
	ErrBadOpcode = errors.New("engine: WriteMessage needs frame.OpText or frame.OpBinary")

	// ErrFragmentOpen: a message begun with WriteFragment has not ended;
	// no other message may start until its last fragment is sent.
	ErrFragmentOpen = errors.New("engine: a message is being sent in fragments: end it (WriteFragment with fin) before sending another")

	// ErrNoFragmentOpen: WriteFragment was given frame.OpContinuation
	// with no fragmented message begun.
	ErrNoFragmentOpen = errors.New("engine: continuation fragment without a message begun by WriteFragment with frame.OpText or frame.OpBinary")

	// ErrReadTimeout, ErrWriteTimeout, ErrHandshakeTimeout: the timeouts of
	// Config, as reported to OnClose.
	ErrReadTimeout      = errors.New("engine: read idle timeout")
	ErrWriteTimeout     = errors.New("engine: write timeout: the peer stopped reading")
	ErrHandshakeTimeout = errors.New("engine: opening handshake timed out")
	ErrCloseTimeout     = errors.New("engine: close handshake timed out")
)

// CloseError reports a closed WebSocket connection: the close code and
// reason received from the peer (Remote true) or sent to it.
type CloseError struct {
	Code   frame.CloseCode
	Reason string
	Remote bool
}

func (e *CloseError) Error() string {
	who := "sent"
	if e.Remote {
		who = "received"
	}
	if e.Reason == "" {
		return "engine: close " + who + ": " + e.Code.String()
	}
	return "engine: close " + who + ": " + e.Code.String() + ": " + e.Reason
}
