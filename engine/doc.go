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
// request and hands the connection over (Adopt), or from Dial. AdoptWith
// also takes over client connections whose handshake was made elsewhere,
// with user data attached before OnOpen and a message size limit of their
// own: it is how package compat hands a connection to the loops.
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
// reused as soon as the handler returns. Copy it to keep it. OnOpen is
// called once per connection before any other handler of it; OnClose once
// per connection that OnOpen was called for, last.
//
// With Config.Workers, handlers run on that many worker goroutines; a
// connection is pinned to one worker, so its handlers still run one at a
// time and in order. Payloads are then copied into pooled buffers for the
// handler (valid during the call, as above). Each worker queues at most
// 1,024 calls; a loop that finds the queue full waits, which slows the
// reading of every connection of that loop: backpressure from slow
// handlers to the network.
//
// # Writing
//
// Conn's write methods are safe to call from any goroutine, concurrently,
// including from handlers; each message is written whole. The caller's
// buffer is never retained: a write goes straight to the socket when the
// socket accepts it, and what the socket does not take is copied to a
// pooled buffer and written when the socket becomes writable again (the
// buffer returns to the pool once drained). Client connections mask a
// pooled copy, never the caller's bytes.
//
// Each connection's queue is bounded by Config.WriteQueueLimit (default
// 4 MiB): a write that finds that many bytes queued fails with
// ErrWriteQueueFull, queues nothing and leaves the connection open, so a
// peer that never reads cannot make the server buffer without end. What
// to do then (drop the message, retry later, Close) is the caller's
// choice; Close's frame is queued past the limit. Config.WriteTimeout
// closes a connection whose queue has not drained for that long.
// Conn.Buffered reports the bytes queued.
//
// To send one message to many connections, frame it once with NewPrepared
// and send it with WritePrepared or Broadcast.
//
// # Compression
//
// permessage-deflate (RFC 7692) is negotiated per connection: on the
// server when Config.Upgrade.Deflate holds a policy (its zero value suits
// compress/flate: no context takeover either way), on the client with the
// offers of DialOptions.Deflate (DeflateOffer is the usual one).
// Conn.Compressed reports the outcome. Messages of at least
// Config.Compression.Threshold bytes (128 by default) are sent compressed
// at Config.Compression.Level (1 by default); Conn.SetWriteCompression
// and Conn.SetCompressionLevel change that per connection. A Prepared
// message is compressed once per level in use and the compressed frame
// reused. Stats counts the messages received and sent compressed. The
// engine can honour any window size: a peer that asks for a window under
// 15 bits gets messages compressed with frame.HuffmanOnly, which has no
// back-references, so a server may set DeflatePolicy.MinServerWindowBits
// to 8 to accept such offers instead of declining them.
//
// Compressors and decompressors come from pools and are held only while a
// message is compressed or inflated, so an idle compressed connection
// costs what an uncompressed one costs. Context takeover, when the peer
// keeps its context, costs a 32 KiB window and a decompressor (about
// 76 KiB) per connection; keeping one's own (Compression.ContextTakeover)
// a compressor of about 1 MiB. The connection's read limit
// (Config.MaxMessageSize, or AdoptOptions.MaxMessageSize) applies to the
// inflated size: inflating stops as soon as it is passed (1009), whatever
// the compression ratio; Config.SkipUTF8 covers inflated text too.
// Inflating a large message allocates a few small tables inside
// compress/flate (see frame.Inflater.Append); everything else is pooled. Corrupt compressed data fails with 1007, RSV1
// on a continuation or control frame, or without negotiation, with 1002.
//
// # Closing
//
// A connection goes from the opening handshake to open, then closing, then
// closed. The close handshake follows RFC 6455 §5.5.1 and §7: a close
// frame from the peer is answered with a close frame echoing its code;
// then a server closes TCP first (it flushes its queue, shuts down its
// sending side and reads until the peer's FIN) and a client waits for the
// server to close; both waits are bounded by Config.CloseTimeout. Conn.Close
// starts the handshake from this side. A protocol violation fails the
// connection: a close frame with the code the violation calls for (1002,
// 1007 or 1009), nothing after the offending frame (no echo, no pong),
// then the end of TCP as above. Text messages are checked as UTF-8 while
// they arrive, so an invalid byte fails the connection at once, before the
// rest of the message.
//
// Shutdown stops accepting, sends 1001 to every open connection and waits
// for the close handshakes until its context ends.
//
// # Timers
//
// Timeouts (Config.HandshakeTimeout, ReadTimeout, WriteTimeout,
// PingInterval, CloseTimeout) run on a timing wheel per loop with 100 ms
// ticks: no goroutine or runtime timer per connection, and O(1) work per
// connection to arm, reset or cancel. A timeout never fires early, and up to
// two ticks late.
//
// # Platforms
//
// Event loops need epoll or kqueue. On other systems (Windows) the package
// builds, but New returns poller.ErrNotSupported: there is no fallback to a
// goroutine per connection in this package.
package engine
