//go:build linux || darwin || freebsd

package engine

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"testing"
	"time"

	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
	"golang.org/x/sys/unix"
)

// The tests here feed a connection's input to it on its loop in pieces
// chosen by the test, so that every byte boundary is exercised exactly,
// whatever the kernel would have coalesced: the connection's socket is
// one end of a socketpair, and the test reads the answers from the other.

// pairConn makes a Conn of l (server or client) on one end of a
// socketpair and returns a reader of what it writes.
func pairConn(t testing.TB, l *loop, client bool) (*Conn, *rawClient) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.SetNonblock(fds[0], true)
	f := os.NewFile(uintptr(fds[1]), "peer")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	rc := &rawClient{t: t, conn: nc, r: bufio.NewReader(nc)}
	rc.parser.Client = !client // the peer reads what c sends
	return newConn(l, fds[0], client), rc
}

// feed passes each piece of stream (copied: the parser unmasks in place)
// to c on its loop, as separate reads.
func feed(t testing.TB, c *Conn, pieces ...[]byte) {
	t.Helper()
	onLoop(t, c.loop, func() {
		for _, p := range pieces {
			if c.state == stateClosed {
				return
			}
			c.process(append([]byte(nil), p...))
		}
	})
}

// splits returns stream cut in two at every byte boundary, and one byte
// at a time.
func splits(stream []byte) [][][]byte {
	var out [][][]byte
	for cut := 1; cut < len(stream); cut++ {
		out = append(out, [][]byte{stream[:cut], stream[cut:]})
	}
	var bytewise [][]byte
	for i := range stream {
		bytewise = append(bytewise, stream[i:i+1])
	}
	return append(out, bytewise)
}

// TestPartialServer: the handshake request and then frames (a text
// message, a binary message fragmented around a ping, and a close) split
// at every byte boundary, and one byte at a time.
func TestPartialServer(t *testing.T) {
	cfg := echoConfig()
	cfg.Loops = 1
	e, _ := startEngine(t, cfg)
	l := e.loops[0]
	var stream []byte
	stream = append(stream, handshakeRequest...)
	stream = append(stream, clientFrame(true, frame.OpText, []byte("κόσμε"))...)
	stream = append(stream, clientFrame(false, frame.OpBinary, bytes.Repeat([]byte{7}, 130))...)
	stream = append(stream, clientFrame(true, frame.OpPing, []byte("ping"))...)
	stream = append(stream, clientFrame(true, frame.OpContinuation, []byte{8})...)
	stream = append(stream, clientFrame(true, frame.OpClose, closePayload(frame.CloseNormal, "bye"))...)
	want := append(bytes.Repeat([]byte{7}, 130), 8)
	for i, pieces := range splits(stream) {
		c, rc := pairConn(t, l, false)
		onLoop(t, l, c.start)
		feed(t, c, pieces...)
		rc.readResponse(101)
		rc.expect(frame.OpText, []byte("κόσμε"))
		rc.expect(frame.OpPong, []byte("ping"))
		rc.expect(frame.OpBinary, want)
		rc.expect(frame.OpClose, closePayload(frame.CloseNormal, ""))
		rc.expectNothingThenEOF(2 * time.Second)
		if t.Failed() {
			t.Fatalf("split %d (%d pieces, first %d bytes)", i, len(pieces), len(pieces[0]))
		}
	}
}

// TestPartialLongHeaders splits frames with 16- and 64-bit lengths at
// every byte of their headers and around the payload's ends.
func TestPartialLongHeaders(t *testing.T) {
	cfg := echoConfig()
	cfg.Loops = 1
	e, _ := startEngine(t, cfg)
	l := e.loops[0]
	for _, size := range []int{126, 65535, 65536, 100000} {
		msg := bytes.Repeat([]byte("abc"), size/3+1)[:size]
		f := clientFrame(true, frame.OpBinary, msg)
		var cuts []int
		for i := 1; i <= 16; i++ {
			cuts = append(cuts, i, len(f)-i)
		}
		for _, cut := range cuts {
			c, rc := pairConn(t, l, false)
			onLoop(t, l, c.start)
			feed(t, c, []byte(handshakeRequest), f[:cut], f[cut:])
			rc.readResponse(101)
			rc.expect(frame.OpBinary, msg)
			rc.conn.Close()
		}
	}
}

// TestPartialClient: the server's handshake response and then frames,
// split at every byte boundary, and one byte at a time, read by a client
// connection.
func TestPartialClient(t *testing.T) {
	got := make(chan string, 16)
	cfg := Config{Loops: 1, OnMessage: func(c *Conn, op frame.Opcode, data []byte) { got <- op.String() + ":" + string(data) }}
	e := newClientEngine(t, cfg)
	l := e.loops[0]
	var key [24]byte
	if err := upgrade.NewKey(&key); err != nil {
		t.Fatal(err)
	}
	var acc [28]byte
	upgrade.ComputeAccept(&acc, key[:])
	var stream []byte
	stream = append(stream, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+string(acc[:])+"\r\n\r\n"...)
	stream = append(stream, serverFrame(true, frame.OpText, []byte("héllo"))...)
	stream = append(stream, serverFrame(false, frame.OpBinary, []byte("fr"))...)
	stream = append(stream, serverFrame(true, frame.OpPing, []byte("p"))...)
	stream = append(stream, serverFrame(true, frame.OpContinuation, []byte("ag"))...)
	for i, pieces := range splits(stream) {
		c, rs := pairConn(t, l, true)
		c.hs = &handshake{dial: &dialState{client: upgrade.Client{Host: "example.com", RequestURI: "/"}, key: key}}
		c.state = stateClientHandshake // as if the request had been sent
		onLoop(t, l, func() {
			if err := l.register(c); err != nil {
				t.Error(err)
			}
		})
		feed(t, c, pieces...)
		for _, want := range []string{"text:héllo", "binary:frag"} {
			select {
			case s := <-got:
				if s != want {
					t.Fatalf("split %d: got %q, want %q", i, s, want)
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("split %d: no message %q", i, want)
			}
		}
		// The automatic pong, masked (the peer's parser requires it).
		op, p, err := rs.next(2 * time.Second)
		if err != nil || op != frame.OpPong || string(p) != "p" {
			t.Fatalf("split %d: client sent %v %q, %v; want pong", i, op, p, err)
		}
		onLoop(t, l, func() { c.closeNow(nil) })
		rs.conn.Close()
	}
}
