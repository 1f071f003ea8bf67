package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// echoConfig returns a Config whose OnMessage echoes every message.
func echoConfig() Config {
	return Config{
		Loops:   2,
		Upgrade: upgrade.Server{CheckOrigin: func(*upgrade.Request) bool { return true }},
		OnMessage: func(c *Conn, op frame.Opcode, data []byte) {
			c.WriteMessage(op, data)
		},
	}
}

// startEngine starts an engine listening on 127.0.0.1 and stops it when the
// test ends.
func startEngine(t testing.TB, cfg Config) (*Engine, string) {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := e.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	})
	return e, addr.String()
}

const handshakeRequest = "GET /echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// rawClient is a test peer speaking WebSocket over a plain TCP connection,
// so that tests control exactly which bytes go out and when.
type rawClient struct {
	t      testing.TB
	conn   net.Conn
	r      *bufio.Reader
	parser frame.Parser
	rest   []byte
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	rc := &rawClient{t: t, conn: conn, r: bufio.NewReader(conn)}
	rc.parser.Client = true
	return rc
}

// handshake sends the upgrade request and reads the 101 response.
func (rc *rawClient) handshake() {
	rc.t.Helper()
	rc.write([]byte(handshakeRequest))
	rc.readResponse(101)
}

func (rc *rawClient) readResponse(want int) string {
	rc.t.Helper()
	rc.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var head strings.Builder
	for {
		line, err := rc.r.ReadString('\n')
		if err != nil {
			rc.t.Fatalf("reading handshake response: %v (so far %q)", err, head.String())
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
	}
	var code int
	fmt.Sscanf(head.String(), "HTTP/1.1 %d", &code)
	if code != want {
		rc.t.Fatalf("status %d, want %d: %q", code, want, head.String())
	}
	return head.String()
}

func (rc *rawClient) write(b []byte) {
	rc.t.Helper()
	if _, err := rc.conn.Write(b); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

func clientFrame(fin bool, op frame.Opcode, payload []byte) []byte {
	return frame.AppendFrame(nil, frame.Header{Fin: fin, Opcode: op, Masked: true, Key: [4]byte{0xa1, 0xb2, 0xc3, 0xd4}}, payload)
}

// next reads the next complete message or control frame from the server.
func (rc *rawClient) next(timeout time.Duration) (frame.Opcode, []byte, error) {
	var msg []byte
	var op frame.Opcode
	rc.conn.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 64<<10)
	for {
		for len(rc.rest) > 0 {
			f, n, ok, err := rc.parser.Next(rc.rest)
			rc.rest = rc.rest[n:]
			if err != nil {
				return 0, nil, err
			}
			if !ok {
				break
			}
			op = f.Opcode
			msg = append(msg, f.Payload...)
			if f.End {
				if msg == nil {
					msg = []byte{}
				}
				return op, msg, nil
			}
		}
		n, err := rc.r.Read(buf)
		if n > 0 {
			rc.rest = append(rc.rest[:0:0], buf[:n]...)
		}
		if err != nil && n == 0 {
			return 0, nil, err
		}
	}
}

func (rc *rawClient) expect(op frame.Opcode, payload []byte) {
	rc.t.Helper()
	gotOp, got, err := rc.next(5 * time.Second)
	if err != nil {
		rc.t.Fatalf("waiting for %v: %v", op, err)
	}
	if gotOp != op || !bytes.Equal(got, payload) {
		rc.t.Fatalf("got %v %q, want %v %q", gotOp, trim(got), op, trim(payload))
	}
}

func (rc *rawClient) expectClose(code frame.CloseCode) {
	rc.t.Helper()
	want := []byte{}
	if code != frame.CloseNoStatus {
		want = []byte{byte(code >> 8), byte(code)}
	}
	op, got, err := rc.next(5 * time.Second)
	if err != nil {
		rc.t.Fatalf("waiting for close %d: %v", code, err)
	}
	if op != frame.OpClose || len(got) < len(want) || !bytes.Equal(got[:len(want)], want) {
		rc.t.Fatalf("got %v %q, want close %d", op, trim(got), code)
	}
}

// expectEOF checks that the server closes TCP within d.
func (rc *rawClient) expectEOF(d time.Duration) {
	rc.t.Helper()
	rc.conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, rc.r)
	if err != nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
		rc.t.Fatalf("server did not close TCP within %v: %v", d, err)
	}
}

func trim(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

func TestEchoRaw(t *testing.T) {
	_, addr := startEngine(t, echoConfig())
	rc := dialRaw(t, addr)
	rc.handshake()
	for _, size := range []int{0, 1, 125, 126, 127, 128, 65535, 65536, 1 << 20} {
		payload := bytes.Repeat([]byte("x"), size)
		rc.write(clientFrame(true, frame.OpBinary, payload))
		rc.expect(frame.OpBinary, payload)
	}
	rc.write(clientFrame(true, frame.OpText, []byte("héllo")))
	rc.expect(frame.OpText, []byte("héllo"))
	// A fragmented message with a ping in the middle: the pong comes first.
	rc.write(clientFrame(false, frame.OpText, []byte("frag1")))
	rc.write(clientFrame(true, frame.OpPing, []byte("ping!")))
	rc.write(clientFrame(true, frame.OpContinuation, []byte("frag2")))
	rc.expect(frame.OpPong, []byte("ping!"))
	rc.expect(frame.OpText, []byte("frag1frag2"))
	// The client closes; the server echoes the code and closes TCP.
	rc.write(clientFrame(true, frame.OpClose, []byte{0x03, 0xe8, 'b', 'y', 'e'}))
	rc.expectClose(frame.CloseNormal)
	rc.expectEOF(time.Second)
}

// TestPartialReads sends a handshake and a few frames split in two at every
// byte boundary, with a pause between the halves so the server reads them
// separately, and checks that everything is echoed.
func TestPartialReads(t *testing.T) {
	_, addr := startEngine(t, echoConfig())
	var stream []byte
	stream = append(stream, handshakeRequest...)
	stream = append(stream, clientFrame(true, frame.OpText, []byte("κόσμε"))...)
	stream = append(stream, clientFrame(false, frame.OpBinary, bytes.Repeat([]byte{7}, 130))...)
	stream = append(stream, clientFrame(true, frame.OpPing, []byte("p"))...)
	stream = append(stream, clientFrame(true, frame.OpContinuation, []byte{8})...)
	want := append(bytes.Repeat([]byte{7}, 130), 8)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for cut := 1; cut < len(stream); cut++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rc := dialRaw(t, addr)
			rc.write(stream[:cut])
			time.Sleep(2 * time.Millisecond)
			rc.write(stream[cut:])
			rc.readResponse(101)
			rc.expect(frame.OpText, []byte("κόσμε"))
			rc.expect(frame.OpPong, []byte("p"))
			rc.expect(frame.OpBinary, want)
		}()
	}
	wg.Wait()
}

func TestEngineDialEcho(t *testing.T) {
	_, addr := startEngine(t, echoConfig())
	got := make(chan string, 10)
	cli, err := New(Config{Loops: 1, OnMessage: func(c *Conn, op frame.Opcode, data []byte) {
		got <- string(data)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := cli.Dial(ctx, "ws://"+addr+"/x?y=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"one", "", strings.Repeat("z", 100000)} {
		if err := c.WriteMessage(frame.OpText, []byte(m)); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-got:
			if s != m {
				t.Fatalf("echo %q, want %q", trim([]byte(s)), trim([]byte(m)))
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no echo")
		}
	}
}

func TestHandshakeRefused(t *testing.T) {
	_, addr := startEngine(t, echoConfig())
	rc := dialRaw(t, addr)
	rc.write([]byte(strings.Replace(handshakeRequest, "Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8", 1)))
	head := rc.readResponse(426)
	if !strings.Contains(head, "Sec-WebSocket-Version: 13") {
		t.Fatalf("426 without the supported version: %q", head)
	}
	rc.expectEOF(time.Second)
}

// fdCount returns the number of open descriptors of this process.
func fdCount(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd on this system")
	}
	return len(ents)
}

func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var _ = runtime.NumGoroutine
