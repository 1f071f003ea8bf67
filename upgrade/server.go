package upgrade

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
)

// Server holds the configuration of the server side of the handshake. It
// is read-only once in use and safe for concurrent use by any number of
// connections; the per-connection state lives in a Request.
type Server struct {
	// MaxHeaderBytes limits the request line plus headers, including the
	// final blank line. A longer request fails with 431. Zero means
	// DefaultMaxHeaderBytes; values above 1 MiB are treated as 1 MiB.
	MaxHeaderBytes int
	// MaxHeaders limits the number of header fields (431 beyond it). Zero
	// means DefaultMaxHeaders.
	MaxHeaders int

	// CheckOrigin decides whether to accept a request on the raw path
	// (Accept), which has passed Parse's checks; false fails it with 403.
	// It is called on the goroutine calling Accept, possibly on many at
	// once, and must not keep r or the slices it returns. Nil means the
	// same-origin policy (see SameOrigin), which also refuses an Origin
	// header that is present but empty.
	CheckOrigin func(r *Request) bool
	// CheckOriginHTTP does the same for UpgradeHTTP. Nil means the
	// same-origin policy, compared with r.Host.
	CheckOriginHTTP func(r *http.Request) bool

	// Subprotocols lists the subprotocols the server supports, most
	// preferred first. The first one the client also offered (compared
	// case-sensitively) is selected; if the client offered none of them,
	// the handshake goes on without a subprotocol, and the application
	// may refuse the connection afterwards.
	Subprotocols []string

	// Deflate enables permessage-deflate with the given policy; nil
	// declines every offer.
	Deflate *DeflatePolicy

	// HTTPError, if set, writes UpgradeHTTP's error responses instead of
	// the default (AppendError's status, headers and body).
	HTTPError func(w http.ResponseWriter, r *http.Request, err *Error)
}

func (s *Server) maxHeaderBytes() int {
	switch n := s.MaxHeaderBytes; {
	case n <= 0:
		return DefaultMaxHeaderBytes
	case n > maxHeaderBytesCap:
		return maxHeaderBytesCap
	default:
		return n
	}
}

func (s *Server) maxHeaders() int {
	if s.MaxHeaders <= 0 {
		return DefaultMaxHeaders
	}
	return s.MaxHeaders
}

// Result is the outcome of a successful negotiation.
type Result struct {
	// Subprotocol is the selected subprotocol, or "". On the server it is
	// one of Server.Subprotocols, on the client one of Client.Subprotocols.
	Subprotocol string
	// Deflate reports whether permessage-deflate was negotiated, with the
	// parameters in DeflateParams.
	Deflate       bool
	DeflateParams DeflateParams
}

// Accept finishes the server's side of a request that Parse reported Done:
// it applies the origin policy (ErrOrigin, 403), selects the subprotocol
// and negotiates permessage-deflate. It never fails for a subprotocol or
// extension it cannot agree to: it answers without them. Called before
// Done, it fails with ErrMalformed. It allocates nothing (beyond what
// CheckOrigin does).
func (s *Server) Accept(r *Request) (Result, error) {
	var res Result
	if !r.done() {
		return res, ErrMalformed
	}
	if s.CheckOrigin != nil {
		if !s.CheckOrigin(r) {
			return res, ErrOrigin
		}
	} else if !sameOrigin(r.flags&fOrigin != 0, r.Origin(), r.Host()) {
		return res, ErrOrigin
	}
	if len(s.Subprotocols) > 0 && r.proto.end != 0 {
		res.Subprotocol = s.selectRaw(r)
	}
	if s.Deflate != nil && r.exts.end != 0 {
		n := deflateNegotiator{pol: s.Deflate}
		r.values("sec-websocket-extensions", r.exts, r.flags&fExtsMany != 0, func(v []byte) bool {
			negotiate(&n, v)
			return true
		})
		res.DeflateParams, res.Deflate = n.result()
	}
	return res, nil
}

// valid reports whether res can be written in a response.
func (res *Result) valid() bool {
	return (res.Subprotocol == "" || isToken(res.Subprotocol)) && (!res.Deflate || res.DeflateParams.valid())
}

func (s *Server) selectRaw(r *Request) string {
	for _, want := range s.Subprotocols {
		found := false
		r.values("sec-websocket-protocol", r.proto, r.flags&fProtoMany != 0, func(v []byte) bool {
			found = listContains(v, want)
			return !found
		})
		if found {
			return want
		}
	}
	return ""
}

// listContains reports whether the comma-separated list s has an element
// equal to tok (case-sensitively, as subprotocol names are compared).
func listContains[S text](s S, tok string) bool {
	for item, i, ok := nextItem(s, 0); ok; item, i, ok = nextItem(s, i) {
		if string(item) == tok {
			return true
		}
	}
	return false
}

// Field is an extra header field for AppendResponse or Client.
type Field struct {
	Name, Value string
}

// ownedResponse lists the response headers the handshake writes itself.
var ownedResponse = [...]string{"upgrade", "connection", "sec-websocket-accept", "sec-websocket-protocol", "sec-websocket-extensions"}

func owned(name string, list []string) bool {
	for _, o := range list {
		if equalFold(name, o) {
			return true
		}
	}
	return false
}

func validField(name, value string, ownedList []string) bool {
	return isToken(name) && validFieldValue(value) && !owned(name, ownedList)
}

// ComputeAccept writes to dst the Sec-WebSocket-Accept value for key: the
// base64 form of the SHA-1 of key followed by the RFC 6455 GUID. It
// allocates nothing for keys of up to 64 bytes (valid keys have 24).
func ComputeAccept(dst *[28]byte, key []byte) { computeAccept(dst, key) }

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func computeAccept[S text](dst *[28]byte, key S) {
	var sum [sha1.Size]byte
	if len(key) <= 64 {
		var b [64 + len(wsGUID)]byte
		n := copy(b[:], key)
		n += copy(b[n:], wsGUID)
		sum = sha1.Sum(b[:n])
	} else {
		h := sha1.New()
		h.Write([]byte(key))
		h.Write([]byte(wsGUID))
		h.Sum(sum[:0])
	}
	base64.StdEncoding.Encode(dst[:], sum[:])
}

// AppendResponse appends to dst the 101 Switching Protocols response for a
// request with Sec-WebSocket-Key key: Upgrade, Connection,
// Sec-WebSocket-Accept, the selected subprotocol and extension from res,
// then the extra fields. It refuses (with ErrResponseHeader, dst returned
// unchanged) an extra field whose name is not a token, whose value holds
// CR, LF or another control byte, or that repeats a header the handshake
// writes itself. It allocates only if dst lacks capacity.
func AppendResponse(dst []byte, key []byte, res *Result, extra []Field) ([]byte, error) {
	for i := range extra {
		if !validField(extra[i].Name, extra[i].Value, ownedResponse[:]) {
			return dst, ErrResponseHeader
		}
	}
	if !res.valid() {
		return dst, ErrResponseHeader
	}
	dst = appendResponseHead(dst, key, res)
	for i := range extra {
		dst = appendField(dst, extra[i].Name, extra[i].Value)
	}
	return append(dst, "\r\n"...), nil
}

func appendResponseHead[S text](dst []byte, key S, res *Result) []byte {
	var accept [28]byte
	computeAccept(&accept, key)
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = append(dst, accept[:]...)
	if res.Subprotocol != "" {
		dst = append(dst, "\r\nSec-WebSocket-Protocol: "...)
		dst = append(dst, res.Subprotocol...)
	}
	if res.Deflate {
		dst = append(dst, "\r\nSec-WebSocket-Extensions: "...)
		dst = res.DeflateParams.AppendExtension(dst, false)
	}
	return append(dst, "\r\n"...)
}

func appendField(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}
