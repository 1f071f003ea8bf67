package websocket

import (
	"bufio"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lullws/lull/compat/internal/hooks"
	"github.com/lullws/lull/upgrade"
)

// Upgrader specifies parameters for upgrading an HTTP connection to a
// WebSocket connection.
//
// It is safe to call Upgrader's methods concurrently.
type Upgrader struct {
	// HandshakeTimeout specifies the duration for the handshake to complete.
	HandshakeTimeout time.Duration

	// ReadBufferSize and WriteBufferSize specify I/O buffer sizes in bytes.
	// If a buffer size is zero, a size of 4096 is used. The buffers are
	// pooled: a connection holds a read buffer only while bytes it has
	// read are pending, and a write buffer only while a message written
	// with NextWriter is open. The sizes do not limit the size of the
	// messages that can be sent or received.
	ReadBufferSize, WriteBufferSize int

	// WriteBufferPool is a pool of buffers for write operations. If the
	// value is not set, the package's own pools are used.
	WriteBufferPool BufferPool

	// Subprotocols specifies the server's supported protocols in order of
	// preference. If this field is not nil, then the Upgrade method
	// negotiates a subprotocol by selecting the first match in this list
	// with a protocol requested by the client. If there's no match, then no
	// protocol is negotiated (the Sec-Websocket-Protocol header is not
	// included in the handshake response).
	Subprotocols []string

	// Error specifies the function for generating HTTP error responses. If
	// Error is nil, then http.Error is used to generate the HTTP response.
	Error func(w http.ResponseWriter, r *http.Request, status int, reason error)

	// CheckOrigin returns true if the request Origin header is acceptable.
	// If CheckOrigin is nil, then a safe default is used: return false if
	// the Origin request header is present and the origin host is not
	// equal to request Host header.
	//
	// A CheckOrigin function should carefully validate the request origin
	// to prevent cross-site request forgery.
	CheckOrigin func(r *http.Request) bool

	// EnableCompression specify if the server should attempt to negotiate
	// per message compression (RFC 7692).
	EnableCompression bool
}

func (u *Upgrader) returnError(w http.ResponseWriter, r *http.Request, status int, reason string) (*Conn, error) {
	err := HandshakeError{reason}
	if u.Error != nil {
		u.Error(w, r, status, err)
	} else {
		w.Header().Set("Sec-Websocket-Version", "13")
		http.Error(w, http.StatusText(status), status)
	}
	return nil, err
}

// checkSameOrigin is the default origin policy: no Origin header, or one
// whose host is the request's Host.
func checkSameOrigin(r *http.Request) bool {
	origin := r.Header["Origin"]
	if len(origin) == 0 {
		return true
	}
	return upgrade.SameOrigin(origin[0], r.Host)
}

func (u *Upgrader) selectSubprotocol(r *http.Request, responseHeader http.Header) string {
	if u.Subprotocols != nil {
		clientProtocols := Subprotocols(r)
		for _, s := range u.Subprotocols {
			for _, c := range clientProtocols {
				if c == s {
					return c
				}
			}
		}
	} else if responseHeader != nil {
		return responseHeader.Get("Sec-Websocket-Protocol")
	}
	return ""
}

// isValidChallengeKey reports whether s is the base64 form of 16 bytes.
func isValidChallengeKey(s string) bool {
	if len(s) != 24 {
		return false
	}
	var b [18]byte
	n, err := base64.StdEncoding.Decode(b[:], []byte(s))
	return err == nil && n == 16
}

// Upgrade upgrades the HTTP server connection to the WebSocket protocol.
//
// The responseHeader is included in the response to the client's upgrade
// request. Use the responseHeader to specify cookies (Set-Cookie). To
// specify subprotocols supported by the server, set Upgrader.Subprotocols
// directly.
//
// If the upgrade fails, then Upgrade replies to the client with an HTTP
// error response and returns a HandshakeError.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header) (*Conn, error) {
	return u.upgrade(w, r, responseHeader, false)
}

func (u *Upgrader) upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header, forEvents bool) (*Conn, error) {
	const badHandshake = "websocket: the client is not using the websocket protocol: "

	if !tokenListContainsValue(r.Header, "Connection", "upgrade") {
		return u.returnError(w, r, http.StatusBadRequest, badHandshake+"'upgrade' token not found in 'Connection' header")
	}
	if !tokenListContainsValue(r.Header, "Upgrade", "websocket") {
		return u.returnError(w, r, http.StatusBadRequest, badHandshake+"'websocket' token not found in 'Upgrade' header")
	}
	if r.Method != http.MethodGet {
		return u.returnError(w, r, http.StatusMethodNotAllowed, badHandshake+"request method is not GET")
	}
	if !tokenListContainsValue(r.Header, "Sec-Websocket-Version", "13") {
		return u.returnError(w, r, http.StatusBadRequest, "websocket: unsupported version: 13 not found in 'Sec-Websocket-Version' header")
	}
	if _, ok := responseHeader["Sec-Websocket-Extensions"]; ok {
		return u.returnError(w, r, http.StatusInternalServerError, "websocket: application specific 'Sec-WebSocket-Extensions' headers are unsupported")
	}
	checkOrigin := u.CheckOrigin
	if checkOrigin == nil {
		checkOrigin = checkSameOrigin
	}
	if !checkOrigin(r) {
		return u.returnError(w, r, http.StatusForbidden, "websocket: request origin not allowed by Upgrader.CheckOrigin")
	}
	challengeKey := r.Header.Get("Sec-Websocket-Key")
	if !isValidChallengeKey(challengeKey) {
		return u.returnError(w, r, http.StatusBadRequest, "websocket: not a websocket handshake: 'Sec-WebSocket-Key' header must be Base64 encoded value of 16-byte in length")
	}
	subprotocol := u.selectSubprotocol(r, responseHeader)
	// permessage-deflate: the first offer compat can honour (its compressor
	// keeps a 32 KiB window and no context), answered per RFC 7692 (an
	// offered server_max_window_bits is echoed, or the offer declined).
	var deflate upgrade.DeflateParams
	compress := false
	if u.EnableCompression && compressionSupported {
		deflate, compress = upgrade.NegotiateDeflate(&upgrade.DeflatePolicy{}, r.Header["Sec-Websocket-Extensions"]...)
	}

	h, ok := w.(http.Hijacker)
	if !ok {
		return u.returnError(w, r, http.StatusInternalServerError, "websocket: response does not implement http.Hijacker")
	}
	netConn, brw, err := h.Hijack()
	if err != nil {
		return u.returnError(w, r, http.StatusInternalServerError, err.Error())
	}
	if brw.Reader.Buffered() > 0 {
		netConn.Close()
		return nil, errEarlyData
	}
	// brw is the server connection's own 4 KiB reader and 4 KiB writer,
	// which net/http keeps until the handler returns: in the usual style,
	// for the connection's whole life. compat reads and writes the socket
	// itself and the reader holds nothing, so let both buffers go.
	*brw.Reader = bufio.Reader{}
	*brw.Writer = bufio.Writer{}

	// The response head is built in a pooled buffer.
	bp := getBuf(1024)
	p := (*bp)[:0]
	p = append(p, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	var accept [28]byte
	upgrade.ComputeAccept(&accept, []byte(challengeKey))
	p = append(p, accept[:]...)
	p = append(p, "\r\n"...)
	if subprotocol != "" {
		p = append(p, "Sec-WebSocket-Protocol: "...)
		p = append(p, subprotocol...)
		p = append(p, "\r\n"...)
	}
	if compress {
		p = append(p, "Sec-WebSocket-Extensions: "...)
		p = deflate.AppendExtension(p, false)
		p = append(p, "\r\n"...)
	}
	p = hooks.AppendResponseHeader(p, responseHeader)
	p = append(p, "\r\n"...)

	netConn.SetDeadline(time.Time{})
	if u.HandshakeTimeout > 0 {
		netConn.SetWriteDeadline(time.Now().Add(u.HandshakeTimeout))
	}
	_, err = netConn.Write(p)
	if cap(p) == cap(*bp) {
		putBuf(bp)
	}
	if err != nil {
		netConn.Close()
		return nil, err
	}
	if u.HandshakeTimeout > 0 {
		netConn.SetWriteDeadline(time.Time{})
	}
	c := newConnFor(netConn, true, u.ReadBufferSize, u.WriteBufferSize, u.WriteBufferPool, nil, forEvents)
	c.setSubprotocol(subprotocol)
	if compress {
		c.enableDeflate()
	}
	return c, nil
}

// Upgrade upgrades the HTTP server connection to the WebSocket protocol.
//
// Deprecated: Use websocket.Upgrader instead.
//
// Upgrade does not perform origin checking. The application is responsible
// for checking the Origin header before calling Upgrade. It writes no HTTP
// response when the handshake fails: the application must.
//
// If the endpoint supports subprotocols, then the application is responsible
// for negotiating the protocol used on the connection. Use the Subprotocols()
// function to get the subprotocols requested by the client. Use the
// Sec-Websocket-Protocol response header to specify the subprotocol selected
// by the application.
//
// The responseHeader is included in the response to the client's upgrade
// request. Use the responseHeader to specify cookies (Set-Cookie) and the
// negotiated subprotocol (Sec-Websocket-Protocol).
//
// If the request is not a valid WebSocket handshake, then Upgrade returns
// an error of type HandshakeError. Applications should handle this error by
// replying to the client with an HTTP error response.
func Upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header, readBufSize, writeBufSize int) (*Conn, error) {
	u := Upgrader{ReadBufferSize: readBufSize, WriteBufferSize: writeBufSize}
	u.Error = func(w http.ResponseWriter, r *http.Request, status int, reason error) {
		// Nothing is written: the caller answers.
	}
	u.CheckOrigin = func(r *http.Request) bool { return true }
	return u.Upgrade(w, r, responseHeader)
}

// Subprotocols returns the subprotocols requested by the client in the
// Sec-Websocket-Protocol header.
func Subprotocols(r *http.Request) []string {
	h := strings.TrimSpace(r.Header.Get("Sec-Websocket-Protocol"))
	if h == "" {
		return nil
	}
	protocols := strings.Split(h, ",")
	for i := range protocols {
		protocols[i] = strings.TrimSpace(protocols[i])
	}
	return protocols
}

// IsWebSocketUpgrade returns true if the client requested upgrade to the
// WebSocket protocol.
func IsWebSocketUpgrade(r *http.Request) bool {
	return tokenListContainsValue(r.Header, "Connection", "upgrade") &&
		tokenListContainsValue(r.Header, "Upgrade", "websocket")
}

var _ = url.Parse
