package websocket

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestDialEcho(t *testing.T) {
	s := newServer(t, &Upgrader{}, echoStream)
	c := dial(t, s)
	for _, msg := range []string{"", "hello", strings.Repeat("x", 100000)} {
		if err := c.WriteMessage(TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		mt, p, err := c.ReadMessage()
		if err != nil || mt != TextMessage || string(p) != msg {
			t.Fatalf("got %d %d bytes %v", mt, len(p), err)
		}
	}
	if _, ok := c.NetConn().(*net.TCPConn); !ok || c.UnderlyingConn() != c.NetConn() {
		t.Fatalf("NetConn %T", c.NetConn())
	}
	if c.LocalAddr() == nil || c.RemoteAddr() == nil {
		t.Fatal("addresses")
	}
}

func TestHandshakeSubprotocolsAndCookies(t *testing.T) {
	u := &Upgrader{Subprotocols: []string{"p0", "p1"}}
	serverProto := make(chan string, 1)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := Subprotocols(r); len(got) != 2 || got[0] != "p1" || got[1] != "p2" {
			t.Errorf("Subprotocols = %q", got)
		}
		if ck, err := r.Cookie("session"); err != nil || ck.Value != "abc" {
			t.Errorf("cookie: %v %v", ck, err)
		}
		c, err := u.Upgrade(w, r, http.Header{"Set-Cookie": {"sessionID=1234"}})
		if err != nil {
			t.Error(err)
			return
		}
		serverProto <- c.Subprotocol()
		c.Close()
	}))
	defer s.Close()
	jar, _ := cookiejar.New(nil)
	su, _ := url.Parse(s.URL)
	jar.SetCookies(su, []*http.Cookie{{Name: "session", Value: "abc"}})
	d := Dialer{Subprotocols: []string{"p1", "p2"}, Jar: jar}
	c, resp, err := d.Dial(wsURL(s), http.Header{"Origin": {s.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if sp := <-serverProto; c.Subprotocol() != "p1" || sp != "p1" {
		t.Fatalf("subprotocol %q / %v", c.Subprotocol(), sp)
	}
	var found bool
	for _, ck := range resp.Cookies() {
		found = found || ck.Name == "sessionID" && ck.Value == "1234"
	}
	if !found {
		t.Fatalf("Set-Cookie not in response: %v", resp.Header)
	}
	if ck := jar.Cookies(su); len(ck) != 2 {
		t.Fatalf("jar has %v", ck)
	}
}

func TestBadOrigin(t *testing.T) {
	s := newServer(t, &Upgrader{}, echo)
	c, resp, err := DefaultDialer.Dial(wsURL(s), http.Header{"Origin": {"http://evil.example"}})
	if err != ErrBadHandshake || c != nil {
		t.Fatalf("err %v", err)
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("resp %v", resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "Forbidden") {
		t.Fatalf("body %q", body)
	}
}

func TestUpgradeRefusals(t *testing.T) {
	var lastErr atomic.Value
	u := &Upgrader{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var h http.Header
		if r.URL.Path == "/ext" {
			h = http.Header{"Sec-Websocket-Extensions": {"x"}}
		}
		_, err := u.Upgrade(w, r, h)
		lastErr.Store(err)
	}))
	defer s.Close()
	good := func() http.Header {
		return http.Header{
			"Connection":            {"Upgrade"},
			"Upgrade":               {"websocket"},
			"Sec-Websocket-Version": {"13"},
			"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
		}
	}
	cases := []struct {
		name   string
		method string
		path   string
		edit   func(h http.Header)
		status int
		text   string
	}{
		{"connection", "GET", "/", func(h http.Header) { h.Del("Connection") }, 400, "websocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header"},
		{"upgrade", "GET", "/", func(h http.Header) { h.Set("Upgrade", "h2c") }, 400, "websocket: the client is not using the websocket protocol: 'websocket' token not found in 'Upgrade' header"},
		{"method", "POST", "/", func(h http.Header) {}, 405, "websocket: the client is not using the websocket protocol: request method is not GET"},
		{"version", "GET", "/", func(h http.Header) { h.Set("Sec-Websocket-Version", "8") }, 400, "websocket: unsupported version: 13 not found in 'Sec-Websocket-Version' header"},
		{"extensions", "GET", "/ext", func(h http.Header) {}, 500, "websocket: application specific 'Sec-WebSocket-Extensions' headers are unsupported"},
		{"origin", "GET", "/", func(h http.Header) { h.Set("Origin", "http://other") }, 403, "websocket: request origin not allowed by Upgrader.CheckOrigin"},
		{"key", "GET", "/", func(h http.Header) { h.Set("Sec-Websocket-Key", "abc") }, 400, "websocket: not a websocket handshake: 'Sec-WebSocket-Key' header must be Base64 encoded value of 16-byte in length"},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, s.URL+tc.path, nil)
		h := good()
		tc.edit(h)
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Sec-Websocket-Version") != "13" {
			t.Errorf("%s: status %d, version header %q", tc.name, resp.StatusCode, resp.Header.Get("Sec-Websocket-Version"))
		}
		err, _ = lastErr.Load().(error)
		var he HandshakeError
		if !errors.As(err, &he) || err.Error() != tc.text {
			t.Errorf("%s: error %T %v", tc.name, err, err)
		}
	}
}

func TestDialErrors(t *testing.T) {
	if _, resp, err := DefaultDialer.Dial("http://example.com/", nil); err != errMalformedURL || resp != nil {
		t.Fatalf("http scheme: %v", err)
	}
	if _, _, err := DefaultDialer.Dial("ws://user:pw@example.com/", nil); err != errMalformedURL {
		t.Fatalf("userinfo: %v", err)
	}
	s := newServer(t, &Upgrader{}, echo)
	if _, _, err := DefaultDialer.Dial(wsURL(s), http.Header{"Sec-Websocket-Key": {"x"}}); err == nil || err.Error() != "websocket: duplicate header not allowed: Sec-Websocket-Key" {
		t.Fatalf("duplicate header: %v", err)
	}
	d := Dialer{HandshakeTimeout: -1}
	if _, _, err := d.Dial(wsURL(s), nil); err == nil {
		t.Fatal("negative HandshakeTimeout: no error")
	}
	// A nil *Dialer works.
	var nd *Dialer
	c, _, err := nd.Dial(wsURL(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// Not a WebSocket server: ErrBadHandshake with the response.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		w.WriteHeader(401)
		io.WriteString(w, "nope!")
	}))
	defer plain.Close()
	_, resp, err := DefaultDialer.Dial(wsURL(plain), nil)
	if err != ErrBadHandshake || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("plain server: %v %v", err, resp)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "nope!" {
		t.Fatalf("body %q", b)
	}
}

func TestDialTLS(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		echo(c)
	}))
	defer s.Close()
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	d := Dialer{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		NetDial: func(network, addr string) (net.Conn, error) {
			return net.Dial(network, s.Listener.Addr().String())
		},
	}
	c, _, err := d.Dial("wss://example.com/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.NetConn().(*tls.Conn); !ok {
		t.Fatalf("NetConn %T", c.NetConn())
	}
	if err := c.WriteMessage(BinaryMessage, payload(20000)); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.ReadMessage(); err != nil || !equalBytes(p, payload(20000)) {
		t.Fatalf("%d %v", len(p), err)
	}
	// NetDialTLSContext does the TLS handshake itself.
	d2 := Dialer{NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return tls.Dial(network, s.Listener.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "example.com"})
	}}
	c2, _, err := d2.Dial("wss://example.com/", nil)
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
	// Without the root, the certificate is refused.
	d3 := Dialer{NetDial: d.NetDial}
	if _, _, err := d3.Dial("wss://example.com/", nil); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
}

// TestProxyConnect dials through an HTTP proxy that answers CONNECT and
// checks the credentials it was given.
func TestProxyConnect(t *testing.T) {
	s := newServer(t, &Upgrader{}, echo)
	var connects atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", 405)
			return
		}
		if r.Header.Get("Proxy-Authorization") != "Basic dXNlcjpwYXNz" {
			http.Error(w, "auth", http.StatusProxyAuthRequired)
			return
		}
		connects.Add(1)
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		down, brw, _ := w.(http.Hijacker).Hijack()
		down.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { io.Copy(up, brw); up.Close() }()
		io.Copy(down, up)
		down.Close()
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)
	pu.User = url.UserPassword("user", "pass")
	d := Dialer{Proxy: http.ProxyURL(pu)}
	c, _, err := d.Dial(wsURL(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteMessage(TextMessage, []byte("via proxy")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.ReadMessage(); err != nil || string(p) != "via proxy" {
		t.Fatalf("%q %v", p, err)
	}
	if connects.Load() != 1 {
		t.Fatalf("%d CONNECTs", connects.Load())
	}
	pu.User = url.UserPassword("user", "wrong")
	d = Dialer{Proxy: http.ProxyURL(pu)}
	if _, _, err := d.Dial(wsURL(s), nil); err == nil || !strings.Contains(err.Error(), "Proxy Authentication Required") {
		t.Fatalf("bad credentials: %v", err)
	}
}

func TestNewClientAndEarlyData(t *testing.T) {
	s := newServer(t, &Upgrader{}, echo)
	nc, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(wsURL(s) + "/path?q=1")
	c, resp, err := NewClient(nc, u, nil, 1024, 1024)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if resp.StatusCode != 101 {
		t.Fatal(resp.Status)
	}
	c.WriteMessage(TextMessage, []byte("x"))
	if _, p, err := c.ReadMessage(); err != nil || string(p) != "x" {
		t.Fatal(err)
	}

	// A client that sends a frame together with its request.
	errc := make(chan error, 1)
	s2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := (&Upgrader{}).Upgrade(w, r, nil)
		errc <- err
	}))
	defer s2.Close()
	nc2, _ := net.Dial("tcp", s2.Listener.Addr().String())
	defer nc2.Close()
	io.WriteString(nc2, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n\x81\x80abcd")
	if err := <-errc; err != errEarlyData {
		t.Fatalf("got %v", err)
	}
	_ = bufio.NewReader
}

func TestPackageUpgradeWritesNoResponse(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := Upgrade(w, r, nil, 0, 0)
		if _, ok := err.(HandshakeError); !ok {
			t.Errorf("got %T", err)
		}
		http.Error(w, "mine", 418)
	}))
	defer s.Close()
	resp, err := http.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 418 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestJSON(t *testing.T) {
	srv, cli := tcpPair(t)
	type T struct {
		A int
		B string
	}
	go func() {
		cli.WriteJSON(T{1, "x"})
		WriteJSON(cli, T{2, "y"})
		cli.WriteMessage(TextMessage, nil)
	}()
	var v T
	if err := srv.ReadJSON(&v); err != nil || v != (T{1, "x"}) {
		t.Fatal(v, err)
	}
	if err := ReadJSON(srv, &v); err != nil || v != (T{2, "y"}) {
		t.Fatal(v, err)
	}
	if err := srv.ReadJSON(&v); err != io.ErrUnexpectedEOF {
		t.Fatalf("empty message: %v", err)
	}
	_ = json.Valid
}

func TestPreparedAndJoin(t *testing.T) {
	for _, pair := range pairs {
		srv, cli := pair.make(t)
		pm, err := NewPreparedMessage(TextMessage, []byte("prepared"))
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			srv.WritePreparedMessage(pm)
			srv.WritePreparedMessage(pm)
		}()
		r := JoinMessages(cli, "\n")
		b := make([]byte, 18)
		if _, err := io.ReadFull(r, b); err != nil || string(b) != "prepared\nprepared\n" {
			t.Fatalf("%q %v", b, err)
		}
		go cli.WritePreparedMessage(pm)
		if _, p, err := srv.ReadMessage(); err != nil || string(p) != "prepared" {
			t.Fatal(err)
		}
	}
	if _, err := NewPreparedMessage(PingMessage, payload(200)); err != errInvalidControlFrame {
		t.Fatal(err)
	}
}

func TestReadDeadline(t *testing.T) {
	for _, pair := range pairs {
		srv, _ := pair.make(t)
		srv.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, _, err := srv.ReadMessage()
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("%s: %v", pair.name, err)
		}
		srv.SetReadDeadline(time.Time{})
		if _, _, err2 := srv.ReadMessage(); err2 != err {
			t.Fatalf("%s: not sticky: %v", pair.name, err2)
		}
	}
}

func TestCompressionLevel(t *testing.T) {
	_, cli := tcpPair(t)
	if err := cli.SetCompressionLevel(10); err == nil || err.Error() != "websocket: invalid compression level" {
		t.Fatal(err)
	}
	if err := cli.SetCompressionLevel(-2); err != nil {
		t.Fatal(err)
	}
	cli.EnableWriteCompression(true)
}
