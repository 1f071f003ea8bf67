package contract

// One test per item of compat-contract.md §5 ("behavioural contracts,
// btcsuite semantics"), run against compat/btcsuite over loopback TCP. The
// number in each name is the item's number.

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	btc "github.com/lullws/lull/compat/btcsuite"
)

// echoBtc is a btcsuite echo handler: NextReader → NextWriter → io.Copy.
func echoBtc(c *btc.Conn) {
	for {
		mt, r, err := c.NextReader()
		if err != nil {
			return
		}
		w, err := c.NextWriter(mt)
		if err != nil {
			return
		}
		if _, err := io.Copy(w, r); err != nil {
			return
		}
		if err := w.Close(); err != nil {
			return
		}
	}
}

func TestS5_01_OneReaderAndOneWriterConcurrently(t *testing.T) {
	t.Parallel()
	c := btcDial(t, btcServer(t, nil, echoBtc))
	const n = 200
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			if err := c.WriteMessage(btc.TextMessage, []byte(fmt.Sprint("message ", i))); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	c.SetReadDeadline(time.Now().Add(testTimeout))
	for i := 0; i < n; i++ {
		mt, p, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if want := fmt.Sprint("message ", i); mt != btc.TextMessage || string(p) != want {
			t.Fatalf("read %d: got %d %q, want text %q", i, mt, p, want)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestS5_02_WriteControlAndCloseConcurrentWithWriter(t *testing.T) {
	t.Parallel()
	frames := make(chan rawFrame, 1024)
	url := rawServer(t, nil, func(rc *rawConn, _ *http.Request) {
		defer close(frames)
		for {
			f, err := rc.read()
			if err != nil {
				return
			}
			frames <- f
		}
	})
	c := btcDial(t, url)
	chunk := bytes.Repeat([]byte("d"), 10000) // > the 4096-byte write buffer: frames flush while pings fly
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m := 0; m < 5; m++ {
			w, err := c.NextWriter(btc.BinaryMessage)
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; i < 5; i++ {
				w.Write(chunk)
			}
			w.Close()
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			if err := c.WriteControl(btc.PingMessage, []byte(fmt.Sprint("ping ", i)), time.Now().Add(testTimeout)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	c.Close() // concurrent-safe too; ends the raw reader
	var inMessage bool
	var payload, pings int
	for f := range frames {
		if !f.masked {
			t.Fatalf("client frame not masked")
		}
		switch f.op {
		case opPing:
			if !f.fin || !strings.HasPrefix(string(f.payload), "ping ") {
				t.Fatalf("ping frame corrupted: fin=%v %q", f.fin, f.payload)
			}
			pings++
		case opBinary:
			if inMessage {
				t.Fatalf("new message inside a message")
			}
			inMessage = !f.fin
			payload += len(f.payload)
		case opCont:
			if !inMessage {
				t.Fatalf("continuation outside a message")
			}
			inMessage = !f.fin
			payload += len(f.payload)
		default:
			t.Fatalf("unexpected opcode %d", f.op)
		}
		if f.op != opPing && bytes.Count(f.payload, []byte("d")) != len(f.payload) {
			t.Fatalf("data frame has foreign bytes")
		}
	}
	if pings != 50 || payload != 5*5*len(chunk) {
		t.Fatalf("got %d pings and %d payload bytes, want 50 and %d", pings, payload, 5*5*len(chunk))
	}
}

func TestS5_03_WriterAndReaderHandedBetweenGoroutines(t *testing.T) {
	t.Parallel()
	c := btcDial(t, btcServer(t, nil, echoBtc))
	w, err := c.NextWriter(btc.TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); io.WriteString(w, "written elsewhere") }()
	<-done
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(testTimeout))
	_, r, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	done = make(chan struct{})
	go func() { defer close(done); got, err = io.ReadAll(r) }()
	<-done
	if err != nil || string(got) != "written elsewhere" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// upgradeResult runs one raw request against a btcsuite Upgrader and returns
// the HTTP response and the error Upgrade returned.
func btcUpgradeResult(t *testing.T, up *btc.Upgrader, extra ...string) (*http.Response, error) {
	t.Helper()
	errc := make(chan error, 1)
	s := newHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err == nil {
			c.Close()
		}
		errc <- err
	})
	_, resp := rawHandshake(t, wsURL(s), extra...)
	return resp, <-errc
}

// btcBadRequest sends a request built from lines (request line and headers)
// and returns the status and the Upgrade error.
func btcBadRequest(t *testing.T, up *btc.Upgrader, lines ...string) (*http.Response, error) {
	t.Helper()
	errc := make(chan error, 1)
	s := newHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err == nil {
			c.Close()
		}
		errc <- err
	})
	req := strings.Join(lines, "\r\n") + "\r\nHost: " + hostOf(wsURL(s)) + "\r\n\r\n"
	_, resp := rawRequest(t, wsURL(s), req)
	return resp, <-errc
}

func wantHandshakeError(t *testing.T, err error, text string) {
	t.Helper()
	he, ok := err.(btc.HandshakeError)
	if !ok {
		t.Fatalf("error %T %v, want the value type HandshakeError", err, err)
	}
	if text != "" && he.Error() != text {
		t.Fatalf("error %q, want %q", he.Error(), text)
	}
}

func TestS5_04_DefaultOriginPolicy(t *testing.T) {
	t.Parallel()
	up := &btc.Upgrader{}
	if resp, err := btcUpgradeResult(t, up); err != nil || resp.StatusCode != 101 {
		t.Fatalf("no Origin: %v %v", resp.Status, err)
	}
	s := newHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err == nil {
			c.Close()
		}
	})
	_, resp := rawHandshake(t, wsURL(s), "Origin: http://"+hostOf(wsURL(s)))
	if resp.StatusCode != 101 {
		t.Fatalf("same-host Origin: %s", resp.Status)
	}
	resp, err := btcUpgradeResult(t, up, "Origin: http://elsewhere.example")
	if resp.StatusCode != 403 {
		t.Fatalf("foreign Origin: %s, want 403", resp.Status)
	}
	wantHandshakeError(t, err, "websocket: origin not allowed")
}

func TestS5_05_CheckOriginFalseIs403(t *testing.T) {
	t.Parallel()
	resp, err := btcUpgradeResult(t, &btc.Upgrader{CheckOrigin: func(*http.Request) bool { return false }})
	if resp.StatusCode != 403 {
		t.Fatalf("status %s, want 403", resp.Status)
	}
	wantHandshakeError(t, err, "websocket: origin not allowed")
}

func TestS5_06_BadRequestsAre400AndNoHijackIs500(t *testing.T) {
	t.Parallel()
	up := &btc.Upgrader{}
	const key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="
	cases := []struct {
		name  string
		lines []string
		text  string
	}{
		{"no version", []string{"GET / HTTP/1.1", "Upgrade: websocket", "Connection: Upgrade", key}, "websocket: version != 13"},
		{"version 12", []string{"GET / HTTP/1.1", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 12", key}, "websocket: version != 13"},
		{"no upgrade token", []string{"GET / HTTP/1.1", "Upgrade: websocket", "Connection: keep-alive", "Sec-WebSocket-Version: 13", key}, "websocket: could not find connection header with token 'upgrade'"},
		{"no websocket token", []string{"GET / HTTP/1.1", "Upgrade: h2c", "Connection: Upgrade", "Sec-WebSocket-Version: 13", key}, "websocket: could not find upgrade header with token 'websocket'"},
		{"empty key", []string{"GET / HTTP/1.1", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: "}, "websocket: key missing or blank"},
		{"tokens in lists, any case", []string{"GET / HTTP/1.1", "Upgrade: foo, WebSocket", "Connection: keep-alive, UPGRADE", "Sec-WebSocket-Version: 13", key}, ""},
	}
	for _, tc := range cases {
		resp, err := btcBadRequest(t, up, tc.lines...)
		if tc.text == "" {
			if resp.StatusCode != 101 || err != nil {
				t.Errorf("%s: %s %v, want 101", tc.name, resp.Status, err)
			}
			continue
		}
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %s, want 400", tc.name, resp.Status)
		}
		if he, ok := err.(btc.HandshakeError); !ok || he.Error() != tc.text {
			t.Errorf("%s: error %T %v, want HandshakeError %q", tc.name, err, err, tc.text)
		}
	}
	// A ResponseWriter that cannot be hijacked.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	_, err := up.Upgrade(rec, req, nil)
	if rec.Code != 500 {
		t.Errorf("not a Hijacker: status %d, want 500", rec.Code)
	}
	wantHandshakeError(t, err, "websocket: response does not implement http.Hijacker")
}

func TestS5_07_ErrorResponse(t *testing.T) {
	t.Parallel()
	resp, err := btcUpgradeResult(t, &btc.Upgrader{}, "Origin: http://elsewhere.example")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 403 || strings.TrimSpace(string(body)) != http.StatusText(403) {
		t.Fatalf("default error: %s %q", resp.Status, body)
	}
	wantHandshakeError(t, err, "")
	var gotStatus int
	var gotReason error
	up := &btc.Upgrader{Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
		gotStatus, gotReason = status, reason
		w.Header().Set("X-Custom", "yes")
		w.WriteHeader(418)
		io.WriteString(w, "custom")
	}}
	resp, err = btcUpgradeResult(t, up, "Origin: http://elsewhere.example")
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 418 || string(body) != "custom" || resp.Header.Get("X-Custom") != "yes" {
		t.Fatalf("custom error: %s %q", resp.Status, body)
	}
	if gotStatus != 403 {
		t.Fatalf("Error called with status %d, want 403", gotStatus)
	}
	if _, ok := gotReason.(btc.HandshakeError); !ok {
		t.Fatalf("Error called with %T, want HandshakeError", gotReason)
	}
	wantHandshakeError(t, err, "websocket: origin not allowed")
}

func TestS5_08_PackageUpgradeNoOriginCheckNoResponse(t *testing.T) {
	t.Parallel()
	errc := make(chan error, 1)
	s := newHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := btc.Upgrade(w, r, nil, 1024, 1024)
		if err == nil {
			c.Close()
		}
		errc <- err
	})
	_, resp := rawHandshake(t, wsURL(s), "Origin: http://elsewhere.example")
	if resp.StatusCode != 101 || <-errc != nil {
		t.Fatalf("foreign origin: %s, want 101 (no origin check)", resp.Status)
	}
	req := "GET / HTTP/1.1\r\nHost: " + hostOf(wsURL(s)) + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 7\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	_, resp = rawRequest(t, wsURL(s), req)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Fatalf("failed Upgrade wrote a response: %s %q (want net/http's empty 200)", resp.Status, body)
	}
	wantHandshakeError(t, <-errc, "websocket: version != 13")
}

func TestS5_09_SwitchingProtocolsResponse(t *testing.T) {
	t.Parallel()
	up := &btc.Upgrader{Subprotocols: []string{"chat"}}
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := http.Header{"X-Extra": {"a\r\nInjected: yes"}, "Sec-Websocket-Protocol": {"ignored"}}
		c, err := up.Upgrade(w, r, hdr)
		if err != nil {
			return
		}
		defer c.Close()
		// The server's 100 ms read deadline must be gone.
		time.Sleep(300 * time.Millisecond)
		c.WriteMessage(btc.TextMessage, []byte("late"))
		c.SetReadDeadline(time.Now().Add(testTimeout))
		c.ReadMessage()
	}))
	s.Config.ReadTimeout = 100 * time.Millisecond
	s.Config.WriteTimeout = 100 * time.Millisecond
	s.Start()
	t.Cleanup(s.Close)
	rc, resp := rawHandshake(t, wsURL(s), "Sec-WebSocket-Protocol: chat")
	if resp.Status != "101 Switching Protocols" || resp.Proto != "HTTP/1.1" {
		t.Fatalf("status line %s %s", resp.Proto, resp.Status)
	}
	if resp.Header.Get("Upgrade") != "websocket" || resp.Header.Get("Connection") != "Upgrade" {
		t.Fatalf("Upgrade/Connection: %q", resp.Header)
	}
	if got, want := resp.Header.Get("Sec-Websocket-Accept"), acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != want {
		t.Fatalf("Accept %q, want %q", got, want)
	}
	if p := resp.Header["Sec-Websocket-Protocol"]; len(p) != 1 || p[0] != "chat" {
		t.Fatalf("protocol header %q, want just the negotiated chat", p)
	}
	if v := resp.Header.Get("X-Extra"); v != "a  Injected: yes" || resp.Header.Get("Injected") != "" {
		t.Fatalf("control bytes in a header value not replaced: X-Extra=%q", v)
	}
	rc.client = true
	f := rc.mustRead(t)
	if f.op != opText || string(f.payload) != "late" {
		t.Fatalf("after the server's deadlines: got op %d %q", f.op, f.payload)
	}
}

func TestS5_10_SubprotocolChoice(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	up := &btc.Upgrader{Subprotocols: []string{"p0", "p1"}}
	url := btcServer(t, up, func(c *btc.Conn) { got <- c.Subprotocol() })
	d := &btc.Dialer{Subprotocols: []string{"p1", "p2"}}
	c, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Subprotocol() != "p1" || <-got != "p1" {
		t.Fatalf("client %q, want p1 on both sides", c.Subprotocol())
	}
	// Server preference, not client order.
	up2 := &btc.Upgrader{Subprotocols: []string{"p2", "p1"}}
	url = btcServer(t, up2, func(c *btc.Conn) { got <- c.Subprotocol() })
	c2, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if c2.Subprotocol() != "p2" || <-got != "p2" {
		t.Fatalf("client %q, want the server's first choice p2", c2.Subprotocol())
	}
	// No list: responseHeader's value, unchecked.
	s := newHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := (&btc.Upgrader{}).Upgrade(w, r, http.Header{"Sec-Websocket-Protocol": {"unasked"}})
		if err != nil {
			return
		}
		got <- c.Subprotocol()
		c.Close()
	})
	c3, _, err := d.Dial(wsURL(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if c3.Subprotocol() != "unasked" || <-got != "unasked" {
		t.Fatalf("client %q, want unasked", c3.Subprotocol())
	}
}

func TestS5_11_SubprotocolsParsing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		values []string
		want   []string
	}{
		{nil, nil},
		{[]string{""}, nil},
		{[]string{"foo, bar"}, []string{"foo", "bar"}},
		{[]string{" foo, bar "}, []string{"foo", "bar"}},
		{[]string{"a", "b"}, []string{"a"}},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Sec-Websocket-Protocol"] = tc.values
		if got := btc.Subprotocols(r); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Subprotocols(%q) = %q, want %q", tc.values, got, tc.want)
		}
	}
}

func TestS5_12_EarlyDataClosesConnection(t *testing.T) {
	t.Parallel()
	errc := make(chan error, 1)
	s := newHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		// Let the early frame arrive before hijacking.
		time.Sleep(100 * time.Millisecond)
		c, err := (&btc.Upgrader{}).Upgrade(w, r, nil)
		if err == nil {
			c.Close()
		}
		errc <- err
	})
	nc, err := net.Dial("tcp", hostOf(wsURL(s)))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rc := &rawConn{client: true}
	req := "GET / HTTP/1.1\r\nHost: " + hostOf(wsURL(s)) + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	nc.Write(append([]byte(req), rc.encode(rawFrame{fin: true, op: opText, payload: []byte("early")})...))
	err = <-errc
	if err == nil {
		t.Fatal("Upgrade accepted a client that sent data before the handshake completed")
	}
	if _, ok := err.(btc.HandshakeError); ok {
		t.Fatalf("error is a HandshakeError (%v), want a plain error", err)
	}
	nc.SetReadDeadline(time.Now().Add(testTimeout))
	if b, err := io.ReadAll(nc); len(b) != 0 || (err != nil && !isReset(err)) {
		t.Fatalf("want the connection closed with no response, got %q %v", b, err)
	}
}

func TestS5_13_BadHandshakeGivesErrBadHandshakeAndResponse(t *testing.T) {
	t.Parallel()
	cases := map[string]func(req *http.Request) string{
		"403": func(*http.Request) string {
			return "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
		},
		"401": func(*http.Request) string {
			return "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"
		},
		"bad accept": func(*http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm9wZQ==\r\n\r\n"
		},
		"no upgrade header": func(req *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
				acceptKey(req.Header.Get("Sec-Websocket-Key")) + "\r\n\r\n"
		},
	}
	for name, respond := range cases {
		c, resp, err := (&btc.Dialer{}).Dial(rawServer(t, respond, nil), nil)
		if err != btc.ErrBadHandshake || c != nil || resp == nil {
			t.Errorf("%s: got conn %v resp %v err %v, want ErrBadHandshake with a response", name, c, resp, err)
			continue
		}
		if want := name[:3]; (want == "403" || want == "401") && fmt.Sprint(resp.StatusCode) != want {
			t.Errorf("%s: StatusCode %d", name, resp.StatusCode)
		}
	}
	// NewClient too.
	url := rawServer(t, cases["403"], nil)
	nc, err := net.Dial("tcp", hostOf(url))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	u, _ := urlParse(url)
	_, resp, err := btc.NewClient(nc, u, nil, 1024, 1024)
	if err != btc.ErrBadHandshake || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("NewClient: %v %v", resp, err)
	}
}

func TestS5_14_OnlyWsURLsAndDefaultPorts(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://127.0.0.1/", "ftp://x/", "127.0.0.1:80", "wss:/x"} {
		c, resp, err := (&btc.Dialer{}).Dial(u, nil)
		if err == nil || err.Error() != "malformed ws or wss URL" || resp != nil || c != nil {
			t.Errorf("Dial(%q): %v %v, want \"malformed ws or wss URL\" and no response", u, resp, err)
		}
	}
	var addrs []string
	d := &btc.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		addrs = append(addrs, network+" "+addr)
		return nil, errors.New("not dialling")
	}}
	d.Dial("ws://example.com/path", nil)
	d.Dial("wss://example.com/path", nil)
	d.Dial("ws://example.com:1234/path", nil)
	if want := []string{"tcp example.com:80", "tcp example.com:443", "tcp example.com:1234"}; !reflect.DeepEqual(addrs, want) {
		t.Fatalf("dialled %q, want %q", addrs, want)
	}
}

func TestS5_15_NilDialerAndDefaultDialer(t *testing.T) {
	t.Parallel()
	if btc.DefaultDialer != nil {
		t.Fatalf("DefaultDialer = %+v, want nil as in btcsuite", btc.DefaultDialer)
	}
	url := btcServer(t, nil, echoBtc)
	var d *btc.Dialer
	c, resp, err := d.Dial(url, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("(*Dialer)(nil).Dial: %v %v", resp, err)
	}
	defer c.Close()
	c2, _, err := btc.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("DefaultDialer.Dial: %v", err)
	}
	c2.Close()
}

func TestS5_16_HandshakeTimeout(t *testing.T) {
	t.Parallel()
	url := btcServer(t, nil, echoBtc)
	if c, _, err := (&btc.Dialer{HandshakeTimeout: -1}).Dial(url, nil); err == nil {
		c.Close()
		t.Fatal("negative HandshakeTimeout: Dial succeeded")
	}
	// A server that never answers: the timeout ends the handshake.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			defer nc.Close()
			io.Copy(io.Discard, nc)
		}
	}()
	within(t, "Dial with HandshakeTimeout", func() {
		_, _, err = (&btc.Dialer{HandshakeTimeout: 200 * time.Millisecond}).Dial("ws://"+ln.Addr().String()+"/", nil)
	})
	if !isTimeout(err) {
		t.Fatalf("silent server: %v, want a timeout", err)
	}
	// The deadline is cleared on success.
	c, _, err := (&btc.Dialer{HandshakeTimeout: 200 * time.Millisecond}).Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(400 * time.Millisecond)
	c.WriteMessage(btc.TextMessage, []byte("after"))
	if _, p, err := c.ReadMessage(); err != nil || string(p) != "after" {
		t.Fatalf("after the handshake timeout passed: %q %v", p, err)
	}
}

func TestS5_17_TLSServerNameAndNetDial(t *testing.T) {
	t.Parallel()
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&btc.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		echoBtc(c)
	}))
	s.StartTLS()
	t.Cleanup(s.Close)
	roots := s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	var dialled string
	d := &btc.Dialer{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		NetDial: func(network, addr string) (net.Conn, error) {
			dialled = network + " " + addr
			return net.Dial("tcp", s.Listener.Addr().String())
		},
	}
	// The test certificate is valid for example.com: ServerName comes from the URL.
	c, _, err := d.Dial("wss://example.com/", nil)
	if err != nil {
		t.Fatalf("wss with RootCAs: %v", err)
	}
	c.WriteMessage(btc.TextMessage, []byte("over tls"))
	if _, p, err := c.ReadMessage(); err != nil || string(p) != "over tls" {
		t.Fatalf("echo over TLS: %q %v", p, err)
	}
	c.Close()
	if dialled != "tcp example.com:443" {
		t.Fatalf("NetDial got %q", dialled)
	}
	if d.TLSClientConfig.ServerName != "" {
		t.Fatalf("Dial changed the caller's TLSClientConfig")
	}
	// A name the certificate does not cover fails verification...
	if _, _, err := d.Dial("wss://wrong.test/", nil); err == nil {
		t.Fatal("wrong host name accepted")
	}
	// ...unless verification is off.
	d.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	c, _, err = d.Dial("wss://wrong.test/", nil)
	if err != nil {
		t.Fatalf("InsecureSkipVerify: %v", err)
	}
	c.Close()
}

func TestS5_18_RequestHeadersSubprotocolsCookies(t *testing.T) {
	t.Parallel()
	reqc := make(chan *http.Request, 1)
	url := rawServer(t, func(req *http.Request) string {
		reqc <- req
		return accept101(req, "Set-Cookie: sessionID=1234\r\n")
	}, nil)
	d := &btc.Dialer{Subprotocols: []string{"a", "b"}}
	c, resp, err := d.Dial(url, http.Header{"Cookie": {"k=v"}, "X-Custom": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	req := <-reqc
	if got := req.Header["Sec-Websocket-Protocol"]; !reflect.DeepEqual(got, []string{"a, b"}) {
		t.Errorf("Sec-Websocket-Protocol %q, want [\"a, b\"]", got)
	}
	if req.Header.Get("Cookie") != "k=v" || req.Header.Get("X-Custom") != "1" {
		t.Errorf("request headers lost: %q", req.Header)
	}
	if cs := resp.Cookies(); len(cs) != 1 || cs[0].Name != "sessionID" || cs[0].Value != "1234" {
		t.Errorf("response cookies %v", cs)
	}
}

func urlParse(s string) (*url.URL, error) { return url.Parse(s) }

func TestS5_19_NewClientDoesNotCheckScheme(t *testing.T) {
	t.Parallel()
	reqc := make(chan *http.Request, 1)
	url := rawServer(t, func(req *http.Request) string { reqc <- req; return accept101(req, "") }, nil)
	nc, err := net.Dial("tcp", hostOf(url))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	u, _ := urlParse("http://" + hostOf(url) + "/chat?room=1")
	c, resp, err := btc.NewClient(nc, u, http.Header{"X-A": {"b"}}, 1024, 1024)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("NewClient with an http URL: %v %v", resp, err)
	}
	if c.UnderlyingConn() != nc {
		t.Fatal("UnderlyingConn is not the conn given to NewClient")
	}
	req := <-reqc
	if req.RequestURI != "/chat?room=1" || req.Host != hostOf(url) || req.Header.Get("X-A") != "b" {
		t.Fatalf("request %q host %q header %q", req.RequestURI, req.Host, req.Header)
	}
}

// btcRawPair returns a compat/btcsuite server conn (delivered on the channel)
// and a raw client talking to it.
func btcRawPair(t *testing.T, up *btc.Upgrader) (*rawConn, *btc.Conn) {
	t.Helper()
	connc := make(chan *btc.Conn, 1)
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	url := btcServer(t, up, func(c *btc.Conn) {
		connc <- c
		<-hold
	})
	rc := rawDial(t, url)
	c := <-connc
	c.SetReadDeadline(time.Now().Add(testTimeout))
	return rc, c
}

func TestS5_20_OnlyDataMessagesControlToHandlers(t *testing.T) {
	t.Parallel()
	rc, c := btcRawPair(t, nil)
	var seen []string
	c.SetPingHandler(func(s string) error { seen = append(seen, "ping "+s); return nil })
	c.SetPongHandler(func(s string) error { seen = append(seen, "pong "+s); return nil })
	rc.frame(t, opPing, []byte("1"))
	rc.frame(t, opPong, []byte("2"))
	rc.send(t, rawFrame{op: opText, payload: []byte("hel")})
	rc.frame(t, opPing, []byte("3"))
	rc.send(t, rawFrame{fin: true, op: opCont, payload: []byte("lo")})
	rc.frame(t, opBinary, []byte{1})
	mt, r, err := c.NextReader()
	if err != nil || mt != btc.TextMessage {
		t.Fatalf("NextReader: %d %v", mt, err)
	}
	if !reflect.DeepEqual(seen, []string{"ping 1", "pong 2"}) {
		t.Fatalf("handlers before the first data frame: %q", seen)
	}
	b, err := io.ReadAll(r)
	if err != nil || string(b) != "hello" {
		t.Fatalf("message %q %v", b, err)
	}
	if !reflect.DeepEqual(seen, []string{"ping 1", "pong 2", "ping 3"}) {
		t.Fatalf("ping inside a message not handled from Read: %q", seen)
	}
	if mt, p, err := c.ReadMessage(); err != nil || mt != btc.BinaryMessage || !bytes.Equal(p, []byte{1}) {
		t.Fatalf("ReadMessage: %d %v %v", mt, p, err)
	}
}

func TestS5_21_DefaultPingAndPongHandlers(t *testing.T) {
	t.Parallel()
	rc, c := btcRawPair(t, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.ReadMessage()
	}()
	rc.frame(t, opPing, []byte("payload"))
	if f := rc.mustRead(t); f.op != opPong || string(f.payload) != "payload" {
		t.Fatalf("reply to ping: op %d %q, want pong \"payload\"", f.op, f.payload)
	}
	rc.frame(t, opPong, []byte("ignored"))
	rc.frame(t, opText, []byte("end"))
	<-done
	// SetPingHandler(nil) restores the default.
	c.SetPingHandler(func(string) error { return nil })
	c.SetPingHandler(nil)
	c.SetPongHandler(nil)
	done = make(chan struct{})
	go func() {
		defer close(done)
		c.ReadMessage()
	}()
	rc.frame(t, opPing, []byte("again"))
	if f := rc.mustRead(t); f.op != opPong || string(f.payload) != "again" {
		t.Fatalf("after SetPingHandler(nil): op %d %q", f.op, f.payload)
	}
	rc.frame(t, opText, []byte("end"))
	<-done
}

func TestS5_22_HandlerErrorIsReturnedAndSticky(t *testing.T) {
	t.Parallel()
	rc, c := btcRawPair(t, nil)
	boom := errors.New("handler says no")
	c.SetPingHandler(func(string) error { return boom })
	rc.frame(t, opPing, nil)
	rc.frame(t, opText, []byte("after"))
	if _, _, err := c.NextReader(); err != boom {
		t.Fatalf("NextReader: %v, want the handler's error", err)
	}
	if _, _, err := c.ReadMessage(); err != boom {
		t.Fatalf("next read: %v, want the same error", err)
	}
}

func TestS5_23_CloseFrames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		payload []byte
		want    string // "" means io.EOF
	}{
		{closePayload(1000, "bye"), ""},
		{closePayload(1001, ""), ""},
		{closePayload(4000, "app"), "websocket: close 4000 app"},
		{closePayload(1011, ""), "websocket: close 1011 "},
		{nil, "websocket: close 1005 "},
	} {
		rc, c := btcRawPair(t, nil)
		rc.frame(t, opClose, tc.payload)
		_, _, err := c.ReadMessage()
		if tc.want == "" && err != io.EOF {
			t.Errorf("close %q: %v, want io.EOF", tc.payload, err)
		}
		if tc.want != "" && (err == nil || err.Error() != tc.want) {
			t.Errorf("close %q: %v, want %q", tc.payload, err, tc.want)
		}
		if f := rc.mustRead(t); f.op != opClose || len(f.payload) != 0 {
			t.Errorf("close %q: reply op %d payload %q, want an empty close", tc.payload, f.op, f.payload)
		}
	}
}

func TestS5_24_ReadErrorsArePermanent(t *testing.T) {
	t.Parallel()
	rc, c := btcRawPair(t, nil)
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, _, err := c.ReadMessage()
	if !isTimeout(err) {
		t.Fatalf("want a timeout, got %v", err)
	}
	c.SetReadDeadline(time.Time{})
	rc.frame(t, opText, []byte("too late"))
	for i := 0; i < 3; i++ {
		_, _, err2 := c.NextReader()
		if err2 == nil || err2.Error() != err.Error() {
			t.Fatalf("read %d after the timeout: %v, want %v again", i, err2, err)
		}
	}
}

// tempErrConn fails reads with a temporary, non-timeout net.Error once armed.
type tempErrConn struct {
	net.Conn
	mu    sync.Mutex
	armed bool
}

type tempError struct{}

func (tempError) Error() string   { return "temporary trouble" }
func (tempError) Timeout() bool   { return false }
func (tempError) Temporary() bool { return true }

func (c *tempErrConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	armed := c.armed
	c.mu.Unlock()
	if armed {
		return 0, tempError{}
	}
	return c.Conn.Read(p)
}

func TestS5_25_TemporaryReadErrorsBecomePermanent(t *testing.T) {
	t.Parallel()
	url := btcServer(t, nil, echoBtc)
	nc, err := net.Dial("tcp", hostOf(url))
	if err != nil {
		t.Fatal(err)
	}
	tc := &tempErrConn{Conn: nc}
	u, _ := urlParse(url)
	c, _, err := btc.NewClient(tc, u, nil, 1024, 1024)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tc.mu.Lock()
	tc.armed = true
	tc.mu.Unlock()
	_, _, err = c.ReadMessage()
	var ne net.Error
	if !errors.As(err, &ne) {
		t.Fatalf("read error %T %v, want a net.Error", err, err)
	}
	if ne.Temporary() || ne.Timeout() {
		t.Fatalf("read error Temporary=%v Timeout=%v, want false, false", ne.Temporary(), ne.Timeout())
	}
}

func TestS5_26_EOFAndCloseInsideMessage(t *testing.T) {
	t.Parallel()
	const unexpected = "websocket: close 1006 unexpected EOF"
	// Between messages.
	rc, c := btcRawPair(t, nil)
	rc.Close()
	if _, _, err := c.ReadMessage(); err == nil || err.Error() != unexpected {
		t.Fatalf("EOF between messages: %v", err)
	}
	// In the middle of a frame.
	rc, c = btcRawPair(t, nil)
	full := rc.encode(rawFrame{fin: true, op: opBinary, payload: make([]byte, 100)})
	rc.Write(full[:50])
	rc.Close()
	if _, _, err := c.ReadMessage(); err == nil || err.Error() != unexpected {
		t.Fatalf("EOF inside a frame: %v", err)
	}
	// A close frame in the middle of a fragmented message.
	rc, c = btcRawPair(t, nil)
	rc.send(t, rawFrame{op: opBinary, payload: []byte("part")})
	rc.frame(t, opClose, closePayload(1000, ""))
	_, r, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); err == nil || err.Error() != unexpected {
		t.Fatalf("reader at a close frame: %v", err)
	}
	if _, _, err := c.NextReader(); err != io.EOF {
		t.Fatalf("NextReader after that: %v, want io.EOF", err)
	}
}

func TestS5_27_NextReaderDiscardsRest(t *testing.T) {
	t.Parallel()
	rc, c := btcRawPair(t, nil)
	rc.frame(t, opText, []byte("first message, partly read"))
	rc.frame(t, opText, []byte("second"))
	_, r1, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 5)
	io.ReadFull(r1, b)
	_, r2, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(r2); string(got) != "second" {
		t.Fatalf("second message %q", got)
	}
	if n, err := r1.Read(b); n != 0 || err != io.EOF {
		t.Fatalf("old reader: %d %v, want 0 io.EOF", n, err)
	}
}

func TestS5_28_ReadLimit(t *testing.T) {
	t.Parallel()
	rc, c := btcRawPair(t, nil)
	c.SetReadLimit(512)
	rc.send(t, rawFrame{op: opBinary, payload: make([]byte, 256)})
	rc.frame(t, opPong, make([]byte, 100))
	rc.send(t, rawFrame{fin: true, op: opCont, payload: make([]byte, 256)})
	if _, p, err := c.ReadMessage(); err != nil || len(p) != 512 {
		t.Fatalf("message of exactly the limit: %d %v", len(p), err)
	}
	rc.send(t, rawFrame{op: opBinary, payload: make([]byte, 256)})
	rc.send(t, rawFrame{fin: true, op: opCont, payload: make([]byte, 257)})
	_, r, err := c.NextReader() // the first frame fits
	if err != nil {
		t.Fatalf("NextReader: %v", err)
	}
	if _, err := io.ReadAll(r); err != btc.ErrReadLimit {
		t.Fatalf("read past the limit: %v, want ErrReadLimit", err)
	}
	if f := rc.readClose(t); f.closeCode() != 1009 || len(f.payload) != 2 {
		t.Fatalf("close sent: %d %q, want 1009 with no text", f.closeCode(), f.payload)
	}
	if _, _, err := c.NextReader(); err != btc.ErrReadLimit {
		t.Fatalf("sticky: %v", err)
	}
	// From NextReader directly, when the first frame is already too long.
	rc, c = btcRawPair(t, nil)
	c.SetReadLimit(10)
	rc.frame(t, opText, make([]byte, 11))
	if _, _, err := c.NextReader(); err != btc.ErrReadLimit {
		t.Fatalf("NextReader over the limit: %v", err)
	}
}

func TestS5_29_ProtocolViolations(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		frames []rawFrame
		text   string
	}{
		{"rsv", []rawFrame{{fin: true, rsv: 4, op: opText, payload: []byte("x")}}, "unexpected reserved bits 4"},
		{"rsv2 and rsv3", []rawFrame{{fin: true, rsv: 3, op: opBinary, payload: []byte("x")}}, "unexpected reserved bits 3"},
		{"long control", []rawFrame{{fin: true, op: opPing, payload: make([]byte, 126)}}, "control frame length > 125"},
		{"fragmented control", []rawFrame{{op: opPing}}, "control frame not final"},
		{"data inside message", []rawFrame{{op: opText, payload: []byte("a")}, {fin: true, op: opText, payload: []byte("b")}}, "message start before final message frame"},
		{"lone continuation", []rawFrame{{fin: true, op: opCont, payload: []byte("a")}}, "continuation after final message frame"},
		{"unknown opcode", []rawFrame{{fin: true, op: 3}}, "unknown opcode 3"},
	}
	for _, tc := range cases {
		rc, c := btcRawPair(t, nil)
		for _, f := range tc.frames {
			rc.send(t, f)
		}
		_, _, err := c.ReadMessage()
		want := "websocket: " + tc.text
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", tc.name, err, want)
		}
		if f := rc.readClose(t); f.closeCode() != 1002 {
			t.Errorf("%s: close code %d, want 1002", tc.name, f.closeCode())
		}
	}
	// Mask bit: a server requires masked frames.
	rc, c := btcRawPair(t, nil)
	rc.client = false
	rc.frame(t, opText, []byte("unmasked"))
	if _, _, err := c.ReadMessage(); err == nil || err.Error() != "websocket: incorrect mask flag" {
		t.Errorf("unmasked frame to a server: %v", err)
	}
	// A client requires unmasked ones.
	url := rawServer(t, nil, func(rc *rawConn, _ *http.Request) {
		rc.client = true
		rc.frame(t, opText, []byte("masked"))
		rc.readClose(t)
	})
	cc := btcDial(t, url)
	if _, _, err := cc.ReadMessage(); err == nil || err.Error() != "websocket: incorrect mask flag" {
		t.Errorf("masked frame to a client: %v", err)
	}
}

func TestS5_30_TextIsNotValidated(t *testing.T) {
	t.Parallel()
	rc, c := btcRawPair(t, nil)
	bad := []byte{'a', 0xff, 0xfe, 'z'}
	rc.frame(t, opText, bad)
	if mt, p, err := c.ReadMessage(); err != nil || mt != btc.TextMessage || !bytes.Equal(p, bad) {
		t.Fatalf("invalid UTF-8 text: %d %q %v, want it delivered as is", mt, p, err)
	}
}

func TestS5_31_ReadDeadline(t *testing.T) {
	t.Parallel()
	rc, c := btcRawPair(t, nil)
	if err := c.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	rc.frame(t, opText, []byte("x"))
	if _, _, err := c.ReadMessage(); !isTimeout(err) {
		t.Fatalf("past deadline: %v, want a timeout", err)
	}
}

func TestS5_32_NextWriter(t *testing.T) {
	t.Parallel()
	rc, c := btcRawPair(t, nil)
	if _, err := c.NextWriter(3); err == nil || err.Error() != "websocket: bad write message type" {
		t.Fatalf("NextWriter(3): %v", err)
	}
	w1, err := c.NextWriter(btc.TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w1, "one")
	w2, err := c.NextWriter(btc.BinaryMessage) // flushes w1 as a final frame
	if err != nil {
		t.Fatal(err)
	}
	if f := rc.mustRead(t); !f.fin || f.op != opText || string(f.payload) != "one" {
		t.Fatalf("first message: fin=%v op=%d %q", f.fin, f.op, f.payload)
	}
	if _, err := w1.Write([]byte("x")); err == nil || err.Error() != "websocket: write closed" {
		t.Fatalf("old writer Write: %v", err)
	}
	io.WriteString(w2, "two")
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if f := rc.mustRead(t); !f.fin || f.op != opBinary || string(f.payload) != "two" {
		t.Fatalf("second message: fin=%v op=%d %q", f.fin, f.op, f.payload)
	}
	if _, err := w2.Write([]byte("x")); err == nil || err.Error() != "websocket: write closed" {
		t.Fatalf("Write after Close: %v", err)
	}
	if err := w2.Close(); err == nil || err.Error() != "websocket: write closed" {
		t.Fatalf("Close after Close: %v", err)
	}
	// A control type through NextWriter.
	w3, err := c.NextWriter(btc.PingMessage)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w3, "p")
	w3.Close()
	if f := rc.mustRead(t); f.op != opPing || string(f.payload) != "p" {
		t.Fatalf("ping through NextWriter: op %d %q", f.op, f.payload)
	}
}

func TestS5_33_WriteMessage(t *testing.T) {
	t.Parallel()
	rc, c := btcRawPair(t, nil)
	if err := c.WriteMessage(btc.PingMessage, make([]byte, 126)); err == nil || err.Error() != "websocket: invalid control frame" {
		t.Fatalf("126-byte ping: %v", err)
	}
	if err := c.WriteMessage(btc.PingMessage, make([]byte, 125)); err != nil {
		t.Fatalf("125-byte ping: %v", err)
	}
	if f := rc.mustRead(t); f.op != opPing || len(f.payload) != 125 {
		t.Fatalf("ping: op %d len %d", f.op, len(f.payload))
	}
	if err := c.WriteMessage(btc.BinaryMessage, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if f := rc.mustRead(t); !f.fin || f.op != opBinary || !bytes.Equal(f.payload, []byte{1, 2}) {
		t.Fatalf("binary: %+v", f)
	}
}

func TestS5_34_WriteControl(t *testing.T) {
	t.Parallel()
	rc, c := btcRawPair(t, nil)
	dl := time.Now().Add(testTimeout)
	if err := c.WriteControl(btc.TextMessage, nil, dl); err == nil {
		t.Fatal("WriteControl(TextMessage) succeeded")
	}
	if err := c.WriteControl(btc.PingMessage, make([]byte, 126), dl); err == nil || err.Error() != "websocket: invalid control frame" {
		t.Fatalf("126 bytes: %v", err)
	}
	err := c.WriteControl(btc.PingMessage, nil, time.Now().Add(-time.Second))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || err.Error() != "websocket: write timeout" {
		t.Fatalf("past deadline: %v, want the write timeout net.Error", err)
	}
	if err := c.WriteControl(btc.PongMessage, []byte("zero deadline"), time.Time{}); err != nil {
		t.Fatalf("zero deadline: %v", err)
	}
	if f := rc.mustRead(t); f.op != opPong || string(f.payload) != "zero deadline" {
		t.Fatalf("pong: op %d %q", f.op, f.payload)
	}
}

func TestS5_35_ErrCloseSent(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"WriteControl", "WriteMessage", "NextWriter"} {
		rc, c := btcRawPair(t, nil)
		switch how {
		case "WriteControl":
			c.WriteControl(btc.CloseMessage, btc.FormatCloseMessage(1000, ""), time.Now().Add(testTimeout))
		case "WriteMessage":
			c.WriteMessage(btc.CloseMessage, btc.FormatCloseMessage(1000, ""))
		case "NextWriter":
			w, _ := c.NextWriter(btc.CloseMessage)
			w.Write(btc.FormatCloseMessage(1000, ""))
			w.Close()
		}
		if f := rc.mustRead(t); f.op != opClose {
			t.Fatalf("%s: sent op %d", how, f.op)
		}
		if err := c.WriteMessage(btc.TextMessage, []byte("x")); err != btc.ErrCloseSent {
			t.Errorf("%s: WriteMessage after close: %v", how, err)
		}
		if err := c.WriteControl(btc.PingMessage, nil, time.Now().Add(testTimeout)); err != btc.ErrCloseSent {
			t.Errorf("%s: WriteControl after close: %v", how, err)
		}
	}
}

func TestS5_36_WriteDeadline(t *testing.T) {
	t.Parallel()
	_, c := btcRawPair(t, nil) // the raw peer never reads
	if err := c.SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatalf("SetWriteDeadline returned %v", err)
	}
	err := c.WriteMessage(btc.BinaryMessage, []byte("x"))
	if !isTimeout(err) {
		t.Fatalf("write past the deadline: %v", err)
	}
	c.SetWriteDeadline(time.Time{})
	if err2 := c.WriteMessage(btc.BinaryMessage, []byte("x")); err2 == nil {
		t.Fatal("write after a write timeout succeeded (want it sticky)")
	}
}

func TestS5_37_MaskingAndFraming(t *testing.T) {
	t.Parallel()
	// Client frames: masked, fresh keys; split at the write buffer size.
	frames := make(chan rawFrame, 64)
	url := rawServer(t, nil, func(rc *rawConn, _ *http.Request) {
		defer close(frames)
		for {
			f, err := rc.read()
			if err != nil {
				return
			}
			frames <- f
			if f.op == opClose {
				return
			}
		}
	})
	c, _, err := (&btc.Dialer{WriteBufferSize: 1024}).Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteMessage(btc.TextMessage, []byte("a"))
	c.WriteMessage(btc.TextMessage, []byte("b"))
	// A message streamed in small writes goes out in frames of at most the
	// buffer's size. (WriteMessage, which has the whole message, may send
	// it as one frame: no reader can tell, and lull does.)
	w, err := c.NextWriter(btc.BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		w.Write(make([]byte, 100))
	}
	w.Close()
	c.WriteMessage(btc.CloseMessage, btc.FormatCloseMessage(1000, ""))
	var got []rawFrame
	for f := range frames {
		got = append(got, f)
	}
	if len(got) < 5 || got[0].key == got[1].key || !got[0].masked || !got[1].masked {
		t.Fatalf("client frames not masked with fresh keys: %d frames", len(got))
	}
	total, n := 0, 0
	for _, f := range got[2:] {
		if f.op == opClose {
			break
		}
		total += len(f.payload)
		n++
		if len(f.payload) > 1024 {
			t.Fatalf("frame of %d bytes with a 1024-byte write buffer", len(f.payload))
		}
	}
	if total != 3000 || n < 3 {
		t.Fatalf("3000-byte message as %d frames, %d bytes", n, total)
	}
	// Server frames: unmasked; one Write larger than twice the buffer is one frame.
	rc, sc := btcRawPair(t, &btc.Upgrader{WriteBufferSize: 1024})
	w, _ = sc.NextWriter(btc.BinaryMessage)
	w.Write(make([]byte, 5000))
	w.Close()
	f := rc.mustRead(t)
	if f.masked {
		t.Fatal("server frame masked")
	}
	if len(f.payload) != 5000 {
		t.Fatalf("large server Write: first frame %d bytes, want all 5000", len(f.payload))
	}
}

func TestS5_38_CloseSendsNoFrameUnderlyingConn(t *testing.T) {
	t.Parallel()
	ncc := make(chan net.Conn, 1)
	hold := make(chan struct{})
	url := btcServer(t, nil, func(c *btc.Conn) { ncc <- c.UnderlyingConn(); <-hold })
	rc := rawDial(t, url)
	nc := <-ncc
	close(hold) // the handler returns and Closes
	if _, ok := nc.(*net.TCPConn); !ok || nc.RemoteAddr().String() != rc.LocalAddr().String() {
		t.Fatalf("UnderlyingConn: %T %v", nc, nc.RemoteAddr())
	}
	rc.expectEOF(t)
	// Client side: the net.Conn given to NewClient, and Close sends nothing.
	frames := make(chan error, 1)
	url2 := rawServer(t, nil, func(rc *rawConn, _ *http.Request) {
		_, err := rc.read()
		frames <- err
	})
	raw, _ := net.Dial("tcp", hostOf(url2))
	u, _ := urlParse(url2)
	c, _, err := btc.NewClient(raw, u, nil, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.UnderlyingConn() != raw || c.LocalAddr().String() != raw.LocalAddr().String() || c.RemoteAddr().String() != raw.RemoteAddr().String() {
		t.Fatal("UnderlyingConn/LocalAddr/RemoteAddr differ from the conn given")
	}
	c.Close()
	if err := <-frames; err == nil {
		t.Fatal("Close sent a frame")
	}
}

func TestS5_39_JSON(t *testing.T) {
	t.Parallel()
	rc, c := btcRawPair(t, nil)
	type msg struct{ A int }
	if err := c.WriteJSON(msg{7}); err != nil {
		t.Fatal(err)
	}
	if f := rc.mustRead(t); f.op != opText || string(f.payload) != "{\"A\":7}\n" {
		t.Fatalf("WriteJSON sent op %d %q", f.op, f.payload)
	}
	if err := btc.WriteJSON(c, msg{8}); err != nil {
		t.Fatal(err)
	}
	if f := rc.mustRead(t); string(f.payload) != "{\"A\":8}\n" {
		t.Fatalf("package WriteJSON sent %q", f.payload)
	}
	rc.frame(t, opBinary, []byte(`{"A":1} trailing`))
	rc.frame(t, opText, []byte(`{"A":2}`))
	rc.frame(t, opText, nil)
	var m msg
	if err := c.ReadJSON(&m); err != nil || m.A != 1 {
		t.Fatalf("ReadJSON of a binary message with trailing data: %+v %v", m, err)
	}
	if err := btc.ReadJSON(c, &m); err != nil || m.A != 2 {
		t.Fatalf("package ReadJSON: %+v %v", m, err)
	}
	if err := c.ReadJSON(&m); err != io.EOF {
		t.Fatalf("ReadJSON of an empty message: %v, want io.EOF", err)
	}
	var bad json.RawMessage
	_ = bad
}

func TestS5_40_BufferSizesDoNotLimitMessages(t *testing.T) {
	t.Parallel()
	up := &btc.Upgrader{ReadBufferSize: 64, WriteBufferSize: 64, CheckOrigin: func(*http.Request) bool { return true }}
	url := btcServer(t, up, echoBtc)
	c, _, err := (&btc.Dialer{ReadBufferSize: 64, WriteBufferSize: 64}).Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := bytes.Repeat([]byte("0123456789"), 10000)
	c.WriteMessage(btc.BinaryMessage, msg)
	c.SetReadDeadline(time.Now().Add(testTimeout))
	if _, p, err := c.ReadMessage(); err != nil || !bytes.Equal(p, msg) {
		t.Fatalf("100 KB with 64-byte buffers: %d bytes, %v", len(p), err)
	}
}
