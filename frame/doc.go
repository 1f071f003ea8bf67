// Package frame implements the WebSocket wire format of RFC 6455: frame
// headers, payload masking, streaming UTF-8 validation, close frames and a
// resumable parser for a byte stream that arrives in arbitrary pieces.
//
// The package does no I/O and allocates nothing on its hot paths. It is the
// layer the rest of lull stands on, and it is usable on its own: feed a
// Parser whatever bytes a socket returned, act on the fragments it hands
// back, and build outgoing frames with PutHeader and Mask.
//
// # Ownership
//
// Functions that take a []byte never retain it past the call. A Fragment's
// Payload aliases the slice given to Parser.Next: it is valid until the
// caller reuses that memory, and the parser has already unmasked it in
// place.
//
// # Concurrency
//
// Parser and UTF8Validator values belong to one goroutine at a time. The
// package-level functions are safe for concurrent use.
//
// # Errors
//
// Every protocol violation is reported as an *Error carrying the close code
// that the endpoint should send before failing the connection (RFC 6455
// §7.1.7) and a short reason suitable for the close frame.
package frame
