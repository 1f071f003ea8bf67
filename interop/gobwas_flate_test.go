package interop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/gobwas/ws/wsutil"
)

// gobwas/ws with permessage-deflate: wsflate negotiates (its default
// parameters: no context takeover either way) and compresses and
// decompresses whole messages (wsflate.DefaultHelper, level 9); frames are
// read and written with gobwas's low-level API, since wsutil's message
// helpers do not decompress. A fragmented message's compressed payload is
// cut into frames of fragSize bytes, RSV1 on the first.

type gobwasFlate struct {
	r         io.Reader
	w         io.Writer
	client    bool // mask what is sent
	closeSent bool
	pongs     []string
}

func (g *gobwasFlate) writeFrame(f ws.Frame) error {
	if g.client {
		f = ws.MaskFrameInPlace(f)
	}
	return ws.WriteFrame(g.w, f)
}

// write sends data as one compressed message, its compressed payload in
// frames of autofrag bytes (0: one frame).
func (g *gobwasFlate) write(op ws.OpCode, data []byte, autofrag int) error {
	z, err := wsflate.DefaultHelper.Compress(data)
	if err != nil {
		return err
	}
	n := len(z)
	if autofrag > 0 {
		n = autofrag
	}
	off := 0
	for first := true; first || off < len(z); first = false {
		end := min(off+n, len(z))
		f := ws.NewFrame(op, end == len(z), append([]byte(nil), z[off:end]...))
		if first {
			f.Header.Rsv = ws.Rsv(true, false, false)
		}
		if err := g.writeFrame(f); err != nil {
			return err
		}
		off, op = end, ws.OpContinuation
	}
	return nil
}

func (g *gobwasFlate) sendClose(code ws.StatusCode, reason string) error {
	g.closeSent = true
	body := []byte{}
	if code != ws.StatusNoStatusRcvd {
		body = ws.NewCloseFrameBody(code, reason)
	}
	return g.writeFrame(ws.NewCloseFrame(body))
}

// read returns the next data message, decompressed if it was compressed,
// answering pings; a close frame is answered (unless this side sent one)
// and returned as a wsutil.ClosedError.
func (g *gobwasFlate) read() (ws.OpCode, []byte, error) {
	var op ws.OpCode
	var msg []byte
	compressed := false
	for {
		f, err := ws.ReadFrame(g.r)
		if err != nil {
			return 0, nil, err
		}
		if f.Header.Masked {
			ws.Cipher(f.Payload, f.Header.Mask, 0)
		}
		switch f.Header.OpCode {
		case ws.OpPing:
			if err := g.writeFrame(ws.NewPongFrame(f.Payload)); err != nil {
				return 0, nil, err
			}
			continue
		case ws.OpPong:
			g.pongs = append(g.pongs, string(f.Payload))
			continue
		case ws.OpClose:
			code, reason := gobwasParseClose(f.Payload)
			if !g.closeSent {
				if err := g.sendClose(code, ""); err != nil {
					return 0, nil, err
				}
			}
			return 0, nil, wsutil.ClosedError{Code: code, Reason: reason}
		case ws.OpText, ws.OpBinary:
			op, compressed, msg = f.Header.OpCode, f.Header.Rsv1(), append(msg[:0], f.Payload...)
		case ws.OpContinuation:
			if f.Header.Rsv1() {
				return 0, nil, fmt.Errorf("RSV1 on a continuation frame")
			}
			msg = append(msg, f.Payload...)
		default:
			return 0, nil, fmt.Errorf("unexpected opcode %v", f.Header.OpCode)
		}
		if f.Header.Fin {
			if compressed {
				if msg, err = wsflate.DefaultHelper.Decompress(msg); err != nil {
					return 0, nil, fmt.Errorf("decompressing: %w", err)
				}
			}
			return op, msg, nil
		}
	}
}

func runGobwasFlateClient(t *testing.T, url string, run clientRun) clientResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	d := ws.Dialer{Extensions: []httphead.Option{wsflate.DefaultParameters.Option()}}
	conn, br, hs, err := d.Dial(ctx, url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	defer conn.Close()
	conn = idleConn{conn}
	var res clientResult
	for _, e := range hs.Extensions {
		res.Extensions = string(e.Name) // the name is all the test checks
	}
	if res.Extensions == "" {
		t.Fatalf("permessage-deflate not negotiated")
	}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	r = bufio.NewReaderSize(r, 64<<10)
	g := &gobwasFlate{r: r, w: conn, client: true}
	if run.Ping {
		if err := g.writeFrame(ws.NewPingFrame(append([]byte(nil), pingPayload...))); err != nil {
			t.Fatalf("ping: %v", err)
		}
	}
	for i, mc := range run.Cases {
		p := message(mc, i)
		autofrag := 0
		if mc.Frags != nil {
			autofrag = fragSize
		}
		if err := g.write(gobwasOp(mc.Binary), p, autofrag); err != nil {
			t.Fatalf("%v: write: %v", mc, err)
		}
		op, got, err := g.read()
		if err != nil {
			t.Fatalf("%v: read: %v", mc, err)
		}
		if err := compareEcho(mc, p, op == ws.OpBinary, got); err != nil {
			t.Fatal(err)
		}
	}
	if run.Ping && (len(g.pongs) != 1 || g.pongs[0] != string(pingPayload)) {
		t.Fatalf("pongs %q for one ping %q", g.pongs, pingPayload)
	}
	if run.CloseBy == "client" {
		if err := g.sendClose(ws.StatusCode(run.Code), "client bye"); err != nil {
			t.Fatalf("close: %v", err)
		}
	} else if err := g.write(ws.OpText, []byte("close:"+strconv.Itoa(run.Code)), 0); err != nil {
		t.Fatalf("asking the server to close: %v", err)
	}
	_, got, err := g.read()
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

// startGobwasFlateServer serves gobwas's compressing echo; "?frag=N" cuts
// the echoes' compressed payloads into frames of N bytes.
func startGobwasFlateServer(t *testing.T) *server {
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
			go func() { s.Closes <- gobwasFlateEcho(conn, s) }()
		}
	}()
	return s
}

func gobwasFlateEcho(conn net.Conn, s *server) closeEvent {
	defer conn.Close()
	conn = idleConn{conn}
	frag := 0
	ext := wsflate.Extension{Parameters: wsflate.DefaultParameters}
	up := ws.Upgrader{
		Negotiate: ext.Negotiate,
		Protocol:  gobwasProtocol,
		OnRequest: func(uri []byte) error {
			if _, q, ok := strings.Cut(string(uri), "?frag="); ok {
				frag, _ = strconv.Atoi(q)
			}
			return nil
		},
	}
	hs, err := up.Upgrade(conn)
	if err != nil {
		return closeEvent{Code: 1006, How: "upgrade: " + err.Error()}
	}
	s.opened(hs.Protocol)
	if _, ok := ext.Accepted(); !ok {
		return closeEvent{Code: 1006, How: "permessage-deflate not negotiated"}
	}
	g := &gobwasFlate{r: bufio.NewReaderSize(conn, 64<<10), w: conn}
	for {
		op, data, err := g.read()
		if err != nil {
			return gobwasClosed(err)
		}
		if op == ws.OpText && len(data) < 16 && strings.HasPrefix(string(data), "close:") {
			code, _ := strconv.Atoi(string(data[6:]))
			if err := g.sendClose(ws.StatusCode(code), "server bye"); err != nil {
				return closeEvent{Code: 1006, How: "close: " + err.Error()}
			}
			_, _, err := g.read()
			return gobwasClosed(err)
		}
		if err := g.write(op, data, frag); err != nil {
			return closeEvent{Code: 1006, How: "echo: " + err.Error()}
		}
	}
}
