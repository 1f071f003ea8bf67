package upgrade

import (
	"bytes"
	"iter"
)

// Request is the resumable parser for a client's opening handshake and,
// once parsing is Done, the parsed request.
//
// # Ownership
//
// A Request owns no buffer. The caller accumulates the bytes received so
// far in a buffer of its own and passes all of them to Server.Parse each
// time more arrive (buf[:n] must be unchanged from the previous call; the
// buffer may have been reallocated, as by append). The Request keeps a
// reference to the latest buf and records positions in it, so every
// accessor below returns a slice of that buffer: valid until the caller
// reuses or releases the buffer, and never to be modified. Call Reset
// before releasing the buffer to drop the reference, and before parsing
// another request with the same Request.
//
// A Request is 120 bytes on 64-bit systems and the zero value is ready to
// use. It belongs to one goroutine at a time.
type Request struct {
	buf     []byte
	sc      lineScanner
	state   uint8
	flags   uint16
	headers uint16 // header fields seen
	err     *Error
	head    uint32 // offset of the first header line
	end     uint32 // length of the whole head once Done
	target  span
	auth    span // authority of an absolute-form target
	host    span // Host header, or auth once Done
	origin  span
	key     span
	vers    span
	proto   span // first Sec-WebSocket-Protocol line
	exts    span // first Sec-WebSocket-Extensions line
}

const (
	stRequestLine = iota
	stHeaders
	stDone
	stFailed
)

const (
	fUpgrade    = 1 << iota // Upgrade lists websocket
	fConnection             // Connection lists upgrade
	fHost                   // Host seen (possibly empty)
	fVersion                // Sec-WebSocket-Version seen
	fProtoMany              // more than one Sec-WebSocket-Protocol line
	fExtsMany               // more than one Sec-WebSocket-Extensions line
	fOrigin                 // Origin seen
	fKey                    // Sec-WebSocket-Key seen
	fAbsolute               // absolute-form request target
)

// Reset prepares r for a new request and drops its reference to the
// previous buffer.
func (r *Request) Reset() { *r = Request{} }

// Err returns the reason parsing Failed, or nil.
func (r *Request) Err() *Error { return r.err }

func (r *Request) fail(e *Error) (Status, int) {
	r.state, r.err = stFailed, e
	return Failed, 0
}

// Parse continues parsing the request head in buf, which holds every byte
// received so far on the connection (see Request for ownership). It
// returns NeedMore until the blank line ending the head has arrived, then
// Done with n, the length of the head: buf[n:] is not part of the handshake
// (a client may pipeline its first frame) and must be kept for the frame
// parser. On Failed, r.Err() gives the HTTP status to answer with.
//
// Each call examines only bytes it has not examined before, so feeding a
// request one byte at a time costs linear time in total, and the result
// does not depend on how the bytes were split. Parse checks the syntax and
// the limits as each line completes (so an oversized or malformed request
// fails without waiting for its end), the method and HTTP version on the
// request line, and once the head is complete the fields that need no
// configuration: Host, Upgrade, Connection, Sec-WebSocket-Key and
// Sec-WebSocket-Version. Accept does the rest. After Done or Failed it
// returns the same result again, whatever buf holds.
//
// Parse allocates nothing and is safe to call concurrently on different
// Requests.
func (s *Server) Parse(r *Request, buf []byte) (Status, int) {
	switch r.state {
	case stDone:
		return Done, int(r.end)
	case stFailed:
		return Failed, 0
	}
	r.buf = buf
	max := s.maxHeaderBytes()
	maxHeaders := s.maxHeaders()
	for {
		off, end, res := r.sc.next(buf, max)
		switch res {
		case scanMore:
			return NeedMore, 0
		case scanTooLarge:
			return r.fail(ErrHeaderTooLarge)
		case scanShort:
			return r.fail(ErrBufferReused)
		}
		line := buf[off:end]
		if r.state == stRequestLine {
			if len(line) == 0 {
				// RFC 9112 §2.2: ignore empty lines before the
				// request line (the size limit still counts them).
				continue
			}
			if e := r.requestLine(line, off); e != nil {
				return r.fail(e)
			}
			r.state = stHeaders
			r.head = r.sc.start
			continue
		}
		if len(line) == 0 {
			r.end = r.sc.start
			if e := r.finish(); e != nil {
				return r.fail(e)
			}
			r.state = stDone
			return Done, int(r.end)
		}
		if int(r.headers) >= maxHeaders {
			return r.fail(ErrTooManyHeaders)
		}
		r.headers++
		if e := r.header(line, off); e != nil {
			return r.fail(e)
		}
	}
}

func (r *Request) requestLine(line []byte, off int) *Error {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 || !isToken(line[:sp]) {
		return ErrMalformed
	}
	method := line[:sp]
	rest := line[sp+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return ErrMalformed
	}
	target, version := rest[:sp2], rest[sp2+1:]
	major, minor, ok := parseHTTPVersion(version)
	if !ok {
		return ErrMalformed
	}
	for _, c := range target {
		if c <= ' ' || c == 0x7f {
			return ErrMalformed
		}
	}
	if string(method) != "GET" {
		return ErrMethod
	}
	if major != 1 || minor < 1 {
		return ErrHTTPVersion
	}
	o := uint32(off + sp + 1)
	r.target = span{o, o + uint32(len(target))}
	if target[0] == '/' {
		return nil
	}
	// absolute-form (RFC 9112 §3.2.2): its authority is the host the
	// request is for, whatever the Host header says.
	auth, path, ok := splitAbsolute(target)
	if !ok || len(path) > 0 && path[0] == '#' {
		return ErrRequestTarget
	}
	a := o + uint32(len(target)-len(path)-len(auth))
	r.auth = span{a, a + uint32(len(auth))}
	r.flags |= fAbsolute
	return nil
}

func (r *Request) header(line []byte, off int) *Error {
	if isOWS(line[0]) {
		return ErrObsFold
	}
	colon, vs, ve, ok := splitHeader(line)
	if !ok {
		return ErrMalformed
	}
	name, value := line[:colon], line[vs:ve]
	sp := span{uint32(off + vs), uint32(off + ve)}
	switch len(name) {
	case 4:
		if equalFold(name, "host") {
			return r.once(&r.host, fHost, sp)
		}
	case 6:
		if equalFold(name, "origin") {
			return r.once(&r.origin, fOrigin, sp)
		}
	case 7:
		if equalFold(name, "upgrade") && hasToken(value, "websocket") {
			r.flags |= fUpgrade
		}
	case 10:
		if equalFold(name, "connection") && hasToken(value, "upgrade") {
			r.flags |= fConnection
		}
	case 17:
		if equalFold(name, "sec-websocket-key") {
			return r.once(&r.key, fKey, sp)
		}
	case 21:
		if equalFold(name, "sec-websocket-version") {
			return r.once(&r.vers, fVersion, sp)
		}
	case 22:
		if equalFold(name, "sec-websocket-protocol") {
			if r.proto.end != 0 { // a header's span never ends at 0
				r.flags |= fProtoMany
			} else {
				r.proto = sp
			}
		}
	case 24:
		if equalFold(name, "sec-websocket-extensions") {
			if r.exts.end != 0 {
				r.flags |= fExtsMany
			} else {
				r.exts = sp
			}
		}
	}
	return nil
}

func (r *Request) once(dst *span, flag uint16, sp span) *Error {
	if r.flags&flag != 0 {
		return ErrDuplicateHeader
	}
	r.flags |= flag
	*dst = sp
	return nil
}

// finish runs the checks that need the whole head.
func (r *Request) finish() *Error {
	if r.flags&fHost == 0 {
		return ErrHost
	}
	if r.flags&fAbsolute != 0 {
		r.host = r.auth
	}
	switch {
	case !validHost(r.host.of(r.buf)):
		return ErrHost
	case r.flags&fConnection == 0:
		return ErrConnectionToken
	case r.flags&fUpgrade == 0:
		return ErrUpgradeToken
	case string(r.vers.of(r.buf)) != "13":
		return ErrVersion
	case !validKey(r.key.of(r.buf)):
		return ErrKey
	}
	return nil
}

// done reports whether the request was parsed successfully; the accessors
// return nil before that.
func (r *Request) done() bool { return r.state == stDone }

// field returns the bytes of s, or nil before Done or for a header that was
// not sent (a header's span never ends at 0: the request line comes first).
func (r *Request) field(s span) []byte {
	if !r.done() || s.end == 0 {
		return nil
	}
	return s.of(r.buf)
}

// RequestURI returns the request target exactly as sent, such as
// "/chat?room=1" (or an absolute URI, which clients rarely send).
func (r *Request) RequestURI() []byte { return r.field(r.target) }

// Path returns the path part of the request target, without the query.
// It is empty for an absolute URI without a path.
func (r *Request) Path() []byte {
	t := r.RequestURI()
	if r.flags&fAbsolute != 0 {
		_, t, _ = splitAbsolute(t)
	}
	if i := bytes.IndexByte(t, '?'); i >= 0 {
		t = t[:i]
	}
	return t
}

// Query returns the query part of the request target, after '?', or nil.
func (r *Request) Query() []byte {
	t := r.RequestURI()
	if i := bytes.IndexByte(t, '?'); i >= 0 {
		return t[i+1:]
	}
	return nil
}

// Host returns the host the request is for: the Host header's value or,
// for an absolute-form request target, the target's authority (RFC 9112
// §3.2.2), as net/http's Request.Host does.
func (r *Request) Host() []byte { return r.field(r.host) }

// Origin returns the Origin header's value, or nil if there was none (an
// empty header gives an empty, non-nil slice).
func (r *Request) Origin() []byte { return r.field(r.origin) }

// Key returns the Sec-WebSocket-Key header's value.
func (r *Request) Key() []byte { return r.field(r.key) }

// HeadLen returns the length of the request head once Parse is Done.
func (r *Request) HeadLen() int { return int(r.end) }

// Headers iterates over the request's header fields in the order they were
// sent, with names as sent and values without surrounding whitespace.
func (r *Request) Headers() iter.Seq2[[]byte, []byte] {
	return func(yield func(name, value []byte) bool) {
		if !r.done() {
			return
		}
		it := headerIter{buf: r.buf, pos: int(r.head), end: int(r.end)}
		for name, value, ok := it.next(); ok; name, value, ok = it.next() {
			if !yield(name, value) {
				return
			}
		}
	}
}

// Header returns the value of the first header field called name (compared
// case-insensitively), or nil if there is none.
func (r *Request) Header(name string) []byte {
	if !r.done() {
		return nil
	}
	it := headerIter{buf: r.buf, pos: int(r.head), end: int(r.end)}
	for n, v, ok := it.next(); ok; n, v, ok = it.next() {
		if equalFold(n, name) {
			return v
		}
	}
	return nil
}

// values calls fn with the value of every header line called name, which
// must be lower case. first and many come from the parser's index, so the
// usual single line is found without scanning.
func (r *Request) values(name string, first span, many bool, fn func([]byte) bool) {
	if first.end == 0 {
		return
	}
	if !many {
		fn(first.of(r.buf))
		return
	}
	it := headerIter{buf: r.buf, pos: int(r.head), end: int(r.end)}
	for n, v, ok := it.next(); ok; n, v, ok = it.next() {
		if equalFold(n, name) && !fn(v) {
			return
		}
	}
}

// Subprotocols appends to dst the subprotocols the client offered in
// Sec-WebSocket-Protocol, in its order, and returns the extended slice.
func (r *Request) Subprotocols(dst [][]byte) [][]byte {
	if !r.done() {
		return dst
	}
	r.values("sec-websocket-protocol", r.proto, r.flags&fProtoMany != 0, func(v []byte) bool {
		for item, i, ok := nextItem(v, 0); ok; item, i, ok = nextItem(v, i) {
			dst = append(dst, item)
		}
		return true
	})
	return dst
}

// Extensions calls yield with each Sec-WebSocket-Extensions header value
// the client sent, in order.
func (r *Request) Extensions() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if r.done() {
			r.values("sec-websocket-extensions", r.exts, r.flags&fExtsMany != 0, yield)
		}
	}
}
