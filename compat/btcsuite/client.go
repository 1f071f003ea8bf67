package websocket

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	compat "github.com/lullws/lull/compat"
	"github.com/lullws/lull/compat/internal/hooks"
)

// ErrBadHandshake is returned by Dial and NewClient when the server's
// response is not a valid 101 upgrade; the response is returned with it so
// that its status (401, 403, a redirect) can be read. It is the same value
// as compat's ErrBadHandshake.
var ErrBadHandshake = compat.ErrBadHandshake

// errMalformedURL has btcsuite's text, without the "websocket:" prefix.
var errMalformedURL = errors.New("malformed ws or wss URL")

// NewClient performs the client handshake on netConn, an established
// connection, and returns the WebSocket connection. The request names
// u.RequestURI() and u.Host; the scheme of u is not looked at. Every
// requestHeader line is written as given (Origin, Sec-WebSocket-Protocol,
// Cookie...). The response's headers hold the server's choices
// (Sec-WebSocket-Protocol, Set-Cookie).
//
// If the response is not a valid 101 upgrade, NewClient returns
// ErrBadHandshake with the response.
func NewClient(netConn net.Conn, u *url.URL, requestHeader http.Header, readBufSize, writeBufSize int) (c *Conn, response *http.Response, err error) {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, nil, err
	}
	challengeKey := base64.StdEncoding.EncodeToString(nonce[:])

	p := make([]byte, 0, 512)
	p = append(p, "GET "...)
	p = append(p, u.RequestURI()...)
	p = append(p, " HTTP/1.1\r\nHost: "...)
	p = append(p, u.Host...)
	p = append(p, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "...)
	p = append(p, challengeKey...)
	p = append(p, "\r\n"...)
	for k, vs := range requestHeader {
		for _, v := range vs {
			p = append(p, k...)
			p = append(p, ": "...)
			p = append(p, v...)
			p = append(p, "\r\n"...)
		}
	}
	p = append(p, "\r\n"...)
	if _, err := netConn.Write(p); err != nil {
		return nil, nil, err
	}

	size := readBufSize
	if size <= 0 {
		size = 4096
	}
	br := bufio.NewReaderSize(netConn, size)
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET", URL: u})
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols ||
		!strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") ||
		!strings.EqualFold(resp.Header.Get("Connection"), "upgrade") ||
		resp.Header.Get("Sec-Websocket-Accept") != acceptKey(challengeKey) {
		return nil, resp, ErrBadHandshake
	}
	// The server's first frames may have come in with the response.
	leftover, _ := br.Peek(br.Buffered())
	cc := hooks.NewConn(netConn, false, readBufSize, writeBufSize, leftover, resp.Header.Get("Sec-Websocket-Protocol")).(*compat.Conn)
	return newConn(cc), resp, nil
}

// A Dialer contains options for connecting to a WebSocket server. Its
// fields are btcsuite's, in btcsuite's order, so unkeyed composite literals
// written for btcsuite compile. The zero value, and a nil *Dialer, dial
// with no timeout and 4096-byte buffers.
type Dialer struct {
	// NetDial dials the TCP connection ("tcp", "host:port"). If nil,
	// net.Dialer is used (with the handshake deadline, if any).
	NetDial func(network, addr string) (net.Conn, error)

	// TLSClientConfig configures wss:// connections. If nil, the
	// configuration is {ServerName: host}; if its ServerName is empty, a
	// copy with the URL's host is used. The host name is verified unless
	// InsecureSkipVerify is set.
	TLSClientConfig *tls.Config

	// HandshakeTimeout, if not zero, bounds the whole handshake: the TCP
	// dial, TLS and the HTTP exchange. A negative value always fails.
	HandshakeTimeout time.Duration

	// ReadBufferSize and WriteBufferSize are the sizes of the pooled
	// buffers the connection reads and writes through (0: 4096). They do
	// not limit the size of messages.
	ReadBufferSize, WriteBufferSize int

	// Subprotocols lists the protocols to ask for, sent as one
	// Sec-Websocket-Protocol header (replacing any in requestHeader).
	Subprotocols []string
}

// DefaultDialer is a dialer with all fields set to their zero values: a
// nil pointer, whose Dial works (as btcsuite's always has).
var DefaultDialer *Dialer

// parseURL accepts exactly "ws://" and "wss://" (lower case) followed by
// the host, which runs to the first '/'; the rest is sent as it stands
// (no percent-decoding), or "/" if there is none.
func parseURL(s string) (*url.URL, error) {
	var u url.URL
	switch {
	case strings.HasPrefix(s, "ws://"):
		u.Scheme, s = "ws", s[len("ws://"):]
	case strings.HasPrefix(s, "wss://"):
		u.Scheme, s = "wss", s[len("wss://"):]
	default:
		return nil, errMalformedURL
	}
	u.Host, u.Opaque = s, "/"
	if i := strings.IndexByte(s, '/'); i >= 0 {
		u.Host, u.Opaque = s[:i], s[i:]
	}
	return &u, nil
}

// hostPort returns the host with a port (80 or 443 added if it has none)
// and without.
func hostPort(u *url.URL) (withPort, noPort string) {
	withPort, noPort = u.Host, u.Host
	if i := strings.LastIndex(u.Host, ":"); i > strings.LastIndex(u.Host, "]") {
		noPort = noPort[:i]
	} else if u.Scheme == "wss" {
		withPort += ":443"
	} else {
		withPort += ":80"
	}
	return withPort, noPort
}

// Dial connects to the ws:// or wss:// URL urlStr and performs the
// handshake. requestHeader lines are sent as given (Origin, Cookie...);
// the response's headers hold the server's choices (Sec-WebSocket-Protocol,
// Set-Cookie). Dial may be called on a nil *Dialer.
//
// Any other scheme gives the error "malformed ws or wss URL" and no
// response. If the response is not a valid 101 upgrade, Dial returns
// ErrBadHandshake with the response.
func (d *Dialer) Dial(urlStr string, requestHeader http.Header) (*Conn, *http.Response, error) {
	u, err := parseURL(urlStr)
	if err != nil {
		return nil, nil, err
	}
	addr, host := hostPort(u)
	if d == nil {
		d = &Dialer{}
	}
	var deadline time.Time
	if d.HandshakeTimeout != 0 {
		deadline = time.Now().Add(d.HandshakeTimeout)
	}
	netDial := d.NetDial
	if netDial == nil {
		netDial = (&net.Dialer{Deadline: deadline}).Dial
	}
	netConn, err := netDial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	ok := false
	defer func() {
		if !ok {
			netConn.Close()
		}
	}()
	if err := netConn.SetDeadline(deadline); err != nil {
		return nil, nil, err
	}
	if u.Scheme == "wss" {
		cfg := d.TLSClientConfig
		if cfg == nil {
			cfg = &tls.Config{ServerName: host}
		} else if cfg.ServerName == "" {
			cfg = cfg.Clone()
			cfg.ServerName = host
		}
		tlsConn := tls.Client(netConn, cfg)
		netConn = tlsConn
		if err := tlsConn.Handshake(); err != nil {
			return nil, nil, err
		}
		if !cfg.InsecureSkipVerify {
			if err := tlsConn.VerifyHostname(cfg.ServerName); err != nil {
				return nil, nil, err
			}
		}
	}
	if len(d.Subprotocols) > 0 {
		h := make(http.Header, len(requestHeader)+1)
		for k, v := range requestHeader {
			h[k] = v
		}
		h.Set("Sec-Websocket-Protocol", strings.Join(d.Subprotocols, ", "))
		requestHeader = h
	}
	conn, resp, err := NewClient(netConn, u, requestHeader, d.ReadBufferSize, d.WriteBufferSize)
	if err != nil {
		return nil, resp, err
	}
	netConn.SetDeadline(time.Time{})
	ok = true
	return conn, resp, nil
}
