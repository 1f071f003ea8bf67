package engine

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// TestAdopt upgrades a request in a net/http handler with
// upgrade.Server.UpgradeHTTP and hands the connection to the engine, with
// the bytes the HTTP server had already buffered (the client's first
// frame, sent in the same write as the request).
func TestAdopt(t *testing.T) {
	ev := newEvents()
	cfg := echoConfig()
	ev.hook(&cfg)
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	up := upgrade.Server{CheckOriginHTTP: func(*http.Request) bool { return true }, Subprotocols: []string{"chat"}}
	adopted := make(chan *Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, rw, res, err := up.UpgradeHTTP(w, r, nil)
		if err != nil {
			t.Errorf("UpgradeHTTP: %v", err)
			return
		}
		buffered, _ := rw.Reader.Peek(rw.Reader.Buffered())
		c, err := e.Adopt(nc, buffered, res)
		if err != nil {
			t.Errorf("Adopt: %v", err)
			return
		}
		// The caller may write at once.
		if err := c.WriteMessage(frame.OpText, []byte("welcome")); err != nil {
			t.Errorf("write after Adopt: %v", err)
		}
		adopted <- c
	}))
	defer hs.Close()
	rc := dialRaw(t, hs.Listener.Addr().String())
	req := []byte(handshakeRequest[:len(handshakeRequest)-2] + "Sec-WebSocket-Protocol: chat\r\n\r\n")
	rc.write(append(req, clientFrame(true, frame.OpText, []byte("first"))...))
	head := rc.readResponse(101)
	if !bytes.Contains([]byte(head), []byte("Sec-WebSocket-Protocol: chat")) {
		t.Fatalf("no subprotocol in %q", head)
	}
	c := <-adopted
	// The caller's write and the echo of the buffered frame race: the
	// loop may process the buffered bytes before the handler writes.
	got := map[string]bool{}
	for i := 0; i < 2; i++ {
		op, p, err := rc.next(5 * time.Second)
		if err != nil || op != frame.OpText {
			t.Fatalf("message %d: %v %q, %v", i, op, p, err)
		}
		got[string(p)] = true
	}
	if !got["welcome"] || !got["first"] {
		t.Fatalf("got %v, want the welcome and the echo of the buffered frame", got)
	}
	rc.write(clientFrame(true, frame.OpBinary, []byte("second")))
	rc.expect(frame.OpBinary, []byte("second"))
	if c.Subprotocol() != "chat" {
		t.Fatalf("Subprotocol() = %q, want chat", c.Subprotocol())
	}
	rc.write(clientFrame(true, frame.OpClose, closePayload(frame.CloseNormal, "")))
	rc.expect(frame.OpClose, closePayload(frame.CloseNormal, ""))
	rc.expectNothingThenEOF(2 * time.Second)
	wantCloseError(t, ev.closeErr(t, c, 2*time.Second), frame.CloseNormal, true)
}

// TestServe serves connections accepted from a net.Listener; Shutdown
// makes Serve return nil.
func TestServe(t *testing.T) {
	e, err := New(echoConfig())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.Serve(ln) }()
	for i := 0; i < 5; i++ {
		rc := dialRaw(t, ln.Addr().String())
		rc.handshake()
		rc.write(clientFrame(true, frame.OpText, []byte("via Serve")))
		rc.expect(frame.OpText, []byte("via Serve"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	e.Shutdown(ctx)
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve returned %v after Shutdown, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Shutdown")
	}
	if err := e.Serve(ln); err != ErrEngineClosed {
		t.Fatalf("Serve after Shutdown = %v, want ErrEngineClosed", err)
	}
}

// TestReusePort listens with one socket per loop and serves on both.
func TestReusePort(t *testing.T) {
	cfg := echoConfig()
	cfg.Loops = 2
	cfg.ReusePort = true
	e, addr := startEngine(t, cfg)
	for i := 0; i < 20; i++ {
		rc := dialRaw(t, addr)
		rc.handshake()
		rc.write(clientFrame(true, frame.OpText, []byte("r")))
		rc.expect(frame.OpText, []byte("r"))
	}
	if s := e.Stats(); s.Open != 20 || s.Handshakes != 20 {
		t.Fatalf("Stats: %v; want 20 open connections", s)
	}
	per := [2]int64{e.loops[0].open.Load(), e.loops[1].open.Load()}
	t.Logf("connections per loop: %v", per)
}

// TestShutdown sends 1001 to every open connection, waits for the close
// handshakes, and closes everything; a peer that never answers is cut
// off when the context ends.
func TestShutdown(t *testing.T) {
	e, err := New(echoConfig())
	if err != nil {
		t.Fatal(err)
	}
	addr, err := e.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		rc := dialRaw(t, addr.String())
		rc.handshake()
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc.expectClose(frame.CloseGoingAway)
			rc.write(clientFrame(true, frame.OpClose, closePayload(frame.CloseGoingAway, "")))
			rc.expectNothingThenEOF(3 * time.Second)
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	wg.Wait()
	if n := e.Stats().Open; n != 0 {
		t.Fatalf("%d connections open after Shutdown", n)
	}
	if _, err := e.Listen("tcp", "127.0.0.1:0"); err != ErrEngineClosed {
		t.Fatalf("Listen after Shutdown = %v", err)
	}

	// A peer that never answers the close.
	e, err = New(echoConfig())
	if err != nil {
		t.Fatal(err)
	}
	addr, _ = e.Listen("tcp", "127.0.0.1:0")
	rc := dialRaw(t, addr.String())
	rc.handshake()
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := e.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Shutdown took %v with a 300 ms context", d)
	}
	rc.expectClose(frame.CloseGoingAway)
	rc.expectNothingThenEOF(time.Second)
}

func TestStats(t *testing.T) {
	e, addr := startEngine(t, echoConfig())
	rc := dialRaw(t, addr)
	rc.handshake()
	for i := 0; i < 3; i++ {
		rc.write(clientFrame(true, frame.OpBinary, make([]byte, 100)))
		rc.expect(frame.OpBinary, make([]byte, 100))
	}
	bad := dialRaw(t, addr)
	bad.write([]byte("GET / HTTP/1.0\r\n\r\n"))
	bad.readResponse(505)
	s := e.Stats()
	if s.Accepted != 2 || s.Handshakes != 1 || s.BadHandshakes != 1 || s.MessagesIn != 3 || s.MessagesOut != 3 ||
		s.BytesIn < 3*106+int64(len(handshakeRequest)) || s.BytesOut < 3*104 || s.Open < 1 {
		t.Fatalf("Stats after 3 echoes and a bad handshake: %v", s)
	}
	if s.String() == "" {
		t.Fatal("empty Stats.String")
	}
}

// TestManyConnections opens and closes 10,000 connections, in two waves
// of 5,000 held at once (both ends are in this process: 10,000
// descriptors per wave), closing half from each side, and checks that
// the process's open descriptors and goroutines return to where they
// started.
func TestManyConnections(t *testing.T) {
	n, waves := 5000, 2
	if testing.Short() {
		n = 1000
	}
	runtime.GC()
	fds0, gs0 := fdCount(t), runtime.NumGoroutine()

	var srvOpen sync.Map
	scfg := echoConfig()
	scfg.OnOpen = func(c *Conn) { srvOpen.Store(c, true) }
	srv, err := New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var echoed, closed atomic.Int64
	cli, err := New(Config{
		Loops: 2,
		OnMessage: func(c *Conn, op frame.Opcode, data []byte) {
			echoed.Add(1)
			if c.LocalAddr().Port()%2 == 0 {
				c.Close(frame.CloseNormal, "client done")
			}
		},
		OnClose: func(c *Conn, err error) { closed.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for w := 0; w < waves; w++ {
		var opened, failed atomic.Int64
		for i := 0; i < n; i++ {
			for int64(i)-opened.Load()-failed.Load() >= 500 {
				time.Sleep(time.Millisecond)
			}
			err := cli.DialAsync("ws://"+addr.String()+"/", nil, func(c *Conn, err error) {
				if err != nil {
					failed.Add(1)
					t.Errorf("dial: %v", err)
					return
				}
				opened.Add(1)
				c.WriteMessage(frame.OpText, []byte(strconv.Itoa(i)))
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "the echoes", 60*time.Second, func() bool { return echoed.Load() == int64((w+1)*n) || t.Failed() })
		if t.Failed() {
			t.FailNow()
		}
		// Odd local ports closed from the client; the server closes the
		// rest.
		srvOpen.Range(func(k, _ any) bool {
			c := k.(*Conn)
			if c.RemoteAddr().Port()%2 == 1 {
				c.Close(frame.CloseGoingAway, "server done")
			}
			srvOpen.Delete(k)
			return true
		})
		waitFor(t, "every connection to close", 60*time.Second, func() bool {
			return closed.Load() == int64((w+1)*n) && srv.Stats().Open == 0 && cli.Stats().Open == 0
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cli.Shutdown(ctx)
	srv.Shutdown(ctx)
	waitFor(t, "descriptors and goroutines to return to where they started", 10*time.Second, func() bool {
		return fdCount(t) == fds0 && runtime.NumGoroutine() <= gs0
	})
	t.Logf("%d connections opened and closed; descriptors %d -> %d, goroutines %d -> %d", waves*n, fds0, fdCount(t), gs0, runtime.NumGoroutine())
}

// TestWorkers runs handlers on a worker pool: handlers that block for a
// while still see one connection's messages one at a time, in order.
func TestWorkers(t *testing.T) {
	var inHandler sync.Map
	var overlap atomic.Bool
	cfg := echoConfig()
	cfg.Workers = 4
	cfg.OnMessage = func(c *Conn, op frame.Opcode, data []byte) {
		if _, busy := inHandler.LoadOrStore(c, true); busy {
			overlap.Store(true)
		}
		time.Sleep(time.Duration(rand.Intn(500)) * time.Microsecond)
		inHandler.Delete(c)
		c.WriteMessage(op, data)
	}
	_, addr := startEngine(t, cfg)
	var wg sync.WaitGroup
	for k := 0; k < 8; k++ {
		rc := dialRaw(t, addr)
		rc.handshake()
		wg.Add(1)
		go func() {
			defer wg.Done()
			var burst []byte
			for i := 0; i < 50; i++ {
				burst = append(burst, clientFrame(true, frame.OpText, []byte(strconv.Itoa(i)))...)
			}
			rc.write(burst)
			for i := 0; i < 50; i++ {
				rc.expect(frame.OpText, []byte(strconv.Itoa(i)))
			}
		}()
	}
	wg.Wait()
	if overlap.Load() {
		t.Fatal("a connection's handler ran twice at once")
	}
}

// TestIdleHoldsNoBuffer checks, after fragmented messages, control frames
// split across reads and a write that queued, that an idle connection
// keeps no buffer: nothing read, nothing queued, no handshake state.
func TestIdleHoldsNoBuffer(t *testing.T) {
	ev := newEvents()
	cfg := echoConfig()
	ev.hook(&cfg)
	_, addr := startEngine(t, cfg)
	rc := dialRaw(t, addr)
	// The request in two pieces, then a message in fragments, with a ping
	// split across reads between them.
	rc.write([]byte(handshakeRequest[:40]))
	time.Sleep(20 * time.Millisecond)
	rc.write([]byte(handshakeRequest[40:]))
	rc.readResponse(101)
	c := ev.firstOpen(t)
	ping := clientFrame(true, frame.OpPing, []byte("split ping"))
	rc.write(clientFrame(false, frame.OpText, []byte("frag ")))
	rc.write(ping[:8])
	time.Sleep(20 * time.Millisecond)
	onLoop(t, c.loop, func() {
		if c.in == nil || c.ctl == nil {
			t.Errorf("mid-message: in %v, ctl %v; want both held", c.in != nil, c.ctl != nil)
		}
	})
	rc.write(ping[8:])
	rc.write(clientFrame(true, frame.OpContinuation, []byte("end")))
	rc.expect(frame.OpPong, []byte("split ping"))
	rc.expect(frame.OpText, []byte("frag end"))
	// Fill the queue while the client does not read, then read it all.
	fillQueue(t, c)
	for c.Buffered() > 0 {
		if _, _, err := rc.next(5 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	onLoop(t, c.loop, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.in != nil || c.ctl != nil || c.hs != nil || c.out != nil {
			t.Errorf("idle connection holds: in %v, ctl %v, handshake %v, out %v", c.in != nil, c.ctl != nil, c.hs != nil, c.out != nil)
		}
	})
}

// TestLargeMessage: the default read limit takes a 16 MiB message.
func TestLargeMessage(t *testing.T) {
	_, addr := startEngine(t, echoConfig())
	rc := dialRaw(t, addr)
	rc.handshake()
	msg := bytes.Repeat([]byte("0123456789abcdef"), 1<<20)
	rc.write(clientFrame(false, frame.OpBinary, msg[:1<<23]))
	rc.write(clientFrame(true, frame.OpContinuation, msg[1<<23:]))
	op, got, err := rc.next(30 * time.Second)
	if err != nil || op != frame.OpBinary || !bytes.Equal(got, msg) {
		t.Fatalf("16 MiB echo: %v, %d bytes, %v", op, len(got), err)
	}
}
