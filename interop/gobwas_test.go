package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// gobwas/ws: frames are written one by one with its low-level API, so it
// fragments exactly as a case asks; messages are read with wsutil, which
// answers pings and close frames.

func gobwasOp(binary bool) ws.OpCode {
	if binary {
		return ws.OpBinary
	}
	return ws.OpText
}

// gobwasWrite writes data as a message of frames of the given sizes (one
// frame when frags is nil), masked when client.
func gobwasWrite(w io.Writer, op ws.OpCode, data []byte, frags []int, client bool) error {
	if frags == nil {
		frags = []int{len(data)}
	}
	off := 0
	for i, n := range frags {
		f := ws.NewFrame(op, i == len(frags)-1, append([]byte(nil), data[off:off+n]...))
		if client {
			f = ws.MaskFrameInPlace(f)
		}
		if err := ws.WriteFrame(w, f); err != nil {
			return err
		}
		off += n
		op = ws.OpContinuation
	}
	return nil
}

// gobwasAwaitClose reads frames until the peer's close frame arrives (after
// this side sent its own), then until the end of TCP.
func gobwasAwaitClose(r io.Reader) closeEvent {
	for {
		f, err := ws.ReadFrame(r)
		if err != nil {
			return closeEvent{Code: 1006, How: "reading for the close reply: " + err.Error()}
		}
		if f.Header.Masked {
			ws.Cipher(f.Payload, f.Header.Mask, 0)
		}
		if f.Header.OpCode != ws.OpClose {
			continue
		}
		code, reason := gobwasParseClose(f.Payload)
		ev := closeEvent{Code: int(code), Clean: true, How: fmt.Sprintf("close frame %d %q", code, reason)}
		if _, err := io.Copy(io.Discard, r); err != nil {
			ev.Clean = false
			ev.How += "; then " + err.Error()
		}
		return ev
	}
}

// gobwasParseClose is ws.ParseCloseFrameData with RFC 6455 §7.1.5's
// reading of an empty payload: code 1005 (gobwas leaves it 0).
func gobwasParseClose(p []byte) (ws.StatusCode, string) {
	if len(p) == 0 {
		return ws.StatusNoStatusRcvd, ""
	}
	return ws.ParseCloseFrameData(p)
}

func gobwasClosed(err error) closeEvent {
	var ce wsutil.ClosedError
	if errors.As(err, &ce) {
		code := ce.Code
		if code == 0 {
			code = ws.StatusNoStatusRcvd // an empty close payload
		}
		return closeEvent{Code: int(code), Clean: true, How: err.Error()}
	}
	return closeEvent{Code: 1006, How: fmt.Sprint(err)}
}

type readWriter struct {
	io.Reader
	io.Writer
}

func runGobwasClient(t *testing.T, url string, run clientRun) clientResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	conn, br, hs, err := ws.Dialer{Protocols: run.Subprotocols}.Dial(ctx, url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	defer conn.Close()
	conn = idleConn{conn}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	r = bufio.NewReaderSize(r, 64<<10)
	rw := readWriter{r, conn}
	if run.Ping {
		if err := ws.WriteFrame(conn, ws.MaskFrameInPlace(ws.NewPingFrame(append([]byte(nil), pingPayload...)))); err != nil {
			t.Fatalf("ping: %v", err)
		}
		f, err := ws.ReadFrame(r)
		if err != nil {
			t.Fatalf("reading the pong: %v", err)
		}
		if f.Header.OpCode != ws.OpPong || string(f.Payload) != string(pingPayload) {
			t.Fatalf("got %v frame %q for ping %q", f.Header.OpCode, f.Payload, pingPayload)
		}
	}
	for i, mc := range run.Cases {
		p := message(mc, i)
		if err := gobwasWrite(conn, gobwasOp(mc.Binary), p, mc.Frags, true); err != nil {
			t.Fatalf("%v: write: %v", mc, err)
		}
		got, op, err := wsutil.ReadServerData(rw)
		if err != nil {
			t.Fatalf("%v: read: %v", mc, err)
		}
		if err := compareEcho(mc, p, op == ws.OpBinary, got); err != nil {
			t.Fatal(err)
		}
	}
	res := clientResult{Subprotocol: hs.Protocol}
	if run.CloseBy == "client" {
		body := ws.NewCloseFrameBody(ws.StatusCode(run.Code), "client bye")
		if run.Code == int(ws.StatusNoStatusRcvd) {
			body = []byte{}
		}
		if err := ws.WriteFrame(conn, ws.MaskFrameInPlace(ws.NewCloseFrame(body))); err != nil {
			t.Fatalf("close: %v", err)
		}
		res.Close = gobwasAwaitClose(r)
		return res
	}
	if err := wsutil.WriteClientText(conn, []byte("close:"+strconv.Itoa(run.Code))); err != nil {
		t.Fatalf("asking the server to close: %v", err)
	}
	got, _, err := wsutil.ReadServerData(rw) // answers the close frame
	if err == nil {
		t.Fatalf("unexpected message of %d bytes while closing", len(got))
	}
	res.Close = gobwasClosed(err)
	if _, err := io.Copy(io.Discard, r); err != nil { // the server ends TCP
		res.Close.Clean = false
		res.Close.How += "; then " + err.Error()
	}
	return res
}

// startGobwasServer serves gobwas's echo on a loopback port; "?frag=N"
// echoes in frames of N bytes.
func startGobwasServer(t *testing.T) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newServer("ws://"+ln.Addr().String()+"/echo", func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { s.Closes <- gobwasEcho(conn, s) }()
		}
	}()
	return s
}

// gobwasProtocol accepts serverSubprotocols; gobwas selects the first the
// client offered that it accepts (the client's preference).
func gobwasProtocol(p []byte) bool {
	for _, sp := range serverSubprotocols {
		if string(p) == sp {
			return true
		}
	}
	return false
}

func gobwasEcho(conn net.Conn, s *server) closeEvent {
	defer conn.Close()
	conn = idleConn{conn}
	frag := 0
	up := ws.Upgrader{Protocol: gobwasProtocol, OnRequest: func(uri []byte) error {
		if _, q, ok := strings.Cut(string(uri), "?frag="); ok {
			frag, _ = strconv.Atoi(q)
		}
		return nil
	}}
	hs, err := up.Upgrade(conn)
	if err != nil {
		return closeEvent{Code: 1006, How: "upgrade: " + err.Error()}
	}
	s.opened(hs.Protocol)
	r := bufio.NewReaderSize(conn, 64<<10)
	rw := readWriter{r, conn}
	for {
		data, op, err := wsutil.ReadClientData(rw)
		if err != nil {
			return gobwasClosed(err) // a close frame was answered by wsutil
		}
		if op == ws.OpText && len(data) < 16 && strings.HasPrefix(string(data), "close:") {
			code, _ := strconv.Atoi(string(data[6:]))
			body := ws.NewCloseFrameBody(ws.StatusCode(code), "server bye")
			if err := ws.WriteFrame(conn, ws.NewCloseFrame(body)); err != nil {
				return closeEvent{Code: 1006, How: "close: " + err.Error()}
			}
			ev := gobwasAwaitCloseServer(r)
			return ev
		}
		var frags []int
		if frag > 0 && len(data) > frag {
			for off := 0; off < len(data); off += frag {
				frags = append(frags, min(frag, len(data)-off))
			}
		}
		if err := gobwasWrite(conn, op, data, frags, false); err != nil {
			return closeEvent{Code: 1006, How: "echo: " + err.Error()}
		}
	}
}

// gobwasAwaitCloseServer reads until the client's close reply; a server
// then ends TCP itself (the deferred Close).
func gobwasAwaitCloseServer(r io.Reader) closeEvent {
	for {
		f, err := ws.ReadFrame(r)
		if err != nil {
			return closeEvent{Code: 1006, How: "reading for the close reply: " + err.Error()}
		}
		if f.Header.OpCode == ws.OpClose {
			if f.Header.Masked {
				ws.Cipher(f.Payload, f.Header.Mask, 0)
			}
			code, reason := gobwasParseClose(f.Payload)
			return closeEvent{Code: int(code), Clean: true, How: fmt.Sprintf("close frame %d %q", code, reason)}
		}
	}
}
