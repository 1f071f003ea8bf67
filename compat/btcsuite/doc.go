// Package websocket (import path github.com/lullws/lull/compat/btcsuite) is
// github.com/btcsuite/websocket on lull: the 2015 snapshot of
// gorilla/websocket that btcd, dcrd and their relatives import, with
// exactly its exported API and its behaviour, running on the same core as
// lull's gorilla-compatible package compat. Changing the import path is the
// only change a btcsuite program needs:
//
//	import "github.com/lullws/lull/compat/btcsuite"
//
// The package name stays websocket.
//
// # What is btcsuite's here
//
// The exported names, their signatures and the fields of Dialer and
// Upgrader in btcsuite's order (unkeyed composite literals compile), and
// the behaviour its callers see:
//
//   - A close frame with code 1000 or 1001 makes reads return io.EOF; any
//     other code gives an error reading "websocket: close CODE TEXT"; a
//     connection that ends without one gives "websocket: close 1006
//     unexpected EOF". The connection answers a close frame with an empty
//     close frame.
//   - HandshakeError is a value type (err.(websocket.HandshakeError)).
//     Upgrader.Upgrade makes btcsuite's checks in its order (version,
//     Connection, Upgrade, origin compared exactly, key; no method check)
//     and answers failures with http.Error or Upgrader.Error. The
//     package-level Upgrade checks no origin and writes no error response.
//   - Dial accepts only lower-case ws:// and wss:// URLs ("malformed ws or
//     wss URL" otherwise), writes requestHeader lines as given, and returns
//     ErrBadHandshake together with the server's response. DefaultDialer
//     is nil, and Dial works on a nil *Dialer.
//   - ReadJSON on an empty message returns io.EOF. The write timeout of
//     WriteControl is a net.Error that is not Temporary. The default ping
//     handler ignores a failure to send its pong. NewClient does not look
//     at the URL's scheme. Text messages are not checked for UTF-8.
//   - ErrCloseSent, ErrReadLimit and ErrBadHandshake are the same values
//     as compat's.
//
// # What is lull's
//
// Frames are read, written and checked by lull's core, as in compat: an
// idle connection holds no read or write buffer (its goroutine waits in
// Go's network poller), buffer sizes only size pooled buffers, and
// messages of any size pass. On the wire it is stricter than btcsuite was,
// because RFC 6455 requires it: a close frame with an invalid code or a
// reason that is not UTF-8 fails the connection with 1002, a frame length
// with its top bit set is refused with ErrReadLimit, and a transport EOF
// inside a frame's payload is the 1006 error above, never a silently
// truncated message.
// Concurrent writers are serialised rather than interleaving frames (still
// only one reader and one writer at a time are supported).
//
// # Concurrency
//
// A Conn supports one goroutine calling the read methods (NextReader,
// SetReadDeadline, ReadMessage, ReadJSON) and one calling the write methods
// (NextWriter, SetWriteDeadline, WriteMessage, WriteJSON) at a time. Close
// and WriteControl may be called concurrently with all other methods.
// Readers and writers from NextReader and NextWriter belong to one
// goroutine at a time.
//
// # Origin
//
// Browsers let any page open a WebSocket to any host, so the server must
// check the Origin header. A nil Upgrader.CheckOrigin accepts a request
// without Origin or whose Origin's host equals its Host; set CheckOrigin to
// a function returning true to accept every origin. The package-level
// Upgrade checks nothing: the caller must.
package websocket
