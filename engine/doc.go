// Package engine serves and dials WebSocket connections on event loops:
// edge-triggered epoll (Linux) or kqueue (macOS, FreeBSD) through package
// poller, so that an idle connection costs neither a goroutine nor a buffer.
//
// # Model
//
// An Engine runs Config.Loops event loops, each owning a poller and a share
// of the connections. A loop reads a connection only when the kernel says it
// is readable, into a read buffer the loop owns, until the socket is
// drained (or a fairness cap is reached, after which the other connections
// get their turn). A connection keeps bytes between reads only for an
// incomplete frame or message, in a pooled buffer it gives back as soon as
// the message completes: an idle connection holds no buffer at all.
//
// Connections come from a listening socket the engine opens (Listen,
// optionally one per loop with SO_REUSEPORT), from a net.Listener the caller
// passes in (Serve), from an existing net/http server that upgraded a
// request and hands the connection over (Adopt), or from Dial.
//
// # Handlers
//
// The Config's handler functions are called on the connection's loop, or on
// a bounded pool of worker goroutines when Config.Workers is set. Either
// way, the handlers of one connection are called one at a time and in the
// order of events on the wire. A handler that runs on the loop must not
// block: the loop serves many connections.
//
// The payload passed to OnMessage, OnPing and OnPong is valid only during
// the call: it aliases the loop's read buffer or a pooled buffer that is
// reused as soon as the handler returns. Copy it to keep it.
//
// # Writing
//
// Conn's write methods are safe to call from any goroutine, concurrently.
// A write goes straight to the socket when the socket accepts it; what the
// socket does not take is queued in a pooled buffer and written when the
// socket becomes writable again. Each connection's queue is bounded by
// Config.WriteQueueLimit: a write that finds the queue over the limit fails
// with ErrWriteQueueFull and queues nothing, so a peer that never reads
// cannot make the server buffer without end. What to do then (drop the
// message, or close the connection) is the caller's choice.
//
// # Closing
//
// The close handshake follows RFC 6455 §5.5.1 and §7: a close frame from the
// peer is answered with a close frame echoing its code, after which a server
// closes TCP at once and a client waits for the server to do so (at most
// Config.CloseTimeout). A protocol violation fails the connection: a close
// frame with the code the violation calls for (1002, 1007 or 1009), nothing
// after the offending frame (no echo, no pong), then TCP is closed.
//
// # Platforms
//
// Event loops need epoll or kqueue. On other systems (Windows) New returns
// poller.ErrNotSupported; the compat package serves connections there with a
// goroutine per connection instead.
package engine
