package upgrade

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"iter"
	"net/http"
	"net/textproto"
	"strconv"
)

// Client holds the configuration of the client side of the handshake: what
// to request and what to accept in the response. It is read-only once in
// use and may be shared by concurrent handshakes.
type Client struct {
	// Host is the Host header's value, host[:port]. Required.
	Host string
	// RequestURI is the path and query to request, such as "/chat?x=1".
	// Empty means "/".
	RequestURI string
	// Origin, if not empty, is sent as the Origin header.
	Origin string
	// Subprotocols are offered in Sec-WebSocket-Protocol, in this order.
	Subprotocols []string
	// Deflate lists permessage-deflate offers, most preferred first; nil
	// offers no compression. Offer only what the client can honour: an
	// offer with ClientMaxWindowBits set (client_max_window_bits) lets the
	// server choose any client window from 8 bits up, so AppendRequest
	// refuses it unless DeflateMinWindowBits is 8.
	Deflate []DeflateParams
	// DeflateMinWindowBits is the smallest LZ77 window, in bits, that the
	// client's compressor can keep to. 0 means 15, all that compress/flate
	// can do. A compressor that emits no back-references can keep to 8.
	// Verify fails a response that asks for a smaller client window.
	DeflateMinWindowBits int
	// Header holds extra request header fields. Fields the handshake writes
	// itself (Host, Upgrade, Connection, Sec-WebSocket-*, and Origin when
	// the Origin field is set) are refused, as are names that are not
	// tokens and values with control bytes.
	Header []Field
	// MaxHeaderBytes and MaxHeaders limit the response head, as for Server.
	MaxHeaderBytes int
	MaxHeaders     int
}

// NewKey writes a fresh Sec-WebSocket-Key to dst: the base64 form of 16
// bytes from crypto/rand.
func NewKey(dst *[24]byte) error {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return err
	}
	base64.StdEncoding.Encode(dst[:], raw[:])
	return nil
}

var ownedRequest = [...]string{"host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol", "sec-websocket-extensions", "sec-websocket-accept"}

// RequestError reports a Client field that cannot be sent.
type RequestError struct {
	Field  string // the Client field or header name at fault
	Reason string
}

func (e *RequestError) Error() string { return "websocket: " + e.Reason + ": " + e.Field }

func validURI(u string) bool {
	if u == "" || u[0] != '/' {
		return false
	}
	for i := 0; i < len(u); i++ {
		if u[i] <= ' ' || u[i] == 0x7f {
			return false
		}
	}
	return true
}

// AppendRequest appends to dst the GET request that opens the handshake,
// with key (from NewKey) as Sec-WebSocket-Key, and returns the extended
// buffer. It fails with a *RequestError, dst unchanged, if a field cannot
// be sent safely. Duplicates of the handshake's own headers fail with the
// reason "duplicate header not allowed", as in gorilla/websocket.
func (c *Client) AppendRequest(dst []byte, key *[24]byte) ([]byte, error) {
	uri := c.RequestURI
	if uri == "" {
		uri = "/"
	}
	switch {
	case !validHost(c.Host):
		return dst, &RequestError{"Host", "invalid host"}
	case !validURI(uri):
		return dst, &RequestError{"RequestURI", "request URI must be an absolute path without spaces or control bytes"}
	case !validFieldValue(c.Origin):
		return dst, &RequestError{"Origin", "control byte in header value"}
	case !validKey(key[:]):
		return dst, &RequestError{"Sec-WebSocket-Key", "key is not the base64 form of 16 bytes"}
	}
	for _, p := range c.Subprotocols {
		if !isToken(p) {
			return dst, &RequestError{"Subprotocols", "subprotocol is not a token"}
		}
	}
	for _, d := range c.Deflate {
		switch {
		case !d.valid():
			return dst, &RequestError{"Deflate", "window bits outside 8..15"}
		case d.ClientMaxWindowBits != 0 && windowFloor(c.DeflateMinWindowBits) > 8:
			return dst, &RequestError{"Deflate", "client_max_window_bits offered, but the compressor cannot keep to every window the server may then choose (see DeflateMinWindowBits)"}
		}
	}
	for _, f := range c.Header {
		switch {
		case owned(f.Name, ownedRequest[:]) || c.Origin != "" && equalFold(f.Name, "origin"):
			return dst, &RequestError{f.Name, "duplicate header not allowed"}
		case !isToken(f.Name):
			return dst, &RequestError{f.Name, "header name is not a token"}
		case !validFieldValue(f.Value):
			return dst, &RequestError{f.Name, "control byte in header value"}
		}
	}
	dst = append(dst, "GET "...)
	dst = append(dst, uri...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, c.Host...)
	dst = append(dst, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	dst = append(dst, key[:]...)
	dst = append(dst, "\r\nSec-WebSocket-Version: 13\r\n"...)
	if c.Origin != "" {
		dst = appendField(dst, "Origin", c.Origin)
	}
	if len(c.Subprotocols) > 0 {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		for i, p := range c.Subprotocols {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, p...)
		}
		dst = append(dst, "\r\n"...)
	}
	if len(c.Deflate) > 0 {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		for i, d := range c.Deflate {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = d.AppendExtension(dst, true)
		}
		dst = append(dst, "\r\n"...)
	}
	for _, f := range c.Header {
		dst = appendField(dst, f.Name, f.Value)
	}
	return append(dst, "\r\n"...), nil
}

// Response is the resumable parser for the server's handshake response
// and, once parsing is Done, the parsed response. Ownership is as for
// Request: the caller passes all bytes received so far to
// Client.ParseResponse, the Response refers to that buffer, and accessors
// return slices of it. The zero value is ready; Reset reuses it.
type Response struct {
	buf     []byte
	sc      lineScanner
	state   uint8
	flags   uint8
	minor   uint8
	code    uint16
	headers uint16
	err     error
	head    uint32
	end     uint32
	accept  span
	proto   span
	exts    span
}

const (
	rfUpgrade = 1 << iota
	rfConnection
	rfAcceptMany
	rfProtoMany
	rfExtsMany
)

// Errors a response can fail with. Parse failures are returned as they
// are; Verify wraps the others in a *HandshakeError.
var (
	ErrResponseMalformed  = errors.New("websocket: malformed HTTP response to the handshake")
	ErrResponseTooLarge   = errors.New("websocket: handshake response header too large")
	ErrResponseStatus     = errors.New("websocket: server did not answer 101 Switching Protocols")
	ErrResponseUpgrade    = errors.New("websocket: response 'Upgrade' header does not contain the token 'websocket'")
	ErrResponseConnection = errors.New("websocket: response 'Connection' header does not contain the token 'upgrade'")
	ErrResponseAccept     = errors.New("websocket: 'Sec-WebSocket-Accept' does not match the key")
	ErrResponseProtocol   = errors.New("websocket: server selected a subprotocol the client did not offer")
	ErrResponseExtension  = errors.New("websocket: server answered with extension parameters the client did not offer")
)

// HandshakeError is a response the client cannot accept. It keeps the
// response's status code and header fields, copied out of the parse
// buffer, so the caller can act on them (for example a 401 with
// WWW-Authenticate, or a redirect). The body, if the caller wants it,
// starts at Response.HeadLen in the buffer given to ParseResponse.
type HandshakeError struct {
	StatusCode int
	Header     http.Header
	Err        error // one of the ErrResponse* values
	Detail     string
}

func (e *HandshakeError) Error() string {
	s := e.Err.Error() + " (status " + strconv.Itoa(e.StatusCode) + ")"
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// Reset prepares r for another response and drops its buffer reference.
func (r *Response) Reset() { *r = Response{} }

// Err returns the reason parsing Failed, or nil.
func (r *Response) Err() error { return r.err }

func (r *Response) fail(err error) (Status, int) {
	r.state, r.err = stFailed, err
	return Failed, 0
}

func (c *Client) limits() (int, int) {
	s := Server{MaxHeaderBytes: c.MaxHeaderBytes, MaxHeaders: c.MaxHeaders}
	return s.maxHeaderBytes(), s.maxHeaders()
}

// ParseResponse continues parsing the response head in buf, exactly as
// Server.Parse does for requests: NeedMore, Done with the head's length
// (bytes after it are WebSocket frames the server already sent, or the
// body of a refusal), or Failed with r.Err() set: ErrResponseMalformed for
// a head that is not HTTP/1.x, ErrResponseTooLarge past the client's
// limits, ErrBufferReused on misuse. A complete head with a status other
// than 101 is Done: Verify reports it. The result does not depend on how
// the bytes were split, and ParseResponse allocates nothing.
func (c *Client) ParseResponse(r *Response, buf []byte) (Status, int) {
	switch r.state {
	case stDone:
		return Done, int(r.end)
	case stFailed:
		return Failed, 0
	}
	r.buf = buf
	max, maxHeaders := c.limits()
	for {
		off, end, res := r.sc.next(buf, max)
		switch res {
		case scanMore:
			return NeedMore, 0
		case scanTooLarge:
			return r.fail(ErrResponseTooLarge)
		case scanShort:
			return r.fail(ErrBufferReused)
		}
		line := buf[off:end]
		if r.state == stRequestLine {
			if !r.statusLine(line) {
				return r.fail(ErrResponseMalformed)
			}
			r.state = stHeaders
			r.head = r.sc.start
			continue
		}
		if len(line) == 0 {
			r.end = r.sc.start
			r.state = stDone
			return Done, int(r.end)
		}
		if int(r.headers) >= maxHeaders {
			return r.fail(ErrResponseTooLarge)
		}
		r.headers++
		if isOWS(line[0]) {
			return r.fail(ErrResponseMalformed)
		}
		colon, vs, ve, ok := splitHeader(line)
		if !ok {
			return r.fail(ErrResponseMalformed)
		}
		r.header(line[:colon], line[vs:ve], span{uint32(off + vs), uint32(off + ve)})
	}
}

func (r *Response) statusLine(line []byte) bool {
	if len(line) < 12 || (len(line) > 12 && line[12] != ' ') || line[8] != ' ' {
		return false
	}
	major, minor, ok := parseHTTPVersion(line[:8])
	if !ok || major != 1 {
		return false
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return false
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 || !validFieldValue(line[12:]) {
		return false
	}
	r.code, r.minor = uint16(code), uint8(minor)
	return true
}

func (r *Response) header(name, value []byte, sp span) {
	switch len(name) {
	case 7:
		if equalFold(name, "upgrade") && hasToken(value, "websocket") {
			r.flags |= rfUpgrade
		}
	case 10:
		if equalFold(name, "connection") && hasToken(value, "upgrade") {
			r.flags |= rfConnection
		}
	case 20:
		if equalFold(name, "sec-websocket-accept") {
			if r.accept.end != 0 {
				r.flags |= rfAcceptMany
			}
			r.accept = sp
		}
	case 22:
		if equalFold(name, "sec-websocket-protocol") {
			if r.proto.end != 0 {
				r.flags |= rfProtoMany
			}
			r.proto = sp
		}
	case 24:
		if equalFold(name, "sec-websocket-extensions") {
			if r.exts.end != 0 {
				r.flags |= rfExtsMany
			} else {
				r.exts = sp
			}
		}
	}
}

// StatusCode returns the response's status code once parsing is Done.
func (r *Response) StatusCode() int { return int(r.code) }

// HeadLen returns the length of the response head once parsing is Done.
func (r *Response) HeadLen() int { return int(r.end) }

// Headers iterates over the response's header fields in order.
func (r *Response) Headers() iter.Seq2[[]byte, []byte] {
	return func(yield func(name, value []byte) bool) {
		if r.state != stDone {
			return
		}
		it := headerIter{buf: r.buf, pos: int(r.head), end: int(r.end)}
		for n, v, ok := it.next(); ok; n, v, ok = it.next() {
			if !yield(n, v) {
				return
			}
		}
	}
}

// Header returns the value of the first header field called name (compared
// case-insensitively), or nil.
func (r *Response) Header(name string) []byte {
	for n, v := range r.Headers() {
		if equalFold(n, name) {
			return v
		}
	}
	return nil
}

// HTTPHeader returns a copy of the response's header fields as an
// http.Header, with canonical names. It allocates; the raw path uses
// Header and Headers instead.
func (r *Response) HTTPHeader() http.Header {
	h := make(http.Header)
	for n, v := range r.Headers() {
		k := textproto.CanonicalMIMEHeaderKey(string(n))
		h[k] = append(h[k], string(v))
	}
	return h
}

func (r *Response) handshakeError(err error, detail string) *HandshakeError {
	return &HandshakeError{StatusCode: int(r.code), Header: r.HTTPHeader(), Err: err, Detail: detail}
}

// Verify checks a response that ParseResponse reported Done against the
// request c built with key: the status must be 101 over HTTP/1.1 or later,
// Upgrade and Connection must carry their tokens, Sec-WebSocket-Accept
// must match key (once), and the subprotocol and permessage-deflate
// parameters the server chose must be among those c offered (see
// DeflateParams for the result's deflate parameters). Any other outcome is
// a *HandshakeError holding the status and header fields; called before
// Done it returns ErrResponseMalformed. On success it allocates nothing.
func (c *Client) Verify(r *Response, key *[24]byte) (Result, error) {
	var res Result
	if r.state != stDone {
		return res, ErrResponseMalformed
	}
	switch {
	case r.code != 101 || r.minor < 1:
		return res, r.handshakeError(ErrResponseStatus, "")
	case r.flags&rfUpgrade == 0:
		return res, r.handshakeError(ErrResponseUpgrade, "")
	case r.flags&rfConnection == 0:
		return res, r.handshakeError(ErrResponseConnection, "")
	}
	var want [28]byte
	computeAccept(&want, key[:])
	if r.flags&rfAcceptMany != 0 || string(r.accept.of(r.buf)) != string(want[:]) {
		return res, r.handshakeError(ErrResponseAccept, "")
	}
	// An empty Sec-WebSocket-Protocol reads as none, as in net/http-based
	// clients that look it up with Header.Get.
	if !r.proto.empty() || r.flags&rfProtoMany != 0 {
		p := r.proto.of(r.buf)
		for _, offered := range c.Subprotocols {
			if string(p) == offered {
				res.Subprotocol = offered
				break
			}
		}
		if res.Subprotocol == "" || r.flags&rfProtoMany != 0 {
			return res, r.handshakeError(ErrResponseProtocol, string(p))
		}
	}
	if r.exts.end != 0 {
		ck := deflateChecker{offers: c.Deflate, minBits: windowFloor(c.DeflateMinWindowBits)}
		if r.flags&rfExtsMany == 0 {
			checkDeflate(&ck, r.exts.of(r.buf))
		} else {
			it := headerIter{buf: r.buf, pos: int(r.head), end: int(r.end)}
			for n, v, ok := it.next(); ok; n, v, ok = it.next() {
				if equalFold(n, "sec-websocket-extensions") {
					checkDeflate(&ck, v)
				}
			}
		}
		if ck.err != nil {
			return res, r.handshakeError(ErrResponseExtension, ck.err.Error())
		}
		res.Deflate, res.DeflateParams = ck.n > 0, ck.res
	}
	return res, nil
}
