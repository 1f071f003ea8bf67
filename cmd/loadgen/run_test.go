package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// startServer runs an in-process engine server whose OnMessage is onMsg
// (an echo if nil) and whose CheckOrigin is check (accept all if nil), and
// returns its ws:// URL.
func startServer(t *testing.T, onMsg func(c *engine.Conn, op frame.Opcode, data []byte), check func() bool) (string, *engine.Engine) {
	t.Helper()
	if onMsg == nil {
		onMsg = func(c *engine.Conn, op frame.Opcode, data []byte) { c.WriteMessage(op, data) }
	}
	e, err := engine.New(engine.Config{
		Loops: 1,
		Upgrade: upgrade.Server{CheckOrigin: func(*upgrade.Request) bool {
			return check == nil || check()
		}},
		OnMessage: onMsg,
	})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := e.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	})
	return "ws://" + addr.String() + "/", e
}

func testConfig(t *testing.T, args ...string) *config {
	t.Helper()
	cfg, err := parseConfig(append([]string{"-progress", "off"}, args...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestEchoRun(t *testing.T) {
	url, _ := startServer(t, nil, nil)
	jsonPath := filepath.Join(t.TempDir(), "r.json")
	cfg := testConfig(t, "-url", url, "-conns", "20", "-size", "300", "-warmup", "100ms", "-duration", "400ms", "-json", jsonPath)
	var out bytes.Buffer
	rep, err := execute(context.Background(), cfg, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Connect.Connected != 20 || rep.Connect.Failed != 0 {
		t.Fatalf("connected %d, failed %d: %s", rep.Connect.Connected, rep.Connect.Failed, out.String())
	}
	// Latency samples and the received count cover the same window, to
	// within the messages in flight at its edges.
	if rep.Received == 0 || rep.BadEchoes != 0 || abs(rep.Latency.Count-rep.Received) > 3*20 {
		t.Fatalf("received %d, bad %d, latency samples %d:\n%s", rep.Received, rep.BadEchoes, rep.Latency.Count, out.String())
	}
	if rep.TotalReceived < rep.Received {
		t.Errorf("%d received in all, fewer than the window's %d", rep.TotalReceived, rep.Received)
	}
	if rep.Latency.P50 <= 0 || rep.Latency.P50 > rep.Latency.P99 || rep.Latency.P99 > rep.Latency.Max {
		t.Errorf("latency out of order: %+v", rep.Latency)
	}
	// Each message is 300 bytes of payload plus a 6- or 8-byte header on
	// the wire (masked client frames, unmasked server frames).
	if rep.BytesOut < rep.Sent*306 || rep.BytesIn < rep.Received*302 {
		t.Errorf("bytes out %d for %d messages, in %d for %d", rep.BytesOut, rep.Sent, rep.BytesIn, rep.Received)
	}
	for _, s := range []string{"echo mode, 20 connections", "20 open, 0 failed", "round trips/s", "verified"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, out.String())
		}
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var back report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Received != rep.Received || back.Connect.Connected != 20 || back.Unit != "round trips" {
		t.Errorf("JSON report differs: %s", b)
	}
}

func TestWrongEchoIsDetected(t *testing.T) {
	var n atomic.Int64
	corrupt := func(c *engine.Conn, op frame.Opcode, data []byte) {
		b := append([]byte(nil), data...)
		if n.Add(1) == 50 {
			b[len(b)-1] ^= 0x40
		}
		c.WriteMessage(op, b)
	}
	url, _ := startServer(t, corrupt, nil)
	cfg := testConfig(t, "-url", url, "-conns", "4", "-size", "64", "-warmup", "0s", "-duration", "300ms")
	var out bytes.Buffer
	if got := runStatus(t, cfg, &out); got != 3 {
		t.Errorf("exit status %d, want 3", got)
	}
	if !strings.Contains(out.String(), "BAD ECHOES  1") || !strings.Contains(out.String(), "byte 63 is") {
		t.Errorf("report does not show the wrong echo:\n%s", out.String())
	}
}

func TestEchoFromAnotherConnectionIsDetected(t *testing.T) {
	// A server that answers each connection with the previous message it
	// received from any connection.
	var last atomic.Pointer[[]byte]
	swap := func(c *engine.Conn, op frame.Opcode, data []byte) {
		b := append([]byte(nil), data...)
		if prev := last.Swap(&b); prev != nil {
			c.WriteMessage(op, *prev)
			return
		}
		c.WriteMessage(op, b)
	}
	url, _ := startServer(t, swap, nil)
	cfg := testConfig(t, "-url", url, "-conns", "3", "-size", "32", "-warmup", "0s", "-duration", "200ms")
	rep, err := execute(context.Background(), cfg, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.BadEchoes == 0 {
		t.Error("echoes of other messages were not detected")
	}
}

// runStatus runs cfg as main would and returns the exit status.
func runStatus(t *testing.T, cfg *config, out io.Writer) int {
	t.Helper()
	rep, err := execute(context.Background(), cfg, out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case rep.BadEchoes > 0, rep.Connect.Connected == 0:
		return 3
	}
	return 0
}

func TestRateRun(t *testing.T) {
	url, _ := startServer(t, nil, nil)
	cfg := testConfig(t, "-url", url+","+url, "-conns", "50", "-mode", "rate", "-rate", "40", "-size", "100", "-warmup", "200ms", "-duration", "500ms")
	var out bytes.Buffer
	rep, err := execute(context.Background(), cfg, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// 50 connections × 40/s = 2000 messages offered a second; a sender that
	// fell behind catches up, so the window may see more than 0.5 s's
	// worth, but not more than has been scheduled since the start.
	if rep.Connect.Connected != 50 || rep.BadEchoes != 0 || rep.Sent < 100 || float64(rep.Sent) > 2000*(0.7+rep.Connect.Seconds+0.5) || rep.Received == 0 {
		t.Fatalf("sent %d, received %d, bad %d:\n%s", rep.Sent, rep.Received, rep.BadEchoes, out.String())
	}
	if !strings.Contains(out.String(), "messages/s") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestIdleRunAndSources(t *testing.T) {
	url, srv := startServer(t, nil, nil)
	cfg := testConfig(t, "-url", url, "-conns", "30", "-mode", "idle", "-duration", "200ms", "-sources", "127.0.0.1-127.0.0.3", "-ramp", "1000")
	var out bytes.Buffer
	rep, err := execute(context.Background(), cfg, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Connect.Connected != 30 || rep.Open != 30 || srv.Stats().Handshakes < 31 {
		t.Fatalf("connected %d, open %d, server handshakes %d:\n%s", rep.Connect.Connected, rep.Open, srv.Stats().Handshakes, out.String())
	}
	// -ramp 1000 spaces 30 connections over about 29 ms.
	if rep.Connect.Seconds < 0.025 {
		t.Errorf("30 connections at -ramp 1000 took %.3fs", rep.Connect.Seconds)
	}
}

func TestFailuresByCause(t *testing.T) {
	var n atomic.Int64
	// Accept the probe and 9 more, refuse the rest with 403.
	url, _ := startServer(t, nil, func() bool { return n.Add(1) <= 10 })
	cfg := testConfig(t, "-url", url, "-conns", "25", "-mode", "idle", "-duration", "100ms")
	var out bytes.Buffer
	rep, err := execute(context.Background(), cfg, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Connect.Connected != 9 || rep.Connect.Failed != 16 {
		t.Fatalf("connected %d, failed %d:\n%s", rep.Connect.Connected, rep.Connect.Failed, out.String())
	}
	if len(rep.Connect.Failures) != 1 || rep.Connect.Failures[0] != (causeCount{"handshake status 403", 16}) {
		t.Errorf("failures %+v", rep.Connect.Failures)
	}
	if !strings.Contains(out.String(), "failures    handshake status 403 16") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestUnreachableTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	cfg := testConfig(t, "-url", "ws://"+addr+"/", "-conns", "5")
	_, err = execute(context.Background(), cfg, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "is a server listening there?") {
		t.Errorf("error %v", err)
	}

	// A server that is not a WebSocket server.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				c.Read(buf)
				io.WriteString(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
			}()
		}
	}()
	cfg = testConfig(t, "-url", "ws://"+addr+"/", "-sources", "::1")
	_, err = execute(context.Background(), cfg, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "one is IPv4, the other IPv6") {
		t.Errorf("error %v", err)
	}

	cfg = testConfig(t, "-url", "ws://"+ln.Addr().String()+"/nope", "-conns", "5")
	_, err = execute(context.Background(), cfg, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("error %v", err)
	}
}

func TestInterruptReportsWhatWasDone(t *testing.T) {
	url, _ := startServer(t, nil, nil)
	cfg := testConfig(t, "-url", url, "-conns", "10", "-size", "64", "-warmup", "0s", "-duration", "1h")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	var out bytes.Buffer
	start := time.Now()
	rep, err := execute(ctx, cfg, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > time.Minute {
		t.Fatal("the run did not stop when interrupted")
	}
	if !rep.Interrupted || rep.Received == 0 || rep.BadEchoes != 0 || !strings.Contains(out.String(), "(interrupted)") {
		t.Errorf("interrupted %v, received %d:\n%s", rep.Interrupted, rep.Received, out.String())
	}
}

func TestProgressLines(t *testing.T) {
	url, _ := startServer(t, nil, nil)
	cfg := testConfig(t, "-url", url, "-conns", "5", "-size", "64", "-warmup", "0s", "-duration", "2200ms")
	cfg.Progress = "line"
	var errOut bytes.Buffer
	if _, err := execute(context.Background(), cfg, io.Discard, &errOut); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if len(lines) < 2 || !strings.Contains(lines[1], "measuring") || !strings.Contains(lines[1], "open 5") || !strings.Contains(lines[1], "msg/s") {
		t.Errorf("progress:\n%s", errOut.String())
	}
}

// stallingServer answers the opening handshake of the first `answer`
// connections and then holds the others without a word, until the test ends.
func stallingServer(t *testing.T, answer int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range held {
			c.Close()
		}
	})
	go func() {
		defer close(done)
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
			if n >= answer {
				continue
			}
			go func() {
				br := bufio.NewReader(c)
				var key string
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Sec-WebSocket-Key") {
						key = strings.TrimSpace(v)
					}
					if line == "\r\n" {
						break
					}
				}
				var acc [28]byte
				upgrade.ComputeAccept(&acc, []byte(key))
				io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+string(acc[:])+"\r\n\r\n")
			}()
		}
	}()
	return "ws://" + ln.Addr().String() + "/"
}

func TestTimeouts(t *testing.T) {
	// Nobody answers at all: the probe fails with a clear error.
	url := stallingServer(t, 0)
	cfg := testConfig(t, "-url", url, "-conns", "3", "-dial-timeout", "300ms")
	_, err := execute(context.Background(), cfg, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no answer within -dial-timeout") {
		t.Errorf("error %v", err)
	}

	// The probe and 2 connections are answered, the other 4 time out.
	url = stallingServer(t, 3)
	cfg = testConfig(t, "-url", url, "-conns", "6", "-mode", "idle", "-dial-timeout", "300ms", "-duration", "100ms")
	rep, err := execute(context.Background(), cfg, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Connect.Connected != 2 || len(rep.Connect.Failures) != 1 || rep.Connect.Failures[0] != (causeCount{causeTimeout, 4}) {
		t.Errorf("connected %d, failures %+v", rep.Connect.Connected, rep.Connect.Failures)
	}
}

func TestDeflate(t *testing.T) {
	e, err := engine.New(engine.Config{
		Loops: 1,
		Upgrade: upgrade.Server{
			CheckOrigin: func(*upgrade.Request) bool { return true },
			Deflate:     &upgrade.DeflatePolicy{},
		},
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) { c.WriteMessage(op, data) },
	})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := e.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	url := "ws://" + addr.String() + "/"
	cfg := testConfig(t, "-url", url, "-conns", "5", "-size", "2000", "-warmup", "0s", "-duration", "300ms", "-deflate")
	var out bytes.Buffer
	rep, err := execute(context.Background(), cfg, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Connect.Deflate != 5 || rep.BadEchoes != 0 || rep.Received == 0 {
		t.Fatalf("deflate on %d connections, %d bad echoes, %d received:\n%s", rep.Connect.Deflate, rep.BadEchoes, rep.Received, out.String())
	}
	// The messages are a repeating pattern: compressed, they take much less
	// than their 2000 bytes on the wire.
	if rep.BytesOut > rep.Sent*1000 {
		t.Errorf("%d bytes on the wire for %d messages of 2000 bytes: not compressed", rep.BytesOut, rep.Sent)
	}
	if !strings.Contains(out.String(), "5 of 5 connections negotiated permessage-deflate") {
		t.Errorf("report:\n%s", out.String())
	}

	// A server that declines: the connections go on uncompressed.
	plain, _ := startServer(t, nil, nil)
	cfg = testConfig(t, "-url", plain, "-conns", "2", "-size", "100", "-warmup", "0s", "-duration", "100ms", "-deflate")
	rep, err = execute(context.Background(), cfg, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Connect.Deflate != 0 || rep.Connect.Connected != 2 || rep.BadEchoes != 0 {
		t.Errorf("against a server without deflate: %d compressed, %d connected", rep.Connect.Deflate, rep.Connect.Connected)
	}
}

func TestInterruptWhileConnecting(t *testing.T) {
	url := stallingServer(t, 1) // the probe only
	cfg := testConfig(t, "-url", url, "-conns", "5", "-mode", "idle")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	var out bytes.Buffer
	rep, err := execute(ctx, cfg, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.Connect.Cancelled != 5 || rep.Connect.Failed != 0 || rep.Seconds != 0 {
		t.Errorf("cancelled %d, failed %d, window %v:\n%s", rep.Connect.Cancelled, rep.Connect.Failed, rep.Seconds, out.String())
	}
	if !strings.Contains(out.String(), "5 cut short") || !strings.Contains(out.String(), "window      not reached") {
		t.Errorf("report:\n%s", out.String())
	}
}
