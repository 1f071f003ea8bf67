package engine

import (
	"bytes"
	"testing"
	"time"

	"github.com/lullws/lull/frame"
)

// The close handshake, RFC 6455 §5.5.1 and §7, with the engine as server.

func TestCloseClientInitiated(t *testing.T) {
	ev := newEvents()
	cfg := echoConfig()
	ev.hook(&cfg)
	_, addr := startEngine(t, cfg)
	rc := dialRaw(t, addr)
	rc.handshake()
	c := ev.firstOpen(t)
	rc.write(clientFrame(true, frame.OpClose, closePayload(4321, "client leaves")))
	// The server echoes the code, without the reason, then closes TCP
	// first: nothing else, then end of stream.
	rc.expect(frame.OpClose, closePayload(4321, ""))
	rc.expectNothingThenEOF(2 * time.Second)
	wantCloseError(t, ev.closeErr(t, c, 2*time.Second), 4321, true)

	// An empty close payload is echoed empty.
	rc = dialRaw(t, addr)
	rc.handshake()
	rc.write(clientFrame(true, frame.OpClose, nil))
	rc.expect(frame.OpClose, []byte{})
	rc.expectNothingThenEOF(2 * time.Second)
}

func TestCloseServerInitiated(t *testing.T) {
	ev := newEvents()
	cfg := echoConfig()
	cfg.OnOpen = func(c *Conn) {
		if err := c.Close(frame.CloseNormal, "server done"); err != nil {
			t.Error(err)
		}
		if err := c.WriteMessage(frame.OpText, []byte("late")); err != ErrClosed {
			t.Errorf("WriteMessage after Close = %v, want ErrClosed", err)
		}
		if err := c.Close(frame.CloseNormal, ""); err != ErrClosed {
			t.Errorf("second Close = %v, want ErrClosed", err)
		}
	}
	ev.hook(&cfg)
	_, addr := startEngine(t, cfg)
	rc := dialRaw(t, addr)
	rc.handshake()
	c := ev.firstOpen(t)
	rc.expect(frame.OpClose, closePayload(frame.CloseNormal, "server done"))
	// The server waits for the answer before closing TCP; messages the
	// client still sends meanwhile are delivered.
	rc.write(clientFrame(true, frame.OpText, []byte("still here")))
	rc.expectOpen(300 * time.Millisecond)
	rc.write(clientFrame(true, frame.OpClose, closePayload(frame.CloseNormal, "")))
	rc.expectNothingThenEOF(2 * time.Second)
	wantCloseError(t, ev.closeErr(t, c, 2*time.Second), frame.CloseNormal, false)
	ev.wait(t, "the message sent after the close", time.Second, func(ev *events) bool {
		return len(ev.msgs) == 1 && ev.msgs[0] == "still here"
	})
}

// TestCloseFailures sends a good message, an offending frame and a ping in
// one write: the server echoes the message, fails the connection with the
// violation's code, and sends nothing for what follows (no pong).
func TestCloseFailures(t *testing.T) {
	cfg := echoConfig()
	cfg.MaxMessageSize = 1000
	e, addr := startEngine(t, cfg)
	masked := func(b []byte) []byte { return b }
	cases := []struct {
		name string
		bad  []byte
		code frame.CloseCode
	}{
		{"unmasked", frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpText}, []byte("x")), frame.CloseProtocolError},
		{"reserved opcode", clientFrame(true, 3, nil), frame.CloseProtocolError},
		{"reserved bit", masked(func() []byte {
			b := clientFrame(true, frame.OpText, []byte("x"))
			b[0] |= 0x40
			return b
		}()), frame.CloseProtocolError},
		{"fragmented ping", clientFrame(false, frame.OpPing, nil), frame.CloseProtocolError},
		{"continuation without start", clientFrame(true, frame.OpContinuation, []byte("x")), frame.CloseProtocolError},
		{"bad close code", clientFrame(true, frame.OpClose, []byte{0x03, 0xed}), frame.CloseProtocolError},
		{"invalid UTF-8", clientFrame(true, frame.OpText, []byte("ok\xffno")), frame.CloseInvalidPayload},
		{"invalid UTF-8 across fragments", append(clientFrame(false, frame.OpText, []byte("\xe2\x82")), clientFrame(true, frame.OpContinuation, []byte("("))...), frame.CloseInvalidPayload},
		{"too big", clientFrame(true, frame.OpBinary, make([]byte, 1001)), frame.CloseMessageTooBig},
		{"too big across fragments", append(clientFrame(false, frame.OpBinary, make([]byte, 600)), clientFrame(true, frame.OpContinuation, make([]byte, 600))...), frame.CloseMessageTooBig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.Stats().ProtocolErrors
			rc := dialRaw(t, addr)
			rc.handshake()
			var out []byte
			out = append(out, clientFrame(true, frame.OpText, []byte("before"))...)
			out = append(out, tc.bad...)
			out = append(out, clientFrame(true, frame.OpPing, []byte("after"))...)
			out = append(out, clientFrame(true, frame.OpText, []byte("after"))...)
			rc.write(out)
			rc.expect(frame.OpText, []byte("before"))
			rc.expectClose(tc.code)
			rc.expectNothingThenEOF(2 * time.Second)
			if got := e.Stats().ProtocolErrors; got != before+1 {
				t.Errorf("ProtocolErrors went from %d to %d, want +1", before, got)
			}
		})
	}
}

// TestUTF8FailFast: an invalid byte fails the connection at once, before
// the rest of the (announced) message arrives.
func TestUTF8FailFast(t *testing.T) {
	_, addr := startEngine(t, echoConfig())
	rc := dialRaw(t, addr)
	rc.handshake()
	f := clientFrame(true, frame.OpText, append([]byte("valid \xc0"), bytes.Repeat([]byte("a"), 1<<20)...))
	rc.write(f[:14+8]) // the header and "valid \xc0" only
	rc.expectClose(frame.CloseInvalidPayload)
	rc.expectNothingThenEOF(2 * time.Second)
}

// The close handshake with the engine as client.

func TestClientCloseInitiated(t *testing.T) {
	sev := newEvents()
	scfg := echoConfig()
	scfg.CloseTimeout = 10 * time.Second
	sev.hook(&scfg)
	_, addr := startEngine(t, scfg)
	cev := newEvents()
	ccfg := Config{CloseTimeout: 10 * time.Second}
	cev.hook(&ccfg)
	cli := newClientEngine(t, ccfg)
	c := dial(t, cli, "ws://"+addr+"/")
	s := sev.firstOpen(t)
	start := time.Now()
	if err := c.Close(frame.CloseNormal, "bye"); err != nil {
		t.Fatal(err)
	}
	wantCloseError(t, sev.closeErr(t, s, 3*time.Second), frame.CloseNormal, true)
	err := cev.closeErr(t, c, 3*time.Second)
	wantCloseError(t, err, frame.CloseNormal, false)
	// Both ends were done long before the 10 s close timeout: the server
	// closed TCP at once and the client followed.
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("close took %v", d)
	}
}

func TestClientServerInitiated(t *testing.T) {
	sev := newEvents()
	scfg := echoConfig()
	scfg.OnOpen = func(c *Conn) { c.Close(frame.CloseGoingAway, "restart") }
	sev.hook(&scfg)
	_, addr := startEngine(t, scfg)
	cev := newEvents()
	ccfg := Config{}
	cev.hook(&ccfg)
	cli := newClientEngine(t, ccfg)
	c := dial(t, cli, "ws://"+addr+"/")
	err := cev.closeErr(t, c, 3*time.Second)
	wantCloseError(t, err, frame.CloseGoingAway, true)
	if ce := err.(*CloseError); ce.Reason != "restart" {
		t.Fatalf("reason %q, want %q", ce.Reason, "restart")
	}
	wantCloseError(t, sev.closeErr(t, sev.firstOpen(t), 3*time.Second), frame.CloseGoingAway, false)
}

// TestClientWaitsForServerClose: a client answers the server's close and
// then waits for the server to close TCP (RFC 6455 §7.1.1) rather than
// closing first.
func TestClientWaitsForServerClose(t *testing.T) {
	rs := listenRaw(t)
	cev := newEvents()
	ccfg := Config{CloseTimeout: 5 * time.Second}
	cev.hook(&ccfg)
	cli := newClientEngine(t, ccfg)
	done := make(chan *Conn, 1)
	if err := cli.DialAsync(rs.url(), nil, func(c *Conn, err error) {
		if err != nil {
			t.Error(err)
		}
		done <- c
	}); err != nil {
		t.Fatal(err)
	}
	rs.accept(true)
	c := <-done
	rs.write(serverFrame(true, frame.OpText, []byte("hello")))
	rs.write(serverFrame(true, frame.OpClose, closePayload(3000, "go")))
	op, p, err := rs.next(2 * time.Second)
	if err != nil || op != frame.OpClose || !bytes.Equal(p, closePayload(3000, "")) {
		t.Fatalf("client answered %v %q, %v; want close 3000", op, p, err)
	}
	// The client must not close TCP first.
	rs.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := rs.r.Read(make([]byte, 1)); n > 0 || err == nil || !isTimeout(err) {
		t.Fatalf("client closed or wrote after the close handshake: %d, %v", n, err)
	}
	cev.mu.Lock()
	_, closed := cev.closed[c]
	cev.mu.Unlock()
	if closed {
		t.Fatal("OnClose before the server closed TCP")
	}
	rs.conn.Close()
	wantCloseError(t, cev.closeErr(t, c, 2*time.Second), 3000, true)
	cev.wait(t, "the message", time.Second, func(ev *events) bool { return len(ev.msgs) == 1 && ev.msgs[0] == "hello" })
}

// TestClientFailsMaskedFrame: a server must not mask; the client fails the
// connection with 1002 and sends nothing else.
func TestClientFailsMaskedFrame(t *testing.T) {
	rs := listenRaw(t)
	cli := newClientEngine(t, Config{NoAutoPong: false})
	done := make(chan error, 1)
	cli.DialAsync(rs.url(), nil, func(c *Conn, err error) { done <- err })
	rs.accept(true)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rs.write(append(clientFrame(true, frame.OpText, []byte("masked")), serverFrame(true, frame.OpPing, nil)...))
	op, p, err := rs.next(2 * time.Second)
	if err != nil || op != frame.OpClose || len(p) < 2 || frame.CloseCode(p[0])<<8|frame.CloseCode(p[1]) != frame.CloseProtocolError {
		t.Fatalf("client sent %v %q, %v; want close 1002", op, p, err)
	}
	rs.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _ := rs.r.Read(make([]byte, 1)); n > 0 {
		t.Fatal("client sent more after failing the connection (a pong?)")
	}
}
