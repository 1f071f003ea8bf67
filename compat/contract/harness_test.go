package contract

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	compat "github.com/lullws/lull/compat"
	btc "github.com/lullws/lull/compat/btcsuite"
)

// Opcodes and close codes as the wire spells them (the raw peer below does
// not use either package under test).
const (
	opCont   = 0
	opText   = 1
	opBinary = 2
	opClose  = 8
	opPing   = 9
	opPong   = 10
)

// testTimeout bounds every blocking step of a test, so that a contract that
// is broken by a hang fails instead of stalling the suite.
const testTimeout = 10 * time.Second

func wsURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") }

// newHTTPServer starts a loopback HTTP server for h and stops it with the test.
func newHTTPServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// compatServer starts a server whose handler upgrades with up (a zero
// Upgrader accepting any origin if nil) and runs fn on the connection, which
// it closes when fn returns. Upgrade errors are sent to errs if not nil.
func compatServer(t *testing.T, up *compat.Upgrader, fn func(*compat.Conn)) string {
	t.Helper()
	if up == nil {
		up = &compat.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	}
	s := newHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		fn(c)
	})
	return wsURL(s)
}

func btcServer(t *testing.T, up *btc.Upgrader, fn func(*btc.Conn)) string {
	t.Helper()
	if up == nil {
		up = &btc.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	}
	s := newHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		fn(c)
	})
	return wsURL(s)
}

func compatDial(t *testing.T, url string) *compat.Conn {
	t.Helper()
	c, _, err := (&compat.Dialer{HandshakeTimeout: testTimeout}).Dial(url, nil)
	if err != nil {
		t.Fatalf("compat Dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func btcDial(t *testing.T, url string) *btc.Conn {
	t.Helper()
	c, _, err := (&btc.Dialer{HandshakeTimeout: testTimeout}).Dial(url, nil)
	if err != nil {
		t.Fatalf("btcsuite Dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawConn is a hand-written WebSocket peer: it sends exactly the bytes a test
// asks for, so the package under test can be fed frames no correct library
// would produce, and it reports exactly what the package sent.
type rawConn struct {
	net.Conn
	br     *bufio.Reader
	client bool // masks what it sends, expects unmasked frames
}

type rawFrame struct {
	fin     bool
	rsv     byte // the three RSV bits, as bits 6-4 of the first byte
	op      byte
	masked  bool
	key     [4]byte
	payload []byte
}

func (f rawFrame) closeCode() int {
	if len(f.payload) < 2 {
		return 1005
	}
	return int(binary.BigEndian.Uint16(f.payload))
}

// rawDial opens a TCP connection to the ws:// url and performs the client
// handshake by hand with the extra header lines given.
func rawDial(t *testing.T, url string, extra ...string) *rawConn {
	t.Helper()
	rc, resp := rawHandshake(t, url, extra...)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("raw handshake: status %s", resp.Status)
	}
	return rc
}

// rawHandshake sends a client handshake and returns the response, whatever
// its status.
func rawHandshake(t *testing.T, url string, extra ...string) (*rawConn, *http.Response) {
	t.Helper()
	req := "GET " + pathOf(url) + " HTTP/1.1\r\nHost: " + hostOf(url) + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	for _, h := range extra {
		req += h + "\r\n"
	}
	return rawRequest(t, url, req+"\r\n")
}

// rawRequest writes the request text as is and reads the HTTP response.
func rawRequest(t *testing.T, url, req string) (*rawConn, *http.Response) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", hostOf(url), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(testTimeout))
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	rc := &rawConn{Conn: nc, br: bufio.NewReader(nc), client: true}
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		t.Fatalf("reading handshake response: %v", err)
	}
	return rc, resp
}

func hostOf(url string) string {
	rest := url[strings.Index(url, "://")+3:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

func pathOf(url string) string {
	rest := url[strings.Index(url, "://")+3:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return "/"
}

func (c *rawConn) send(t *testing.T, f rawFrame) {
	t.Helper()
	if _, err := c.Write(c.encode(f)); err != nil {
		t.Fatalf("raw write: %v", err)
	}
}

// frame is a shorthand for a final frame with no RSV bits.
func (c *rawConn) frame(t *testing.T, op byte, payload []byte) {
	t.Helper()
	c.send(t, rawFrame{fin: true, op: op, payload: payload})
}

func (c *rawConn) encode(f rawFrame) []byte {
	b0 := f.op | f.rsv<<4
	if f.fin {
		b0 |= 0x80
	}
	var b1 byte
	if c.client {
		b1 = 0x80
	}
	out := []byte{b0, b1}
	n := len(f.payload)
	switch {
	case n < 126:
		out[1] |= byte(n)
	case n < 1<<16:
		out[1] |= 126
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out[1] |= 127
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if !c.client {
		return append(out, f.payload...)
	}
	var key [4]byte
	rand.Read(key[:])
	out = append(out, key[:]...)
	for i, b := range f.payload {
		out = append(out, b^key[i&3])
	}
	return out
}

func (c *rawConn) read() (rawFrame, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return rawFrame{}, err
	}
	f := rawFrame{fin: h[0]&0x80 != 0, rsv: h[0] >> 4 & 7, op: h[0] & 15, masked: h[1]&0x80 != 0}
	n := uint64(h[1] & 127)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<26 {
		return f, fmt.Errorf("frame of %d bytes", n)
	}
	if f.masked {
		if _, err := io.ReadFull(c.br, f.key[:]); err != nil {
			return f, err
		}
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.payload); err != nil {
		return f, err
	}
	if f.masked {
		for i := range f.payload {
			f.payload[i] ^= f.key[i&3]
		}
	}
	return f, nil
}

// mustRead reads one frame and fails the test if there is none.
func (c *rawConn) mustRead(t *testing.T) rawFrame {
	t.Helper()
	f, err := c.read()
	if err != nil {
		t.Fatalf("raw read: %v", err)
	}
	return f
}

// readClose reads frames until a close frame, which it returns.
func (c *rawConn) readClose(t *testing.T) rawFrame {
	t.Helper()
	for {
		f := c.mustRead(t)
		if f.op == opClose {
			return f
		}
	}
}

// expectEOF asserts that the peer closed the TCP connection without sending
// anything more.
func (c *rawConn) expectEOF(t *testing.T) {
	t.Helper()
	f, err := c.read()
	if err == nil {
		t.Fatalf("want the connection closed, got a frame op=%d payload=%q", f.op, f.payload)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isReset(err) {
		t.Fatalf("want EOF, got %v", err)
	}
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

func closePayload(code int, text string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), text...)
}

// rawServer accepts one connection on a loopback listener, reads the client
// handshake and answers it with respond (nil: a correct 101), then hands the
// connection to fn. It returns the ws:// URL to dial.
func rawServer(t *testing.T, respond func(req *http.Request) string, fn func(*rawConn, *http.Request)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(testTimeout))
		rc := &rawConn{Conn: nc, br: bufio.NewReader(nc)}
		req, err := http.ReadRequest(rc.br)
		if err != nil {
			return
		}
		resp := ""
		if respond != nil {
			resp = respond(req)
		} else {
			resp = accept101(req, "")
		}
		if _, err := io.WriteString(nc, resp); err != nil {
			return
		}
		if fn != nil {
			fn(rc, req)
		}
	}()
	return "ws://" + ln.Addr().String() + "/"
}

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// accept101 is a correct 101 response to req, with extra header lines.
func accept101(req *http.Request, extra string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + acceptKey(req.Header.Get("Sec-Websocket-Key")) + "\r\n" + extra + "\r\n"
}

// within runs fn and fails the test if it does not return in testTimeout.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatalf("%s did not return within %v", what, testTimeout)
	}
}

// result carries what a server handler saw back to the test goroutine.
type result struct {
	mt   int
	data []byte
	err  error
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
