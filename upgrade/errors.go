package upgrade

import (
	"net/http"
	"strconv"
)

// Error is a server-side handshake failure: the request cannot be upgraded.
// Status is the HTTP status code to answer with and Reason a short
// plain-text explanation, suitable as the response body.
//
// The package returns the package-level values below, so callers may
// compare with == or errors.Is, and failing allocates nothing. Callers may
// create their own values (for example for AppendError).
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string { return "websocket: " + e.Reason }

// Handshake failures reported by Server.Parse, Server.Accept and
// Server.UpgradeHTTP.
var (
	ErrMalformed       = &Error{http.StatusBadRequest, "malformed HTTP request"}
	ErrRequestTarget   = &Error{http.StatusBadRequest, "request target is not an absolute path or absolute URI"}
	ErrMethod          = &Error{http.StatusMethodNotAllowed, "request method is not GET"}
	ErrHTTPVersion     = &Error{http.StatusHTTPVersionNotSupported, "WebSocket upgrade requires HTTP/1.1 or later"}
	ErrHeaderTooLarge  = &Error{http.StatusRequestHeaderFieldsTooLarge, "request header too large"}
	ErrTooManyHeaders  = &Error{http.StatusRequestHeaderFieldsTooLarge, "too many request header fields"}
	ErrObsFold         = &Error{http.StatusBadRequest, "obsolete header line folding"}
	ErrHost            = &Error{http.StatusBadRequest, "missing or invalid Host header"}
	ErrDuplicateHeader = &Error{http.StatusBadRequest, "repeated Host, Origin, Sec-WebSocket-Key or Sec-WebSocket-Version header"}
	ErrUpgradeToken    = &Error{http.StatusBadRequest, "'Upgrade' header does not contain the token 'websocket'"}
	ErrConnectionToken = &Error{http.StatusBadRequest, "'Connection' header does not contain the token 'upgrade'"}
	ErrKey             = &Error{http.StatusBadRequest, "'Sec-WebSocket-Key' is missing or not the base64 form of 16 bytes"}
	ErrVersion         = &Error{http.StatusUpgradeRequired, "'Sec-WebSocket-Version' is not 13"}
	ErrOrigin          = &Error{http.StatusForbidden, "origin not allowed"}
	ErrNotHijacker     = &Error{http.StatusInternalServerError, "response writer does not support Hijack"}
	ErrResponseHeader  = &Error{http.StatusInternalServerError, "invalid or handshake-owned extra response header"}
	ErrBufferReused    = &Error{http.StatusInternalServerError, "parser given a buffer shorter than the bytes it already scanned; call Reset for a new request"}
)

// AppendError appends to dst a complete HTTP/1.1 error response for a
// failed handshake: the status line, "Connection: close", a plain-text
// body of reason plus a newline, and the headers the status calls for:
// "Sec-WebSocket-Version: 13" with 426 (RFC 6455 §4.4) and "Allow: GET" with
// 405. Control bytes in reason are written as spaces. The caller should
// close the connection after writing it.
func AppendError(dst []byte, status int, reason string) []byte {
	text := http.StatusText(status)
	if text == "" {
		text = "Error"
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, text...)
	dst = append(dst, "\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n"...)
	switch status {
	case http.StatusUpgradeRequired:
		dst = append(dst, "Sec-WebSocket-Version: 13\r\n"...)
	case http.StatusMethodNotAllowed:
		dst = append(dst, "Allow: GET\r\n"...)
	}
	dst = append(dst, "Content-Length: "...)
	dst = appendUint(dst, len(reason)+1)
	dst = append(dst, "\r\n\r\n"...)
	for i := 0; i < len(reason); i++ {
		c := reason[i]
		if c < 0x20 || c == 0x7f {
			c = ' '
		}
		dst = append(dst, c)
	}
	return append(dst, '\n')
}
