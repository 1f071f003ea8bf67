package conformance

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// toy is a small, deliberately simple WebSocket echo peer used to show
// that the suite fails what it must: each knob breaks one rule. With no
// knob set it is meant to be correct except for fail-fast inside a frame
// (it reads whole frames) and the window limits of permessage-deflate.
type toy struct {
	skipUTF8       bool // echo text without validating it
	lateUTF8       bool // validate text only when the message is complete
	echoAfterClose bool // answer a close, then keep echoing what follows
	dropOnError    bool // fail a connection by dropping TCP, without a close frame
	linger         bool // keep TCP open after the close handshake
	corruptLarge   bool // flip the last byte of echoes of 64 KiB or more
	coalescePongs  bool // answer back-to-back pings with one pong
	deflate        bool // accept permessage-deflate (server_max_window_bits 15 only)
	ignoreBits     bool // with deflate: accept server_max_window_bits=9 without saying so
	wideWindow     bool // with deflate: accept server_max_window_bits=9, then compress with a 32 KiB window
	noMask         bool // as a client, send unmasked frames
	flood          bool // send 1,000 unsolicited pongs before anything else
}

// serveHTTP upgrades r and echoes on the connection.
func (t *toy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || key == "" {
		http.Error(w, "not a websocket handshake", 400)
		return
	}
	var ext string
	var compress bool
	if t.deflate {
		offers, _, err := parseExtensions(r.Header.Get("Sec-WebSocket-Extensions"))
		for _, o := range offers {
			if err != nil {
				break
			}
			if o.serverBits > 0 && o.serverBits < 15 && !t.ignoreBits && !t.wideWindow {
				continue
			}
			resp := pmdParams{serverNoContext: true, clientNoContext: true, serverBits: o.serverBits}
			if t.ignoreBits {
				resp.serverBits = 0
			}
			ext, compress = resp.String(), true
			break
		}
	}
	conn, brw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n", acceptKey(key))
	if ext != "" {
		fmt.Fprintf(conn, "Sec-WebSocket-Extensions: %s\r\n", ext)
	}
	io.WriteString(conn, "\r\n")
	if t.flood {
		for range 1000 {
			t.write(conn, false, opPong, 0, []byte("flood"))
		}
	}
	t.echo(conn, brw.Reader, false, compress)
}

func (t *toy) write(conn net.Conn, client bool, op byte, rsv byte, p []byte) {
	conn.Write(appendFrame(nil, true, rsv, op, p, client && !t.noMask))
}

// echo echoes messages until the close handshake or an error.
func (t *toy) echo(conn net.Conn, br *bufio.Reader, client, compress bool) {
	// fail sends a close frame and waits (briefly) for the peer's.
	fail := func(code int, op byte) {
		if t.dropOnError {
			return
		}
		t.write(conn, client, opClose, 0, closePayload(code, ""))
		if op == opClose {
			return // the peer's close (a broken one) came already
		}
		conn.SetReadDeadline(time.Now().Add(time.Second))
		for {
			var h [2]byte
			if _, err := io.ReadFull(br, h[:]); err != nil {
				return
			}
			n := int(h[1] & 0x7f)
			if h[1]&0x80 != 0 {
				n += 4
			}
			if n > 125+4 {
				return
			}
			if _, err := br.Discard(n); err != nil || h[0]&15 == opClose {
				return
			}
		}
	}
	var (
		msgOp       byte
		msg         []byte
		compressed  bool
		closed      bool
		pendingPong bool
	)
	for {
		var h [2]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return
		}
		fin, rsv, op, n := h[0]&0x80 != 0, h[0]>>4&7, h[0]&15, uint64(h[1]&0x7f)
		switch n {
		case 126:
			var b [2]byte
			io.ReadFull(br, b[:])
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			io.ReadFull(br, b[:])
			n = binary.BigEndian.Uint64(b[:])
		}
		var key [4]byte
		if h[1]&0x80 != 0 {
			io.ReadFull(br, key[:])
		}
		if n > 64<<20 {
			fail(1009, op)
			return
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		maskBytes(p, key)
		if closed {
			if op == opText || op == opBinary {
				t.write(conn, client, op, 0, p)
			}
			if br.Buffered() == 0 {
				return
			}
			continue
		}
		switch {
		case rsv != 0 && !(rsv == 4 && compress && (op == opText || op == opBinary)),
			op > 2 && op < 8 || op > 10,
			op >= 8 && (!fin || n > 125),
			op == opCont && msgOp == 0,
			(op == opText || op == opBinary) && msgOp != 0:
			fail(1002, op)
			return
		}
		switch op {
		case opPing:
			if t.coalescePongs && br.Buffered() > 0 {
				pendingPong = true
				continue
			}
			pendingPong = false
			t.write(conn, client, opPong, 0, p)
			continue
		case opPong:
			continue
		case opClose:
			code := 1000
			if len(p) == 1 || len(p) >= 2 && (!validCloseCode(int(binary.BigEndian.Uint16(p))) || !utf8.Valid(p[2:])) {
				code = 1002
			}
			t.write(conn, client, opClose, 0, closePayload(code, ""))
			if t.echoAfterClose && br.Buffered() > 0 {
				closed = true // echo what came after the close, then end
				continue
			}
			if t.linger {
				time.Sleep(3 * time.Second)
			}
			return
		}
		if pendingPong {
			pendingPong = false
			t.write(conn, client, opPong, 0, nil)
		}
		if op != opCont {
			msgOp, msg, compressed = op, nil, rsv == 4
		}
		msg = append(msg, p...)
		text := msgOp == opText && !compressed && !t.skipUTF8
		if text && !t.lateUTF8 && !validPrefix(msg) {
			fail(1007, op)
			return
		}
		if !fin {
			continue
		}
		data := msg
		if compressed {
			r := flate.NewReader(io.MultiReader(bytes.NewReader(data), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff})))
			var err error
			if data, err = io.ReadAll(r); err != nil {
				fail(1007, op)
				return
			}
		}
		if msgOp == opText && !t.skipUTF8 && !utf8.Valid(data) {
			fail(1007, op)
			return
		}
		out, orsv := data, byte(0)
		if t.corruptLarge && len(out) >= 64<<10 {
			out = bytes.Clone(out)
			out[len(out)-1] ^= 1
		}
		if compress {
			d := newDeflater(false)
			if t.wideWindow {
				d.w, _ = flate.NewWriter(&d.buf, flate.BestCompression)
			}
			out, orsv = d.deflate(out), 4
		}
		t.write(conn, client, msgOp, orsv, out)
		msgOp = 0
	}
}

// validPrefix reports whether p is valid UTF-8 or a prefix of it.
func validPrefix(p []byte) bool {
	for i := 0; i < 4 && i <= len(p); i++ {
		if !utf8.Valid(p[:len(p)-i]) {
			continue
		}
		tail := p[len(p)-i:]
		if i == 0 {
			return true
		}
		var need int
		switch c := tail[0]; {
		case c >= 0xc2 && c <= 0xdf:
			need = 2
		case c >= 0xe0 && c <= 0xef:
			need = 3
		case c >= 0xf0 && c <= 0xf4:
			need = 4
		default:
			continue
		}
		if len(tail) >= need {
			continue
		}
		if len(tail) == 1 {
			return true
		}
		// Past the second byte, any continuation byte will do.
		return utf8.Valid(append(bytes.Clone(tail), bytes.Repeat([]byte{0x80}, need-len(tail))...))
	}
	return false
}

// startToy serves t on a loopback port and returns its ws:// URL.
func startToy(tb testing.TB, t *toy) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: t}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return "ws://" + ln.Addr().String() + "/"
}

// runToyClient drives the fuzzing server at addr as an Autobahn client
// would, echoing with t's behaviour.
func runToyClient(ctx context.Context, addr, agent string, t *toy) error {
	dial := func(path string) (net.Conn, *bufio.Reader, error) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return nil, nil, err
		}
		u := "ws://" + addr + path
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Write(conn)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			conn.Close()
			return nil, nil, err
		}
		if resp.StatusCode != 101 {
			conn.Close()
			return nil, nil, fmt.Errorf("%s: status %d", path, resp.StatusCode)
		}
		return conn, br, nil
	}
	conn, br, err := dial("/getCaseCount")
	if err != nil {
		return err
	}
	var h [2]byte
	io.ReadFull(br, h[:])
	count := make([]byte, h[1]&0x7f)
	io.ReadFull(br, count)
	conn.Close()
	var n int
	fmt.Sscan(string(count), &n)
	for i := 1; i <= n && ctx.Err() == nil; i++ {
		conn, br, err := dial(fmt.Sprintf("/runCase?case=%d&agent=%s", i, agent))
		if err != nil {
			return err
		}
		t.echo(conn, br, true, false)
		conn.Close()
	}
	conn, _, err = dial("/updateReports?agent=" + agent)
	if err != nil {
		return err
	}
	conn.Close()
	return nil
}
