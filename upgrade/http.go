package upgrade

import (
	"bufio"
	"errors"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"
)

// UpgradeHTTP performs the server handshake for a request received by a
// net/http server: the same checks as Parse and Accept, applied to r, then
// it hijacks the connection and writes the 101 response with the extra
// header fields, sorted by name (they must not be handshake-owned or
// contain control bytes; see AppendResponse).
//
// On success the caller owns conn, whose deadlines have been cleared, and
// rw: rw.Reader may already hold bytes the client sent after its request
// (its first frames), so the WebSocket stream must be read through
// rw.Reader (or its buffered bytes taken first), never from conn directly
// until rw.Reader.Buffered() is 0. rw.Writer is empty and may be reused as
// the connection's write buffer.
//
// On failure before the hijack, UpgradeHTTP answers with the *Error's
// status (through s.HTTPError if set) and returns that *Error. If the hijack
// itself fails it returns the hijack error with nothing written.
func (s *Server) UpgradeHTTP(w http.ResponseWriter, r *http.Request, extra http.Header) (conn net.Conn, rw *bufio.ReadWriter, res Result, err error) {
	var e *Error
	res, e = s.checkHTTP(r, extra)
	if e != nil {
		s.writeHTTPError(w, r, e)
		return nil, nil, res, e
	}
	conn, rw, err = http.NewResponseController(w).Hijack()
	if err != nil {
		if errors.Is(err, http.ErrNotSupported) {
			s.writeHTTPError(w, r, ErrNotHijacker)
			return nil, nil, res, ErrNotHijacker
		}
		return nil, nil, res, err
	}
	conn.SetDeadline(time.Time{})
	if n := rw.Writer.Buffered(); n > 0 {
		// Cannot happen with net/http's server; refuse rather than send
		// stray bytes ahead of the 101.
		conn.Close()
		return nil, nil, res, ErrNotHijacker
	}
	b := appendResponseHead(rw.Writer.AvailableBuffer(), r.Header.Get("Sec-WebSocket-Key"), &res)
	if len(extra) > 0 {
		for _, name := range slices.Sorted(maps.Keys(extra)) { // as http.Header.Write orders them
			for _, v := range extra[name] {
				b = appendField(b, name, v)
			}
		}
	}
	b = append(b, "\r\n"...)
	if _, err = rw.Writer.Write(b); err == nil {
		err = rw.Writer.Flush()
	}
	if err != nil {
		conn.Close()
		return nil, nil, res, err
	}
	return conn, rw, res, nil
}

func (s *Server) writeHTTPError(w http.ResponseWriter, r *http.Request, e *Error) {
	if s.HTTPError != nil {
		s.HTTPError(w, r, e)
		return
	}
	h := w.Header()
	switch e.Status {
	case http.StatusUpgradeRequired:
		h.Set("Sec-WebSocket-Version", "13")
	case http.StatusMethodNotAllowed:
		h.Set("Allow", "GET")
	}
	h.Set("Connection", "close")
	http.Error(w, e.Reason, e.Status)
}

// checkHTTP runs the handshake checks on r in the same order as the raw
// path (Parse, Accept, AppendResponse), so both paths give the same status
// for the same request.
func (s *Server) checkHTTP(r *http.Request, extra http.Header) (res Result, e *Error) {
	if r.Method != http.MethodGet {
		return res, ErrMethod
	}
	if r.ProtoMajor != 1 || r.ProtoMinor < 1 {
		return res, ErrHTTPVersion
	}
	h := r.Header
	if len(h["Origin"]) > 1 || len(h["Sec-Websocket-Key"]) > 1 || len(h["Sec-Websocket-Version"]) > 1 {
		return res, ErrDuplicateHeader
	}
	switch {
	case !validHost(r.Host):
		return res, ErrHost
	case !anyHasToken(h["Connection"], "upgrade"):
		return res, ErrConnectionToken
	case !anyHasToken(h["Upgrade"], "websocket"):
		return res, ErrUpgradeToken
	case h.Get("Sec-Websocket-Version") != "13":
		return res, ErrVersion
	case !validKey(h.Get("Sec-Websocket-Key")):
		return res, ErrKey
	}
	if s.CheckOriginHTTP != nil {
		if !s.CheckOriginHTTP(r) {
			return res, ErrOrigin
		}
	} else if o := h["Origin"]; !sameOrigin(len(o) > 0, h.Get("Origin"), r.Host) {
		return res, ErrOrigin
	}
	if offered := h["Sec-Websocket-Protocol"]; len(offered) > 0 {
	pick:
		for _, want := range s.Subprotocols {
			for _, v := range offered {
				if listContains(v, want) {
					res.Subprotocol = want
					break pick
				}
			}
		}
	}
	if s.Deflate != nil {
		res.DeflateParams, res.Deflate = NegotiateDeflate(s.Deflate, h["Sec-Websocket-Extensions"]...)
	}
	if !res.valid() {
		return res, ErrResponseHeader
	}
	for name, values := range extra {
		for _, v := range values {
			if !validField(name, v, ownedResponse[:]) {
				return res, ErrResponseHeader
			}
		}
	}
	return res, nil
}

func anyHasToken(values []string, tok string) bool {
	for _, v := range values {
		if hasToken(v, tok) {
			return true
		}
	}
	return false
}
