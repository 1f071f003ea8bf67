// Package upgrade implements the WebSocket opening handshake (RFC 6455 §4)
// with permessage-deflate negotiation (RFC 7692 §7), for servers and
// clients.
//
// The raw path is built for an event loop that holds many connections
// without a goroutine each: parsers are resumable, are fed whatever bytes
// have arrived (one at a time works), never block, and allocate nothing.
// A server runs
//
//	st, n := srv.Parse(&req, buf) // NeedMore, Done or Failed
//	res, err := srv.Accept(&req)  // origin, subprotocol, extensions
//	out, err = upgrade.AppendResponse(out, req.Key(), &res, nil)
//
// and on failure writes upgrade.AppendError(out, e.Status, e.Reason). A
// client runs Client.AppendRequest, then Client.ParseResponse and
// Client.Verify. Server.UpgradeHTTP does the server side for a net/http
// handler, with the same checks and statuses, and hijacks the connection.
//
// # Ownership
//
// Parsers own no buffers. The caller keeps the bytes received so far in a
// buffer of its own (bounded by the header size limit, so a pooled 8 KiB
// buffer suffices) and passes all of them on every call; the parser
// remembers how far it has scanned, so no byte is examined twice. Parsed
// fields are positions in that buffer, and the accessors return slices of
// it, valid until the caller reuses the buffer. Bytes after the head (the
// count Done reports) are not part of the handshake and belong to the frame
// parser. A Request or Response holds only positions and flags (about 130
// bytes) and a reference to the caller's buffer until Reset.
//
// # Concurrency
//
// Server and Client values are configuration: read-only once in use and
// safe to share. Request and Response values belong to one goroutine at a
// time.
//
// # Errors
//
// Server-side failures are *Error values carrying the HTTP status to answer
// with; they are package-level variables, so failing allocates nothing.
// Client-side failures of a complete response are *HandshakeError values
// keeping the response's status and header fields.
package upgrade
