package engine

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lullws/lull/frame"
)

// Each timeout of Config. The wheel ticks every 100 ms, so a timeout of d
// fires between d and d plus two ticks: the lower bounds below are exact
// (less 50 ms for clocks), the upper ones generous for a loaded machine.

func TestHandshakeTimeout(t *testing.T) {
	cfg := echoConfig()
	cfg.HandshakeTimeout = 300 * time.Millisecond
	e, addr := startEngine(t, cfg)
	rc := dialRaw(t, addr)
	rc.write([]byte(handshakeRequest[:30])) // a request that never ends
	start := time.Now()
	rc.expectNothingThenEOF(3 * time.Second)
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("closed after %v, before the 300 ms timeout", d)
	}
	if n := e.Stats().Timeouts; n != 1 {
		t.Fatalf("Timeouts = %d, want 1", n)
	}
}

func TestClientHandshakeTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept, read the request, never answer
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			c.Read(make([]byte, 4096))
			time.Sleep(3 * time.Second)
		}
	}()
	cli := newClientEngine(t, Config{HandshakeTimeout: 300 * time.Millisecond})
	done := make(chan error, 1)
	start := time.Now()
	cli.DialAsync("ws://"+ln.Addr().String()+"/", nil, func(c *Conn, err error) { done <- err })
	select {
	case err := <-done:
		if !errors.Is(err, ErrHandshakeTimeout) {
			t.Fatalf("dial error %v, want ErrHandshakeTimeout", err)
		}
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Fatalf("gave up after %v, before the 300 ms timeout", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("dial did not time out")
	}
}

func TestReadTimeout(t *testing.T) {
	ev := newEvents()
	cfg := echoConfig()
	cfg.ReadTimeout = 300 * time.Millisecond
	ev.hook(&cfg)
	_, addr := startEngine(t, cfg)
	rc := dialRaw(t, addr)
	rc.handshake()
	c := ev.firstOpen(t)
	// Activity postpones the timeout.
	for i := 0; i < 4; i++ {
		time.Sleep(150 * time.Millisecond)
		rc.write(clientFrame(true, frame.OpText, []byte("tick")))
		rc.expect(frame.OpText, []byte("tick"))
	}
	start := time.Now()
	rc.expectClose(frame.CloseGoingAway)
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("idle close after %v of silence, want about 300 ms", d)
	}
	rc.write(clientFrame(true, frame.OpClose, closePayload(frame.CloseGoingAway, "")))
	rc.expectNothingThenEOF(2 * time.Second)
	if err := ev.closeErr(t, c, 2*time.Second); err != ErrReadTimeout {
		t.Fatalf("OnClose error %v, want ErrReadTimeout", err)
	}
}

func TestPingInterval(t *testing.T) {
	pongs := make(chan struct{}, 10)
	cfg := echoConfig()
	cfg.PingInterval = 200 * time.Millisecond
	cfg.ReadTimeout = 500 * time.Millisecond // the pongs keep the connection alive
	cfg.OnPong = func(c *Conn, data []byte) { pongs <- struct{}{} }
	_, addr := startEngine(t, cfg)
	rc := dialRaw(t, addr)
	rc.handshake()
	start := time.Now()
	for i := 0; i < 5; i++ {
		rc.expect(frame.OpPing, []byte{})
		rc.write(clientFrame(true, frame.OpPong, nil))
		select {
		case <-pongs:
		case <-time.After(2 * time.Second):
			t.Fatal("OnPong not called")
		}
	}
	if d := time.Since(start); d < 700*time.Millisecond {
		t.Fatalf("5 pings in %v, want one per 200 ms", d)
	}
}

func TestWriteTimeout(t *testing.T) {
	ev := newEvents()
	cfg := echoConfig()
	cfg.WriteTimeout = 300 * time.Millisecond
	cfg.WriteQueueLimit = 1 << 20
	ev.hook(&cfg)
	e, addr := startEngine(t, cfg)
	rc := dialRaw(t, addr)
	rc.handshake()
	c := ev.firstOpen(t)
	fillQueue(t, c)
	start := time.Now()
	err := ev.closeErr(t, c, 3*time.Second)
	if err != ErrWriteTimeout {
		t.Fatalf("OnClose error %v, want ErrWriteTimeout", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("closed after %v, before the write timeout", d)
	}
	if e.Stats().Timeouts != 1 {
		t.Fatalf("Timeouts = %d, want 1", e.Stats().Timeouts)
	}
}

// fillQueue writes to c, whose peer does not read, until its queue is not
// empty, and returns how many bytes it wrote.
func fillQueue(t testing.TB, c *Conn) int {
	t.Helper()
	msg := make([]byte, 64<<10)
	total := 0
	for i := 0; c.Buffered() == 0; i++ {
		if i == 4096 {
			t.Fatal("256 MiB written and nothing queued: the peer is reading?")
		}
		if err := c.WriteMessage(frame.OpBinary, msg); err != nil {
			t.Fatal(err)
		}
		total += len(msg)
	}
	return total
}

func TestCloseTimeout(t *testing.T) {
	ev := newEvents()
	cfg := echoConfig()
	cfg.CloseTimeout = 300 * time.Millisecond
	cfg.OnOpen = func(c *Conn) { c.Close(frame.CloseNormal, "") }
	ev.hook(&cfg)
	e, addr := startEngine(t, cfg)
	rc := dialRaw(t, addr)
	rc.handshake()
	c := ev.firstOpen(t)
	rc.expectClose(frame.CloseNormal)
	start := time.Now()
	// The client never answers: the server gives up after CloseTimeout.
	rc.expectNothingThenEOF(3 * time.Second)
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("closed after %v, before the close timeout", d)
	}
	wantCloseError(t, ev.closeErr(t, c, time.Second), frame.CloseNormal, false)
	if e.Stats().Timeouts != 1 {
		t.Fatalf("Timeouts = %d, want 1", e.Stats().Timeouts)
	}
}

var _ = strings.Contains
