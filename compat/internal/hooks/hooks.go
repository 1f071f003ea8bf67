// Package hooks lets compat/btcsuite reach into compat's core without
// either package exporting more than the API it reproduces: package compat
// fills in the variables below from an init function, and compat/btcsuite
// (which imports compat, so that init has run) calls them. It also holds
// the protocol-error type the two share, so that each can word a violation
// as the package it reproduces did.
package hooks

import (
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/lullws/lull/frame"
)

// NewConn wraps a connection whose WebSocket handshake has been completed
// by the caller, exactly as compat's own Upgrader and Dialer do after
// theirs: isServer selects the role (masking, the mask bit expected),
// leftover holds bytes already read past the handshake (it is copied), and
// subprotocol is what Conn.Subprotocol reports. The result is a
// *compat.Conn (typed any because this package cannot import compat).
var NewConn func(nc net.Conn, isServer bool, readBufSize, writeBufSize int, leftover []byte, subprotocol string) any

// ProtocolError is the error compat's reads return when the peer breaks
// the framing rules (after compat has sent close 1002). Its text is
// gorilla's; compat/btcsuite rewrites it into btcsuite's from the fields.
type ProtocolError struct {
	Text  string       // Error's result: "websocket: " and gorilla's description
	Frame *frame.Error // the violation, as lull's frame package names it

	// The first byte of the offending frame's header (FIN, RSV bits,
	// opcode), when it was at hand, and for frame.ErrCloseCode the code
	// received (0 if unknown).
	Header      byte
	HeaderKnown bool
	CloseCode   int
}

func (e *ProtocolError) Error() string { return e.Text }
func (e *ProtocolError) Unwrap() error { return e.Frame }

// NewProtocolError describes the violation fe, found by a parser that was
// handed b: when b begins with the offending frame's header (a frame that
// began in b; checked against fe where possible), the details are read
// from it.
func NewProtocolError(fe *frame.Error, b []byte, compression bool) *ProtocolError {
	e := &ProtocolError{Frame: fe}
	if len(b) >= 2 {
		b0 := b[0]
		op := frame.Opcode(b0 & 0x0f)
		switch fe {
		case frame.ErrReservedBits, frame.ErrCompressedCont:
			e.HeaderKnown = b0&0x70 != 0
		case frame.ErrReservedOpcode:
			e.HeaderKnown = !op.IsControl() && op > frame.OpBinary || op > frame.OpPong
		case frame.ErrCloseCode:
			e.HeaderKnown = op == frame.OpClose
			if n := int(b[1] & 0x7f); e.HeaderKnown && n >= 2 && n <= 125 {
				at, masked := 2, b[1]&0x80 != 0
				if masked {
					at += 4
				}
				if len(b) >= at+2 {
					// The parser has unmasked the payload in place.
					e.CloseCode = int(b[at])<<8 | int(b[at+1])
				}
			}
		default:
			e.HeaderKnown = true
		}
		if e.HeaderKnown {
			e.Header = b0
		}
	}
	e.Text = "websocket: " + gorillaReason(e, compression)
	return e
}

// gorillaReason is how gorilla/websocket v1.5.3 words the violation.
func gorillaReason(e *ProtocolError, compression bool) string {
	switch e.Frame {
	case frame.ErrReservedBits, frame.ErrCompressedCont:
		if !e.HeaderKnown {
			return "RSV set"
		}
		var s []string
		if e.Header&0x40 != 0 && (!compression || e.Frame == frame.ErrCompressedCont) {
			s = append(s, "RSV1 set")
		}
		if e.Header&0x20 != 0 {
			s = append(s, "RSV2 set")
		}
		if e.Header&0x10 != 0 {
			s = append(s, "RSV3 set")
		}
		return strings.Join(s, ", ")
	case frame.ErrControlTooLong:
		return "len > 125 for control"
	case frame.ErrControlFragment:
		return "FIN not set on control"
	case frame.ErrExpectedCont:
		return "data before FIN"
	case frame.ErrUnexpectedCont:
		return "continuation after FIN"
	case frame.ErrReservedOpcode:
		if !e.HeaderKnown {
			return "bad opcode"
		}
		return "bad opcode " + strconv.Itoa(int(e.Header&0x0f))
	case frame.ErrMaskRequired, frame.ErrMaskForbidden:
		return "bad MASK"
	case frame.ErrCloseCode:
		if e.CloseCode == 0 {
			return "bad close code"
		}
		return "bad close code " + strconv.Itoa(e.CloseCode)
	case frame.ErrCloseReasonUTF8:
		return "invalid utf8 payload in close frame"
	}
	return e.Frame.Reason
}

// AppendResponseHeader appends h to a 101 response head being built in p,
// one "Key: value\r\n" line per value, as both packages' Upgraders do:
// Sec-Websocket-Protocol is skipped (the Upgrader writes the selected one
// itself), and control bytes in values become spaces, so a value cannot
// split the response.
func AppendResponseHeader(p []byte, h http.Header) []byte {
	for k, vs := range h {
		if k == "Sec-Websocket-Protocol" {
			continue
		}
		for _, v := range vs {
			p = append(p, k...)
			p = append(p, ": "...)
			for i := 0; i < len(v); i++ {
				b := v[i]
				if b < ' ' {
					b = ' '
				}
				p = append(p, b)
			}
			p = append(p, "\r\n"...)
		}
	}
	return p
}
