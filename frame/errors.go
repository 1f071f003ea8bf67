package frame

// Error is a protocol violation found in data received from the peer. Code
// is the close code to send before failing the connection; Reason is a short
// explanation that fits in a close frame.
//
// The errors the package returns are the package-level values below, so
// callers may compare with == or errors.Is, and returning them allocates
// nothing.
type Error struct {
	Code   CloseCode
	Reason string
}

// Error returns the reason, prefixed with "websocket: ".
func (e *Error) Error() string { return "websocket: " + e.Reason }

// Protocol violations reported by DecodeHeader, Parser and the close-frame
// functions. Each carries the close code RFC 6455 prescribes for it.
var (
	ErrLengthOverflow  = &Error{CloseProtocolError, "64-bit payload length has its most significant bit set"}
	ErrReservedBits    = &Error{CloseProtocolError, "reserved bits set without a negotiated extension"}
	ErrReservedOpcode  = &Error{CloseProtocolError, "reserved opcode"}
	ErrControlTooLong  = &Error{CloseProtocolError, "control frame payload longer than 125 bytes"}
	ErrControlFragment = &Error{CloseProtocolError, "fragmented control frame"}
	ErrUnexpectedCont  = &Error{CloseProtocolError, "continuation frame without a message to continue"}
	ErrExpectedCont    = &Error{CloseProtocolError, "new data frame while a fragmented message is open"}
	ErrMaskRequired    = &Error{CloseProtocolError, "unmasked frame from a client"}
	ErrMaskForbidden   = &Error{CloseProtocolError, "masked frame from a server"}
	ErrCompressedCont  = &Error{CloseProtocolError, "RSV1 set on a continuation or control frame"}
	ErrInvalidUTF8     = &Error{CloseInvalidPayload, "invalid UTF-8 in text message"}
	ErrMessageTooBig   = &Error{CloseMessageTooBig, "message exceeds the read limit"}
	ErrCloseLength     = &Error{CloseProtocolError, "close frame payload of 1 byte"}
	ErrCloseCode       = &Error{CloseProtocolError, "invalid close code"}
	ErrCloseReasonUTF8 = &Error{CloseProtocolError, "close reason is not valid UTF-8"}
	ErrParserFailed    = &Error{CloseProtocolError, "parser used after it reported an error"}
)
