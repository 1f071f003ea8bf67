// Package upgrade implements the WebSocket opening handshake (RFC 6455 §4)
// with permessage-deflate negotiation (RFC 7692 §7), for servers and
// clients. It does no I/O.
//
// The raw path is built for an event loop that holds many connections
// without a goroutine each: parsers are resumable, are fed whatever bytes
// have arrived (one at a time works, with the same outcome as all at
// once), never block, and allocate nothing. A server runs
//
//	st, n := srv.Parse(&req, buf) // NeedMore, Done or Failed
//	res, err := srv.Accept(&req)  // origin, subprotocol, extensions
//	out, err = upgrade.AppendResponse(out, req.Key(), &res, extra)
//
// then hands buf[n:], the client's first frames if it sent any behind its
// request, to the frame parser. On failure it writes
// upgrade.AppendError(out, e.Status, e.Reason) and closes. A client runs
// NewKey and Client.AppendRequest, then Client.ParseResponse and
// Client.Verify. Server.UpgradeHTTP does the server side for a net/http
// handler, with the same checks and statuses, and hijacks the connection.
//
// # Refusals
//
// A request that cannot be upgraded fails with an *Error holding the
// status to answer and a short plain-text reason for the body:
//
//	400  malformed request line or header, request target not a path or
//	     absolute URI, missing or invalid Host, a repeated Host, Origin,
//	     Sec-WebSocket-Key or Sec-WebSocket-Version, obsolete line folding,
//	     Upgrade without the token "websocket" or Connection without
//	     "upgrade" (comma lists, any case), Sec-WebSocket-Key not the
//	     base64 form of 16 bytes
//	403  the origin policy refused the request
//	405  method not GET (with "Allow: GET")
//	426  Sec-WebSocket-Version not 13 (with "Sec-WebSocket-Version: 13")
//	431  request line and headers over Server.MaxHeaderBytes (8 KiB by
//	     default), or more than Server.MaxHeaders fields (100)
//	505  HTTP version below 1.1 or above 1.x
//	500  the server's own response cannot be written (a bad extra header)
//
// # Negotiation
//
// The origin policy is Server.CheckOrigin (CheckOriginHTTP on the net/http
// path); by default SameOrigin, gorilla/websocket's rule. The subprotocol
// is the first of Server.Subprotocols the client offered, or none.
// permessage-deflate is negotiated when Server.Deflate is set: the first
// offer the DeflatePolicy can honour is accepted and answered with exactly
// the parameters it calls for. A client offers Client.Deflate and Verify
// fails a response the offers did not allow. Result carries the outcome
// to the compression layer.
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
// parser. A Request or Response holds only positions and flags (about 120
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
// keeping the response's status and header fields; a response that cannot
// be parsed fails with ErrResponseMalformed or ErrResponseTooLarge.
package upgrade
