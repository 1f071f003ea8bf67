package upgrade

import (
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"
)

// chromeRequest is an opening handshake as Chrome sends it.
var chromeRequest = []byte("GET /chat?room=1 HTTP/1.1\r\n" +
	"Host: example.com:8080\r\n" +
	"Connection: Upgrade\r\n" +
	"Pragma: no-cache\r\n" +
	"Cache-Control: no-cache\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n" +
	"Upgrade: websocket\r\n" +
	"Origin: http://example.com:8080\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Sec-WebSocket-Key: " + rfcKey + "\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"Sec-WebSocket-Protocol: chat, superchat\r\n" +
	"\r\n")

var benchServer = Server{Subprotocols: []string{"superchat", "chat"}, Deflate: &DeflatePolicy{}}

// rawServerHandshake is the whole raw server path: parse, validate and
// negotiate, write the 101.
func rawServerHandshake(s *Server, r *Request, req, out []byte) ([]byte, error) {
	r.Reset()
	if st, _ := s.Parse(r, req); st != Done {
		return nil, r.Err()
	}
	res, err := s.Accept(r)
	if err != nil {
		return nil, err
	}
	return AppendResponse(out[:0], r.Key(), &res, nil)
}

// chromeResponse is benchServer's answer to chromeRequest.
var chromeResponse = func() []byte {
	var r Request
	out, err := rawServerHandshake(&benchServer, &r, chromeRequest, nil)
	if err != nil {
		panic(err)
	}
	return out
}()

var benchClient = Client{
	Host:         "example.com:8080",
	RequestURI:   "/chat?room=1",
	Origin:       "http://example.com:8080",
	Subprotocols: []string{"chat", "superchat"},
	Deflate:      []DeflateParams{{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, {}},
}

func clientResponse(c *Client, r *Response, resp []byte) (Result, error) {
	r.Reset()
	if st, _ := c.ParseResponse(r, resp); st != Done {
		return Result{}, r.Err()
	}
	return c.Verify(r, &rfcKeyArr)
}

// TestZeroAllocs asserts what the benchmarks show: the raw paths allocate
// nothing.
func TestZeroAllocs(t *testing.T) {
	var r Request
	out := make([]byte, 0, 512)
	check := func(name string, f func()) {
		t.Helper()
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", name, n)
		}
	}
	check("server handshake", func() {
		if _, err := rawServerHandshake(&benchServer, &r, chromeRequest, out); err != nil {
			t.Fatal(err)
		}
	})
	check("server handshake, byte by byte", func() {
		r.Reset()
		for i := 1; i <= len(chromeRequest); i++ {
			benchServer.Parse(&r, chromeRequest[:i])
		}
		res, err := benchServer.Accept(&r)
		if err != nil {
			t.Fatal(err)
		}
		AppendResponse(out[:0], r.Key(), &res, []Field{{"Set-Cookie", "a=b"}})
	})
	bad := []byte("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n\r\n")
	check("server refusal", func() {
		r.Reset()
		if st, _ := benchServer.Parse(&r, bad); st != Failed {
			t.Fatal(st)
		}
		AppendError(out[:0], r.Err().Status, r.Err().Reason)
	})
	var resp Response
	check("client response", func() {
		res, err := clientResponse(&benchClient, &resp, chromeResponse)
		if err != nil || !res.Deflate || res.Subprotocol != "superchat" {
			t.Fatal(res, err)
		}
	})
	check("client request", func() {
		if _, err := benchClient.AppendRequest(out[:0], &rfcKeyArr); err != nil {
			t.Fatal(err)
		}
	})
	check("NegotiateDeflate", func() {
		if _, ok := NegotiateDeflate(&DeflatePolicy{}, offer13_7); !ok {
			t.Fatal("declined")
		}
	})
	var accept [28]byte
	check("ComputeAccept", func() { ComputeAccept(&accept, chromeRequest[:24]) })
}

func BenchmarkServerHandshake(b *testing.B) {
	b.Run("raw", func(b *testing.B) {
		var r Request
		out := make([]byte, 0, 512)
		b.SetBytes(int64(len(chromeRequest)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := rawServerHandshake(&benchServer, &r, chromeRequest, out); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The request arriving in three reads, as over a slow link.
	b.Run("raw-3-pieces", func(b *testing.B) {
		var r Request
		out := make([]byte, 0, 512)
		cuts := []int{100, 300, len(chromeRequest)}
		b.SetBytes(int64(len(chromeRequest)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			r.Reset()
			for _, c := range cuts {
				benchServer.Parse(&r, chromeRequest[:c])
			}
			res, err := benchServer.Accept(&r)
			if err != nil {
				b.Fatal(err)
			}
			AppendResponse(out[:0], r.Key(), &res, nil)
		}
	})
	// The same handshake through net/http's server and UpgradeHTTP, on an
	// in-memory connection so that no socket cost is counted: net/http
	// reads and parses the request, the handler checks it and hijacks, the
	// 101 is written. memConn itself costs 3 allocations per run (the conn,
	// its done channel, the output it collects).
	b.Run("net-http-hijack", func(b *testing.B) {
		ln := newMemListener()
		srv := &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, _, _, err := benchServer.UpgradeHTTP(w, r, nil)
				if err != nil {
					return
				}
				conn.Close()
			}),
			ErrorLog: log.New(io.Discard, "", 0),
		}
		go srv.Serve(ln)
		defer srv.Close()
		run := func() *memConn {
			c := newMemConn(chromeRequest)
			ln.conns <- c
			<-c.done
			return c
		}
		if c := run(); !bytes.Equal(c.out, chromeResponse) {
			b.Fatalf("net/http path wrote %q, want %q", c.out, chromeResponse)
		}
		b.SetBytes(int64(len(chromeRequest)))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			run()
		}
	})
}

func BenchmarkClientResponse(b *testing.B) {
	var r Response
	b.SetBytes(int64(len(chromeResponse)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := clientResponse(&benchClient, &r, chromeResponse); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClientRequest(b *testing.B) {
	out := make([]byte, 0, 512)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := benchClient.AppendRequest(out[:0], &rfcKeyArr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNegotiateDeflate(b *testing.B) {
	pol := &DeflatePolicy{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, ok := NegotiateDeflate(pol, offer13_7); !ok {
			b.Fatal("declined")
		}
	}
}

// memListener hands out memConns to an http.Server.
type memListener struct {
	conns  chan *memConn
	closed chan struct{}
	once   sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan *memConn), closed: make(chan struct{})}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *memListener) Addr() net.Addr { return memAddr{} }

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem" }

// memConn is a net.Conn whose peer has sent in and then waits: reads
// after in block until Close or a read deadline in the past (which
// net/http uses to stop its background read before a hijack). Writes are
// collected in out; done is closed by Close.
type memConn struct {
	mu      sync.Mutex
	cond    sync.Cond
	in      []byte
	out     []byte
	expired bool
	closed  bool
	done    chan struct{}
}

func newMemConn(in []byte) *memConn {
	c := &memConn{in: in, done: make(chan struct{})}
	c.cond.L = &c.mu
	return c
}

func (c *memConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.in) == 0 && !c.expired && !c.closed {
		c.cond.Wait()
	}
	switch {
	case c.closed:
		return 0, net.ErrClosed
	case c.expired:
		return 0, os.ErrDeadlineExceeded
	}
	n := copy(b, c.in)
	c.in = c.in[n:]
	return n, nil
}

func (c *memConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	c.out = append(c.out, b...)
	return len(b), nil
}

func (c *memConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.done)
		c.cond.Broadcast()
	}
	return nil
}

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expired = !t.IsZero() && !t.After(time.Now())
	c.cond.Broadcast()
	return nil
}

func (c *memConn) SetDeadline(t time.Time) error    { return c.SetReadDeadline(t) }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }
func (c *memConn) LocalAddr() net.Addr              { return memAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return memAddr{} }
