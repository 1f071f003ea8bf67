package websocket

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lullws/lull/upgrade"
)

// NewClient creates a new client connection using the given net connection.
// The URL u specifies the host and request URI. Use requestHeader to specify
// the origin (Origin), subprotocols (Sec-WebSocket-Protocol) and cookies
// (Cookie). Use the response.Header to get the selected subprotocol
// (Sec-WebSocket-Protocol) and cookies (Set-Cookie).
//
// If the WebSocket handshake fails, ErrBadHandshake is returned along with a
// non-nil *http.Response so that callers can handle redirects,
// authentication, etc.
//
// Deprecated: Use Dialer instead.
func NewClient(netConn net.Conn, u *url.URL, requestHeader http.Header, readBufSize, writeBufSize int) (c *Conn, response *http.Response, err error) {
	d := Dialer{
		ReadBufferSize:  readBufSize,
		WriteBufferSize: writeBufSize,
		NetDial: func(net, addr string) (net.Conn, error) {
			return netConn, nil
		},
	}
	return d.Dial(u.String(), requestHeader)
}

// A Dialer contains options for connecting to WebSocket server.
//
// It is safe to call Dialer's methods concurrently.
type Dialer struct {
	// NetDial specifies the dial function for creating TCP connections. If
	// NetDial is nil, net.Dial is used.
	NetDial func(network, addr string) (net.Conn, error)

	// NetDialContext specifies the dial function for creating TCP
	// connections. If NetDialContext is nil, NetDial is used.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// NetDialTLSContext specifies the dial function for creating TLS/TCP
	// connections. If NetDialTLSContext is nil, NetDialContext is used. If
	// NetDialTLSContext is set, Dial assumes the TLS handshake is done there
	// and TLSClientConfig is ignored.
	NetDialTLSContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Proxy specifies a function to return a proxy for a given Request. If
	// the function returns a non-nil error, the request is aborted with the
	// provided error. If Proxy is nil or returns a nil *URL, no proxy is
	// used.
	Proxy func(*http.Request) (*url.URL, error)

	// TLSClientConfig specifies the TLS configuration to use with tls.Client.
	// If nil, the default configuration is used. If either NetDialTLS or
	// NetDialTLSContext are set, Dial assumes the TLS handshake is done
	// there and TLSClientConfig is ignored.
	TLSClientConfig *tls.Config

	// HandshakeTimeout specifies the duration for the handshake to complete.
	HandshakeTimeout time.Duration

	// ReadBufferSize and WriteBufferSize specify I/O buffer sizes in bytes.
	// If a buffer size is zero, then a size of 4096 is used. The buffers
	// are pooled and do not limit the size of the messages that can be
	// sent or received.
	ReadBufferSize, WriteBufferSize int

	// WriteBufferPool is a pool of buffers for write operations. If the
	// value is not set, the package's own pools are used.
	WriteBufferPool BufferPool

	// Subprotocols specifies the client's requested subprotocols.
	Subprotocols []string

	// EnableCompression specifies if the client should attempt to negotiate
	// per message compression (RFC 7692).
	EnableCompression bool

	// Jar specifies the cookie jar. If Jar is nil, cookies are not sent in
	// requests and ignored in responses.
	Jar http.CookieJar
}

// Dial creates a new client connection by calling DialContext with a
// background context.
func (d *Dialer) Dial(urlStr string, requestHeader http.Header) (*Conn, *http.Response, error) {
	return d.DialContext(context.Background(), urlStr, requestHeader)
}

func hostPortNoPort(u *url.URL) (hostPort, hostNoPort string) {
	hostPort = u.Host
	hostNoPort = u.Host
	if i := strings.LastIndex(u.Host, ":"); i > strings.LastIndex(u.Host, "]") {
		hostNoPort = hostNoPort[:i]
	} else {
		switch u.Scheme {
		case "wss", "https":
			hostPort += ":443"
		default:
			hostPort += ":80"
		}
	}
	return hostPort, hostNoPort
}

// DefaultDialer is a dialer with all fields set to the default values.
var DefaultDialer = &Dialer{
	Proxy:            http.ProxyFromEnvironment,
	HandshakeTimeout: 45 * time.Second,
}

// nilDialer is what a nil *Dialer dials with.
var nilDialer = *DefaultDialer

// DialContext creates a new client connection. Use requestHeader to specify
// the origin (Origin), subprotocols (Sec-WebSocket-Protocol) and cookies
// (Cookie). Use the response.Header to get the selected subprotocol
// (Sec-WebSocket-Protocol) and cookies (Set-Cookie).
//
// The context will be used in the request and in the Dialer.
//
// If the WebSocket handshake fails, ErrBadHandshake is returned along with a
// non-nil *http.Response so that callers can handle redirects,
// authentication, etcetera. The response body may not contain the entire
// response and does not need to be closed by the application.
func (d *Dialer) DialContext(ctx context.Context, urlStr string, requestHeader http.Header) (*Conn, *http.Response, error) {
	if d == nil {
		d = &nilDialer
	}
	u, err := url.Parse(urlStr)
	if err != nil {
		return nil, nil, err
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return nil, nil, errMalformedURL
	}
	if u.User != nil {
		// User name and password are not allowed in websocket URIs.
		return nil, nil, errMalformedURL
	}

	// req is what the Proxy function and the cookie jar see; the
	// handshake request itself is written by upgrade.Client.
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header),
		Host:       u.Host,
	}
	req = req.WithContext(ctx)
	if d.Jar != nil {
		for _, cookie := range d.Jar.Cookies(u) {
			req.AddCookie(cookie)
		}
	}

	cl := upgrade.Client{RequestURI: u.RequestURI(), Subprotocols: d.Subprotocols}
	if d.Subprotocols != nil && len(d.Subprotocols) == 0 {
		cl.Subprotocols = nil
	}
	for k, vs := range requestHeader {
		switch {
		case k == "Host":
			if len(vs) > 0 {
				req.Host = vs[0]
			}
		case k == "Upgrade" || k == "Connection" || k == "Sec-Websocket-Key" ||
			k == "Sec-Websocket-Version" || k == "Sec-Websocket-Extensions" ||
			(k == "Sec-Websocket-Protocol" && len(d.Subprotocols) > 0):
			return nil, nil, errors.New("websocket: duplicate header not allowed: " + k)
		case k == "Sec-Websocket-Protocol":
			for _, v := range vs {
				for _, p := range strings.Split(v, ",") {
					if p = strings.TrimSpace(p); p != "" {
						cl.Subprotocols = append(cl.Subprotocols, p)
					}
				}
			}
		case k == "Origin":
			if len(vs) > 0 {
				cl.Origin = vs[0]
			}
			for _, v := range vs[min(1, len(vs)):] {
				cl.Header = append(cl.Header, upgrade.Field{Name: k, Value: v})
			}
		default:
			for _, v := range vs {
				cl.Header = append(cl.Header, upgrade.Field{Name: k, Value: v})
			}
		}
	}
	if c := req.Header["Cookie"]; len(c) > 0 {
		cl.Header = append(cl.Header, upgrade.Field{Name: "Cookie", Value: strings.Join(c, "; ")})
	}
	cl.Host = req.Host
	if d.EnableCompression && compressionSupported {
		// client_max_window_bits lets the server limit this side's window
		// (Autobahn 13.3-13.6): below 15 bits messages are then compressed
		// with Huffman coding only, which keeps to any window.
		cl.Deflate = []upgrade.DeflateParams{{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ClientMaxWindowBits: 15}}
		cl.DeflateMinWindowBits = 8
	}

	if d.HandshakeTimeout != 0 {
		var cancel func()
		ctx, cancel = context.WithTimeout(ctx, d.HandshakeTimeout)
		defer cancel()
	}

	var netDial func(network, add string) (net.Conn, error)
	switch u.Scheme {
	case "http":
		if d.NetDialContext != nil {
			netDial = func(network, addr string) (net.Conn, error) { return d.NetDialContext(ctx, network, addr) }
		} else if d.NetDial != nil {
			netDial = d.NetDial
		}
	case "https":
		if d.NetDialTLSContext != nil {
			netDial = func(network, addr string) (net.Conn, error) { return d.NetDialTLSContext(ctx, network, addr) }
		} else if d.NetDialContext != nil {
			netDial = func(network, addr string) (net.Conn, error) { return d.NetDialContext(ctx, network, addr) }
		} else if d.NetDial != nil {
			netDial = d.NetDial
		}
	}
	if netDial == nil {
		netDialer := &net.Dialer{}
		netDial = func(network, addr string) (net.Conn, error) { return netDialer.DialContext(ctx, network, addr) }
	}
	if deadline, ok := ctx.Deadline(); ok {
		forwardDial := netDial
		netDial = func(network, addr string) (net.Conn, error) {
			c, err := forwardDial(network, addr)
			if err != nil {
				return nil, err
			}
			if err := c.SetDeadline(deadline); err != nil {
				c.Close()
				return nil, err
			}
			return c, nil
		}
	}
	if d.Proxy != nil {
		proxyURL, err := d.Proxy(req)
		if err != nil {
			return nil, nil, err
		}
		if proxyURL != nil {
			netDial, err = proxyDialer(proxyURL, netDial)
			if err != nil {
				return nil, nil, err
			}
		}
	}

	hostPort, hostNoPort := hostPortNoPort(u)
	trace := httptrace.ContextClientTrace(ctx)
	if trace != nil && trace.GetConn != nil {
		trace.GetConn(hostPort)
	}
	netConn, err := netDial("tcp", hostPort)
	if err != nil {
		return nil, nil, err
	}
	if trace != nil && trace.GotConn != nil {
		trace.GotConn(httptrace.GotConnInfo{Conn: netConn})
	}
	defer func() {
		if netConn != nil {
			netConn.Close()
		}
	}()

	if u.Scheme == "https" && d.NetDialTLSContext == nil {
		var cfg *tls.Config
		if d.TLSClientConfig == nil {
			cfg = &tls.Config{}
		} else {
			cfg = d.TLSClientConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = hostNoPort
		}
		tlsConn := tls.Client(netConn, cfg)
		netConn = tlsConn
		if trace != nil && trace.TLSHandshakeStart != nil {
			trace.TLSHandshakeStart()
		}
		err := tlsConn.HandshakeContext(ctx)
		if trace != nil && trace.TLSHandshakeDone != nil {
			trace.TLSHandshakeDone(tlsConn.ConnectionState(), err)
		}
		if err != nil {
			return nil, nil, err
		}
	}

	var key [24]byte
	if err := upgrade.NewKey(&key); err != nil {
		return nil, nil, err
	}
	bp := getBuf(4096)
	defer func() {
		if bp != nil {
			putBuf(bp)
		}
	}()
	out, err := cl.AppendRequest((*bp)[:0], &key)
	if err != nil {
		return nil, nil, fmt.Errorf("websocket: %w", err)
	}
	_, err = netConn.Write(out)
	if trace != nil {
		// What net/http's Request.Write reports, which gorilla's
		// handshake goes through.
		if err == nil && trace.WroteHeaders != nil {
			trace.WroteHeaders()
		}
		if trace.WroteRequest != nil {
			trace.WroteRequest(httptrace.WroteRequestInfo{Err: err})
		}
	}
	if err != nil {
		return nil, nil, err
	}

	// Read the response head into buf.
	var resp upgrade.Response
	buf := (*bp)[:0]
	var head int
	first := true
	for {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), 2*cap(buf))
			copy(nb, buf)
			buf = nb
		}
		n, rerr := netConn.Read(buf[len(buf):cap(buf)])
		if n > 0 && first {
			first = false
			if trace != nil && trace.GotFirstResponseByte != nil {
				trace.GotFirstResponseByte()
			}
		}
		buf = buf[:len(buf)+n]
		st, hn := cl.ParseResponse(&resp, buf)
		if st == upgrade.Done {
			head = hn
			break
		}
		if st == upgrade.Failed {
			return nil, nil, resp.Err()
		}
		if rerr != nil {
			if rerr == io.EOF {
				rerr = io.ErrUnexpectedEOF
			}
			if d.TLSClientConfig != nil {
				for _, proto := range d.TLSClientConfig.NextProtos {
					if proto != "http/1.1" {
						return nil, nil, fmt.Errorf(
							"websocket: protocol %q was given but is not supported;"+
								"sharing tls.Config with net/http Transport can cause this error: %w",
							proto, rerr)
					}
				}
			}
			return nil, nil, rerr
		}
	}

	hr := &http.Response{
		Status:     strconv.Itoa(resp.StatusCode()) + " " + http.StatusText(resp.StatusCode()),
		StatusCode: resp.StatusCode(),
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     resp.HTTPHeader(),
		Request:    req,
	}
	if d.Jar != nil {
		if rc := hr.Cookies(); len(rc) > 0 {
			d.Jar.SetCookies(u, rc)
		}
	}
	res, verr := cl.Verify(&resp, &key)
	if verr != nil {
		var he *upgrade.HandshakeError
		if errors.As(verr, &he) {
			switch he.Err {
			case upgrade.ErrResponseExtension:
				return nil, hr, errInvalidCompression
			case upgrade.ErrResponseProtocol:
				// gorilla/websocket takes the server's choice as it is.
				res.Subprotocol = string(resp.Header("Sec-WebSocket-Protocol"))
				verr = nil
			}
		}
	}
	if verr != nil {
		// Keep up to 1 KiB of the body for the caller: what came with
		// the head, and the rest of a body of known length.
		body := append([]byte(nil), buf[head:min(len(buf), head+1024)]...)
		if cl, err := strconv.Atoi(hr.Header.Get("Content-Length")); err == nil && cl > len(body) {
			rest := make([]byte, min(cl, 1024)-len(body))
			n, _ := io.ReadFull(netConn, rest)
			body = append(body, rest[:n]...)
		}
		hr.Body = io.NopCloser(bytes.NewReader(body))
		return nil, hr, ErrBadHandshake
	}
	hr.Body = io.NopCloser(bytes.NewReader(nil))

	netConn.SetDeadline(time.Time{})
	c := newConn(netConn, false, d.ReadBufferSize, d.WriteBufferSize, d.WriteBufferPool, buf[head:])
	c.setSubprotocol(res.Subprotocol)
	if res.Deflate {
		c.enableDeflate()
		if b := res.DeflateParams.ClientMaxWindowBits; b != 0 && b < 15 {
			c.compressLevel = smallWindowLevel
		}
	}
	netConn = nil // the Conn owns it now
	return c, hr, nil
}
