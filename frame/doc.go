// Package frame implements the WebSocket wire format of RFC 6455: frame
// headers, payload masking, streaming UTF-8 validation, close frames and a
// resumable parser for a byte stream that arrives in arbitrary pieces.
//
// The package does no I/O and allocates nothing on its hot paths (inflating
// aside: compress/flate builds some tables per block, see Inflater.Append).
// It is the
// layer the rest of lull stands on, and it is usable on its own: feed a
// Parser whatever bytes a socket returned, act on the fragments it hands
// back, and build outgoing frames with PutHeader and Mask.
//
// # Compression
//
// permessage-deflate (RFC 7692) is a codec beside the parser: with
// Parser.Compression set, RSV1 is allowed on the first frame of a data
// message and such messages are reported as Fragment.Compressed; the
// caller gathers the message and inflates it with AppendInflate (or an
// Inflater that keeps the context, when context takeover was negotiated),
// which appends the removed 00 00 ff ff tail, stops as soon as the output
// passes the read limit (ErrMessageTooBig, 1009) and fails corrupt data
// with ErrInvalidCompressed (1007). Outgoing messages are compressed with
// AppendDeflate (or a Compressor) and sent with RSV1 on their first frame
// only; control frames are never compressed. The pooled functions hold no
// state between calls, so an idle connection costs nothing for
// compression.
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
// Parser, UTF8Validator, Compressor and Inflater values belong to one
// goroutine at a time. The package-level functions (AppendDeflate and
// AppendInflate included) are safe for concurrent use.
//
// # Errors
//
// Every protocol violation is reported as an *Error carrying the close code
// that the endpoint should send before failing the connection (RFC 6455
// §7.1.7) and a short reason suitable for the close frame.
package frame
