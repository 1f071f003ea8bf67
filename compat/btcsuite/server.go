package websocket

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	compat "github.com/lullws/lull/compat"
	"github.com/lullws/lull/compat/internal/hooks"
)

// HandshakeError is the error Upgrade returns when a request is not an
// acceptable WebSocket handshake. It is a value type: callers test for it with err.(websocket.HandshakeError).
type HandshakeError struct {
	message string
}

func (e HandshakeError) Error() string { return e.message }

// Upgrader holds the settings of the server side of the handshake. Its
// methods may be called concurrently. Its fields are btcsuite's, in btcsuite's order, so
// unkeyed composite literals written for btcsuite compile.
type Upgrader struct {
	// HandshakeTimeout, if positive, bounds the write of the 101 response.
	HandshakeTimeout time.Duration

	// ReadBufferSize and WriteBufferSize are the sizes of the pooled
	// buffers the connection reads and writes through (0: 4096). They do
	// not limit the size of messages.
	ReadBufferSize, WriteBufferSize int

	// Subprotocols lists the server's protocols in order of preference.
	// If it is not nil, Upgrade picks the first of them that the client
	// asked for (or none); if it is nil, the protocol is the value of
	// Sec-Websocket-Protocol in the responseHeader given to Upgrade.
	Subprotocols []string

	// Error writes the HTTP error response of a failed handshake. If nil,
	// http.Error writes the status text with the status.
	Error func(w http.ResponseWriter, r *http.Request, status int, reason error)

	// CheckOrigin returns true to accept the request's Origin. If nil, a
	// request is accepted when it has no Origin header or when the
	// Origin's host equals the request's Host (compared exactly).
	CheckOrigin func(r *http.Request) bool
}

func (u *Upgrader) returnError(w http.ResponseWriter, r *http.Request, status int, reason string) (*Conn, error) {
	err := HandshakeError{reason}
	if u.Error != nil {
		u.Error(w, r, status, err)
	} else {
		http.Error(w, http.StatusText(status), status)
	}
	return nil, err
}

func checkSameOrigin(r *http.Request) bool {
	origin := r.Header["Origin"]
	if len(origin) == 0 {
		return true
	}
	u, err := url.Parse(origin[0])
	return err == nil && u.Host == r.Host
}

func (u *Upgrader) selectSubprotocol(r *http.Request, responseHeader http.Header) string {
	if u.Subprotocols == nil {
		if responseHeader == nil {
			return ""
		}
		return responseHeader.Get("Sec-Websocket-Protocol")
	}
	offered := Subprotocols(r)
	for _, p := range u.Subprotocols {
		for _, o := range offered {
			if o == p {
				return p
			}
		}
	}
	return ""
}

// headerHasToken reports whether a comma-separated value of the header
// name contains token, compared without regard to case.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h[name] {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func acceptKey(challengeKey string) string {
	h := sha1.New()
	h.Write([]byte(challengeKey))
	h.Write([]byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// Upgrade upgrades the HTTP server connection to the WebSocket protocol,
// with btcsuite's checks in btcsuite's order: the first
// Sec-Websocket-Version value must be "13", Connection must hold the token
// "upgrade" and Upgrade the token "websocket" (400 otherwise), the origin
// must pass CheckOrigin (403), Sec-Websocket-Key must not be empty (400),
// and w must be an http.Hijacker (500). The method is not checked. On
// failure it calls Error (or http.Error) and returns a HandshakeError.
//
// responseHeader is added to the 101 response (cookies, for instance);
// bytes below 0x20 in its values are written as spaces. If the client sent
// data before the handshake completed, the connection is closed and a plain
// error (not a HandshakeError) is returned.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header) (*Conn, error) {
	if v := r.Header["Sec-Websocket-Version"]; len(v) == 0 || v[0] != "13" {
		return u.returnError(w, r, http.StatusBadRequest, "websocket: version != 13")
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") {
		return u.returnError(w, r, http.StatusBadRequest, "websocket: could not find connection header with token 'upgrade'")
	}
	if !headerHasToken(r.Header, "Upgrade", "websocket") {
		return u.returnError(w, r, http.StatusBadRequest, "websocket: could not find upgrade header with token 'websocket'")
	}
	checkOrigin := u.CheckOrigin
	if checkOrigin == nil {
		checkOrigin = checkSameOrigin
	}
	if !checkOrigin(r) {
		return u.returnError(w, r, http.StatusForbidden, "websocket: origin not allowed")
	}
	challengeKey := r.Header.Get("Sec-Websocket-Key")
	if challengeKey == "" {
		return u.returnError(w, r, http.StatusBadRequest, "websocket: key missing or blank")
	}
	subprotocol := u.selectSubprotocol(r, responseHeader)

	h, ok := w.(http.Hijacker)
	if !ok {
		return u.returnError(w, r, http.StatusInternalServerError, "websocket: response does not implement http.Hijacker")
	}
	netConn, rw, err := h.Hijack()
	if err != nil {
		return u.returnError(w, r, http.StatusInternalServerError, err.Error())
	}
	if rw.Reader.Buffered() > 0 {
		netConn.Close()
		return nil, errors.New("websocket: client sent data before handshake is complete")
	}
	// rw is the server connection's own reader and writer, which net/http
	// keeps until the handler returns; nothing here uses them, so let their
	// 8 KiB go (see compat's Upgrader.Upgrade).
	*rw.Reader = bufio.Reader{}
	*rw.Writer = bufio.Writer{}

	p := make([]byte, 0, 256)
	p = append(p, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	p = append(p, acceptKey(challengeKey)...)
	p = append(p, "\r\n"...)
	if subprotocol != "" {
		p = append(p, "Sec-Websocket-Protocol: "...)
		p = append(p, subprotocol...)
		p = append(p, "\r\n"...)
	}
	p = hooks.AppendResponseHeader(p, responseHeader)
	p = append(p, "\r\n"...)

	netConn.SetDeadline(time.Time{}) // the HTTP server's deadlines no longer apply
	if u.HandshakeTimeout > 0 {
		netConn.SetWriteDeadline(time.Now().Add(u.HandshakeTimeout))
	}
	if _, err := netConn.Write(p); err != nil {
		netConn.Close()
		return nil, err
	}
	if u.HandshakeTimeout > 0 {
		netConn.SetWriteDeadline(time.Time{})
	}
	c := hooks.NewConn(netConn, true, u.ReadBufferSize, u.WriteBufferSize, nil, subprotocol).(*compat.Conn)
	return newConn(c), nil
}

// Upgrade upgrades the HTTP server connection to the WebSocket protocol.
//
// Deprecated: use Upgrader. This function checks no origin, and when the
// handshake fails it writes no HTTP response: the caller must write one
// (else net/http sends an empty 200). It still returns a HandshakeError.
// The subprotocol, if any, is the Sec-Websocket-Protocol value of
// responseHeader.
func Upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header, readBufSize, writeBufSize int) (*Conn, error) {
	u := Upgrader{
		ReadBufferSize:  readBufSize,
		WriteBufferSize: writeBufSize,
		Error:           func(http.ResponseWriter, *http.Request, int, error) {},
		CheckOrigin:     func(*http.Request) bool { return true },
	}
	return u.Upgrade(w, r, responseHeader)
}

// Subprotocols returns the protocols the client asked for: the first
// Sec-Websocket-Protocol value split at commas, each trimmed of spaces, or
// nil if there is none.
func Subprotocols(r *http.Request) []string { return compat.Subprotocols(r) }
