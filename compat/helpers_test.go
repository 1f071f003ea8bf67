package websocket

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoServer starts an HTTP server whose handler upgrades with u and then
// runs serve on the connection.
func newServer(t *testing.T, u *Upgrader, serve func(c *Conn)) *httptest.Server {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []*Conn
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		wg.Add(1)
		defer wg.Done()
		defer c.Close()
		serve(c)
	}))
	t.Cleanup(func() {
		mu.Lock()
		for _, c := range conns {
			c.Close() // hijacked connections are not the server's to close
		}
		mu.Unlock()
		s.Close()
		wg.Wait()
	})
	return s
}

func wsURL(s *httptest.Server) string {
	return "ws" + strings.TrimPrefix(s.URL, "http")
}

// echo echoes every message with ReadMessage and WriteMessage.
func echo(c *Conn) {
	for {
		mt, p, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(mt, p); err != nil {
			return
		}
	}
}

// echoStream echoes every message with NextReader, NextWriter and io.Copy.
func echoStream(c *Conn) {
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

func dial(t *testing.T, s *httptest.Server) *Conn {
	t.Helper()
	c, resp, err := DefaultDialer.Dial(wsURL(s), nil)
	if err != nil {
		t.Fatalf("Dial: %v (response %v)", err, resp)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// pipePair returns a server and a client Conn on a loopback TCP
// connection hidden behind a plain net.Conn wrapper: the portable path
// (blocking reads into a buffer) on both sides.
func pipePair(t *testing.T) (srv, cli *Conn) {
	a, b := tcpConns(t)
	srv = newConn(struct{ net.Conn }{a}, true, 0, 0, nil, nil)
	cli = newConn(struct{ net.Conn }{b}, false, 0, 0, nil, nil)
	return srv, cli
}

func tcpConns(t testing.TB) (a, b net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	b, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a = <-ch
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// tcpPair returns a server and a client Conn on a loopback TCP connection:
// the raw path (waiting for readability without a buffer) on both sides.
func tcpPair(t testing.TB) (srv, cli *Conn) {
	a, b := tcpConns(t)
	return newConn(a, true, 0, 0, nil, nil), newConn(b, false, 0, 0, nil, nil)
}

var pairs = []struct {
	name string
	make func(t *testing.T) (srv, cli *Conn)
}{
	{"portable", pipePair},
	{"tcp", func(t *testing.T) (srv, cli *Conn) { return tcpPair(t) }},
}

func payload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return p
}

func equalBytes(a, b []byte) bool { return bytes.Equal(a, b) }

func deadline() time.Time { return time.Now().Add(10 * time.Second) }

// flushForTest sends the buffered bytes as a non-final frame.
func (w *messageWriter) flushForTest() error {
	w.c.msgMu.Lock()
	defer w.c.msgMu.Unlock()
	return w.flush(w.buf[:w.pos], false)
}

// readErrs reads c until an error and sends that error.
func readErrs(c *Conn) <-chan error {
	ch := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				ch <- err
				return
			}
		}
	}()
	return ch
}
