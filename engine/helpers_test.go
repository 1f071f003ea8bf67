package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// expectNothingThenEOF checks that the server sends no more bytes and
// closes TCP within d; then it closes the client's side too, as a client
// does on end of stream.
func (rc *rawClient) expectNothingThenEOF(d time.Duration) {
	rc.t.Helper()
	if len(rc.rest) > 0 {
		rc.t.Fatalf("unexpected bytes after the last frame: %q", trim(rc.rest))
	}
	rc.conn.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(rc.r)
	if len(b) > 0 {
		rc.t.Fatalf("unexpected bytes after the last frame: %q", trim(b))
	}
	if err != nil && !strings.Contains(err.Error(), "reset") {
		rc.t.Fatalf("server did not close TCP within %v: %v", d, err)
	}
	rc.conn.Close()
}

// expectOpen checks that the server has not closed TCP and sends nothing
// for d.
func (rc *rawClient) expectOpen(d time.Duration) {
	rc.t.Helper()
	rc.conn.SetReadDeadline(time.Now().Add(d))
	var one [1]byte
	n, err := rc.r.Read(one[:])
	var ne net.Error
	if n > 0 || !errors.As(err, &ne) || !ne.Timeout() {
		rc.t.Fatalf("connection should stay open and quiet for %v: read %d bytes, %v", d, n, err)
	}
}

func closePayload(code frame.CloseCode, reason string) []byte {
	b, err := frame.AppendClose(nil, code, reason)
	if err != nil {
		panic(err)
	}
	return b
}

// onLoop runs f on l's goroutine and waits for it.
func onLoop(t testing.TB, l *loop, f func()) {
	t.Helper()
	done := make(chan struct{})
	if !l.post(func() { f(); close(done) }) {
		t.Fatal("loop has exited")
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("loop did not run the task")
	}
}

// events records a Config's handler calls for tests to wait on.
type events struct {
	mu     sync.Mutex
	opened []*Conn
	closed map[*Conn]error
	msgs   []string
	ch     chan struct{}
}

func newEvents() *events { return &events{closed: map[*Conn]error{}, ch: make(chan struct{}, 1)} }

func (ev *events) notify() {
	select {
	case ev.ch <- struct{}{}:
	default:
	}
}

// hook sets cfg's OnOpen, OnClose and (if unset) OnMessage to record.
func (ev *events) hook(cfg *Config) {
	onOpen, onClose, onMessage := cfg.OnOpen, cfg.OnClose, cfg.OnMessage
	cfg.OnOpen = func(c *Conn) {
		ev.mu.Lock()
		ev.opened = append(ev.opened, c)
		ev.mu.Unlock()
		ev.notify()
		if onOpen != nil {
			onOpen(c)
		}
	}
	cfg.OnClose = func(c *Conn, err error) {
		ev.mu.Lock()
		ev.closed[c] = err
		ev.mu.Unlock()
		ev.notify()
		if onClose != nil {
			onClose(c, err)
		}
	}
	cfg.OnMessage = func(c *Conn, op frame.Opcode, data []byte) {
		ev.mu.Lock()
		ev.msgs = append(ev.msgs, string(data))
		ev.mu.Unlock()
		ev.notify()
		if onMessage != nil {
			onMessage(c, op, data)
		}
	}
}

// wait waits until cond (called under the lock) holds.
func (ev *events) wait(t testing.TB, what string, d time.Duration, cond func(ev *events) bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		ev.mu.Lock()
		ok := cond(ev)
		ev.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ev.ch:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
	}
}

func (ev *events) firstOpen(t testing.TB) *Conn {
	t.Helper()
	ev.wait(t, "a connection to open", 5*time.Second, func(ev *events) bool { return len(ev.opened) > 0 })
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return ev.opened[0]
}

func (ev *events) closeErr(t testing.TB, c *Conn, d time.Duration) error {
	t.Helper()
	var err error
	ev.wait(t, "the connection to close", d, func(ev *events) bool {
		var ok bool
		err, ok = ev.closed[c]
		return ok
	})
	return err
}

func wantCloseError(t testing.TB, err error, code frame.CloseCode, remote bool) {
	t.Helper()
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != code || ce.Remote != remote {
		t.Fatalf("OnClose error = %v, want close %v (remote %v)", err, code, remote)
	}
}

// rawServer is a test peer that accepts one TCP connection and speaks the
// server side of WebSocket byte by byte, to test the engine as a client.
type rawServer struct {
	t      testing.TB
	ln     net.Listener
	conn   net.Conn
	r      *bufio.Reader
	parser frame.Parser // reads the client's (masked) frames
	rest   []byte
}

func listenRaw(t testing.TB) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &rawServer{t: t, ln: ln}
}

func (rs *rawServer) url() string { return "ws://" + rs.ln.Addr().String() + "/" }

// accept takes the connection and, if answer, completes the handshake.
func (rs *rawServer) accept(answer bool) {
	rs.t.Helper()
	rs.ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	conn, err := rs.ln.Accept()
	if err != nil {
		rs.t.Fatal(err)
	}
	rs.t.Cleanup(func() { conn.Close() })
	rs.conn, rs.r = conn, bufio.NewReader(conn)
	if !answer {
		return
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var key string
	for {
		line, err := rs.r.ReadString('\n')
		if err != nil {
			rs.t.Fatalf("reading the request: %v", err)
		}
		if k, ok := strings.CutPrefix(strings.ToLower(line), "sec-websocket-key:"); ok {
			key = strings.TrimSpace(line[len(line)-len(k):])
		}
		if line == "\r\n" {
			break
		}
	}
	var acc [28]byte
	upgrade.ComputeAccept(&acc, []byte(key))
	rs.write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + string(acc[:]) + "\r\n\r\n"))
}

func (rs *rawServer) write(b []byte) {
	rs.t.Helper()
	if _, err := rs.conn.Write(b); err != nil {
		rs.t.Fatalf("write: %v", err)
	}
}

func serverFrame(fin bool, op frame.Opcode, payload []byte) []byte {
	return frame.AppendFrame(nil, frame.Header{Fin: fin, Opcode: op}, payload)
}

// next reads the client's next frame (whole; the engine does not fragment).
func (rs *rawServer) next(d time.Duration) (frame.Opcode, []byte, error) {
	rc := rawClient{t: rs.t, conn: rs.conn, r: rs.r, rest: rs.rest}
	rc.parser = rs.parser
	op, p, err := rc.next(d)
	rs.rest, rs.parser = rc.rest, rc.parser
	if err == nil && !rs.parser.Frame().Masked {
		rs.t.Fatalf("client sent an unmasked %v frame", op)
	}
	return op, p, err
}

func newClientEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	if cfg.Loops == 0 {
		cfg.Loops = 1
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	})
	return e
}

func dial(t testing.TB, e *Engine, url string) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := e.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return c
}

var _ = bytes.Equal

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
