package frame

import (
	"errors"
	"strconv"
)

// CloseCode is the status code of a close frame (RFC 6455 §7.4).
type CloseCode uint16

// Close codes registered in RFC 6455 §7.4.1 and the IANA registry.
const (
	CloseNormal          CloseCode = 1000
	CloseGoingAway       CloseCode = 1001
	CloseProtocolError   CloseCode = 1002
	CloseUnsupportedData CloseCode = 1003
	CloseNoStatus        CloseCode = 1005 // never sent: stands for an empty close payload
	CloseAbnormal        CloseCode = 1006 // never sent: the connection dropped without a close frame
	CloseInvalidPayload  CloseCode = 1007
	ClosePolicyViolation CloseCode = 1008
	CloseMessageTooBig   CloseCode = 1009
	CloseMandatoryExt    CloseCode = 1010
	CloseInternalError   CloseCode = 1011
	CloseServiceRestart  CloseCode = 1012
	CloseTryAgainLater   CloseCode = 1013
	CloseBadGateway      CloseCode = 1014
	CloseTLSHandshake    CloseCode = 1015 // never sent
)

// Valid reports whether c may appear in a close frame on the wire:
// 1000-1003, 1007-1014 and the application range 3000-4999. Everything else,
// including 1004-1006, 1015 and codes of 5000 and above, is a protocol error
// when received.
func (c CloseCode) Valid() bool {
	switch {
	case c >= 1000 && c <= 1003:
		return true
	case c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// String returns the code's number and, for registered codes, its name.
func (c CloseCode) String() string {
	n := strconv.Itoa(int(c))
	if name := closeCodeNames[c]; name != "" {
		return n + " (" + name + ")"
	}
	return n
}

var closeCodeNames = map[CloseCode]string{
	CloseNormal:          "normal closure",
	CloseGoingAway:       "going away",
	CloseProtocolError:   "protocol error",
	CloseUnsupportedData: "unsupported data",
	CloseNoStatus:        "no status",
	CloseAbnormal:        "abnormal closure",
	CloseInvalidPayload:  "invalid payload data",
	ClosePolicyViolation: "policy violation",
	CloseMessageTooBig:   "message too big",
	CloseMandatoryExt:    "mandatory extension",
	CloseInternalError:   "internal error",
	CloseServiceRestart:  "service restart",
	CloseTryAgainLater:   "try again later",
	CloseBadGateway:      "bad gateway",
	CloseTLSHandshake:    "TLS handshake",
}

// MaxCloseReason is the longest reason a close frame can carry: the 125-byte
// control payload less the 2-byte code.
const MaxCloseReason = MaxControlPayload - 2

// Errors returned by PutClose for arguments that cannot be encoded. They
// describe the caller's mistake, not the peer's.
var (
	ErrCloseCodeNotSendable = errors.New("frame: close code may not be sent on the wire")
	ErrCloseReasonTooLong   = errors.New("frame: close reason longer than 123 bytes")
	ErrCloseReasonNotUTF8   = errors.New("frame: close reason is not valid UTF-8")
)

// PutClose writes the payload of a close frame carrying code and reason into
// b and returns the number of bytes written. b must have room for
// 2+len(reason) bytes. CloseNoStatus stands for an empty payload: PutClose
// then writes nothing and reason must be empty.
//
// It refuses codes that Valid rejects, reasons longer than MaxCloseReason
// and reasons that are not valid UTF-8, so that what it writes is always
// acceptable to a conforming peer.
func PutClose(b []byte, code CloseCode, reason string) (int, error) {
	if code == CloseNoStatus && reason == "" {
		return 0, nil
	}
	if !code.Valid() {
		return 0, ErrCloseCodeNotSendable
	}
	if len(reason) > MaxCloseReason {
		return 0, ErrCloseReasonTooLong
	}
	if !validUTF8String(reason) {
		return 0, ErrCloseReasonNotUTF8
	}
	_ = b[1+len(reason)] // one bounds check; panics like copy would on a short buffer
	b[0] = byte(code >> 8)
	b[1] = byte(code)
	copy(b[2:], reason)
	return 2 + len(reason), nil
}

// AppendClose appends the payload of a close frame to b, with the same rules
// as PutClose, and returns the extended slice. On error it returns b
// unchanged.
func AppendClose(b []byte, code CloseCode, reason string) ([]byte, error) {
	if code == CloseNoStatus && reason == "" {
		return b, nil
	}
	var tmp [MaxControlPayload]byte
	n, err := PutClose(tmp[:], code, reason)
	if err != nil {
		return b, err
	}
	return append(b, tmp[:n]...), nil
}

// ParseClose decodes the payload of a received close frame. An empty payload
// yields CloseNoStatus and an empty reason. The reason aliases p.
//
// It fails, with the error to answer with CloseProtocolError, when the
// payload is 1 byte long, longer than MaxControlPayload, carries a code that
// Valid rejects, or a reason that is not valid UTF-8 (RFC 6455 §5.5.1,
// §7.4).
func ParseClose(p []byte) (code CloseCode, reason []byte, err error) {
	switch {
	case len(p) == 0:
		return CloseNoStatus, nil, nil
	case len(p) == 1:
		return 0, nil, ErrCloseLength
	case len(p) > MaxControlPayload:
		return 0, nil, ErrControlTooLong
	}
	code = CloseCode(p[0])<<8 | CloseCode(p[1])
	if !code.Valid() {
		return 0, nil, ErrCloseCode
	}
	reason = p[2:]
	if !ValidUTF8(reason) {
		return 0, nil, ErrCloseReasonUTF8
	}
	return code, reason, nil
}
