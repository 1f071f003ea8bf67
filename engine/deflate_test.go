package engine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// The (message size, fragment size) entries of Autobahn groups 12 and 13
// (conformance-cases.md §3.10): the fuzzer compresses each message and
// splits the compressed payload into frames of the fragment size (0: one
// frame), RSV1 on the first only.
var deflateEntries = []struct{ size, frag int }{
	{16, 0}, {64, 0}, {256, 0}, {1 << 10, 0}, {4 << 10, 0}, {8 << 10, 0}, {16 << 10, 0}, {32 << 10, 0}, {64 << 10, 0}, {128 << 10, 0},
	{8 << 10, 256}, {16 << 10, 256}, {32 << 10, 256}, {64 << 10, 256}, {128 << 10, 256},
	{128 << 10, 1 << 10}, {128 << 10, 4 << 10}, {128 << 10, 32 << 10},
}

// The offers of Autobahn's 13.1 to 13.7, as the fuzzer sends them.
var autobahnOffers = func() [][]upgrade.DeflateParams {
	base := upgrade.DeflateParams{ClientNoContextTakeover: true, ClientMaxWindowBits: 15}
	with := func(f func(*upgrade.DeflateParams)) upgrade.DeflateParams { p := base; f(&p); return p }
	o1 := base
	o2 := with(func(p *upgrade.DeflateParams) { p.ServerNoContextTakeover = true })
	o3 := with(func(p *upgrade.DeflateParams) { p.ServerMaxWindowBits = 9 })
	o4 := with(func(p *upgrade.DeflateParams) { p.ServerMaxWindowBits = 15 })
	o5 := with(func(p *upgrade.DeflateParams) { p.ServerNoContextTakeover, p.ServerMaxWindowBits = true, 9 })
	o6 := with(func(p *upgrade.DeflateParams) { p.ServerNoContextTakeover, p.ServerMaxWindowBits = true, 15 })
	return [][]upgrade.DeflateParams{{o1}, {o2}, {o3}, {o4}, {o5}, {o6}, {o5, o2, o1}}
}()

// What Autobahn's fuzzingserver answers to a client in 13.1 to 13.7
// (conformance-cases.md §3.10): the client window it asks for.
var autobahnClientWindows = []int{0, 0, 9, 15, 9, 15, 9}

// Payloads of the kinds of groups 12 and 13, generated deterministically.
func deflatePayload(kind string, size int) []byte {
	r := rand.New(rand.NewPCG(uint64(size), uint64(len(kind))))
	var b []byte
	switch kind {
	case "json":
		for i := 0; len(b) < size; i++ {
			b = fmt.Appendf(b, `{"id":%d,"name":"user-%d","tags":["a","bb"],"score":%.3f},`, i, r.IntN(1000), r.Float64()*100)
		}
	case "text", "html":
		words := []string{"Habe", "nun,", "ach!", "Philosophie,", "<p>Juristerei</p>", "und", "Medizin,", "heißem", "Bemühn.", "Größe"}
		for len(b) < size {
			b = append(b, words[r.IntN(len(words))]...)
			b = append(b, ' ')
		}
	case "bmp":
		for len(b) < size {
			v := byte(r.IntN(4) * 60)
			for i := 0; i < 1+r.IntN(40); i++ {
				b = append(b, v, v/2, 255-v)
			}
		}
	case "pdf":
		for len(b) < size {
			b = append(b, byte(r.Uint32()))
		}
	}
	b = b[:size]
	for len(b) > 0 && b[len(b)-1] >= 0x80 { // keep text valid UTF-8
		b[len(b)-1] = ' '
	}
	return b
}

// The sub-groups of group 12: payload kind and message type.
var group12 = []struct {
	kind string
	op   frame.Opcode
}{{"json", frame.OpText}, {"bmp", frame.OpBinary}, {"text", frame.OpBinary}, {"html", frame.OpText}, {"pdf", frame.OpBinary}}

// wsPeer is a test peer speaking WebSocket with permessage-deflate over a
// plain TCP connection, as Autobahn's fuzzer does: it compresses each
// message itself (keeping its context when the negotiation allows),
// splits the compressed payload into frames of any size, and inflates
// what it receives.
type wsPeer struct {
	t      testing.TB
	conn   net.Conn
	r      *bufio.Reader
	client bool
	parser frame.Parser
	comp   *frame.Compressor
	inf    *frame.Inflater
	rest   []byte
	wire   int // payload bytes on the wire of the last message read
}

// setup prepares the peer's codec for the negotiated parameters.
func (p *wsPeer) setup(res upgrade.Result) {
	p.parser.Client = p.client
	p.parser.Compression = res.Deflate
	if !res.Deflate {
		return
	}
	d := res.DeflateParams
	ownNoCtx, peerNoCtx, ownBits := d.ServerNoContextTakeover, d.ClientNoContextTakeover, d.ServerMaxWindowBits
	if p.client {
		ownNoCtx, peerNoCtx, ownBits = d.ClientNoContextTakeover, d.ServerNoContextTakeover, d.ClientMaxWindowBits
	}
	level := frame.DefaultCompressionLevel
	if ownBits != 0 && ownBits < 15 {
		level = frame.HuffmanOnly
	}
	p.comp, _ = frame.NewCompressor(level, !ownNoCtx)
	p.inf = frame.NewInflater(!peerNoCtx)
}

// peerClient connects to addr and offers offers.
func peerClient(t testing.TB, addr string, offers []upgrade.DeflateParams) (*wsPeer, upgrade.Result) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	p := &wsPeer{t: t, conn: conn, r: bufio.NewReader(conn), client: true}
	cl := upgrade.Client{Host: addr, Deflate: offers, DeflateMinWindowBits: 8}
	var key [24]byte
	upgrade.NewKey(&key)
	req, err := cl.AppendRequest(nil, &key)
	if err != nil {
		t.Fatal(err)
	}
	p.write(req)
	head := p.readHead()
	var resp upgrade.Response
	if st, _ := cl.ParseResponse(&resp, head); st != upgrade.Done {
		t.Fatalf("response %q: %v", head, resp.Err())
	}
	res, err := cl.Verify(&resp, &key)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	p.setup(res)
	return p, res
}

// peerServer accepts one connection on ln and answers it with pol.
func peerServer(t testing.TB, ln net.Listener, pol *upgrade.DeflatePolicy) (*wsPeer, upgrade.Result) {
	t.Helper()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	p := &wsPeer{t: t, conn: conn, r: bufio.NewReader(conn)}
	srv := upgrade.Server{Deflate: pol, CheckOrigin: func(*upgrade.Request) bool { return true }}
	head := p.readHead()
	var req upgrade.Request
	if st, _ := srv.Parse(&req, head); st != upgrade.Done {
		t.Fatalf("request %q: %v", head, req.Err())
	}
	res, err := srv.Accept(&req)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := upgrade.AppendResponse(nil, req.Key(), &res, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.write(resp)
	p.setup(res)
	return p, res
}

func (p *wsPeer) readHead() []byte {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var head []byte
	for {
		line, err := p.r.ReadSlice('\n')
		if err != nil {
			p.t.Fatalf("reading the handshake: %v (so far %q)", err, head)
		}
		head = append(head, line...)
		if string(line) == "\r\n" {
			return head
		}
	}
}

func (p *wsPeer) write(b []byte) {
	p.t.Helper()
	p.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := p.conn.Write(b); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

// frames builds a message's frames from payload, in frames of frag bytes
// (0: one frame), with rsv on the first.
func (p *wsPeer) frames(op frame.Opcode, rsv uint8, payload []byte, frag int) []byte {
	var out []byte
	first := true
	for {
		n := len(payload)
		if frag > 0 && n > frag {
			n = frag
		}
		h := frame.Header{Fin: n == len(payload), Opcode: frame.OpContinuation}
		if first {
			h.Opcode, h.Rsv = op, rsv
		}
		if p.client {
			h.Masked, h.Key = true, [4]byte{byte(n), 0x5a, 0xc3, 0x11}
		}
		out = frame.AppendFrame(out, h, payload[:n])
		payload = payload[n:]
		first = false
		if h.Fin {
			return out
		}
	}
}

// sendCompressed compresses msg and sends it in frames of frag bytes.
func (p *wsPeer) sendCompressed(op frame.Opcode, msg []byte, frag int) {
	p.write(p.frames(op, frame.Rsv1, p.comp.Append(nil, msg), frag))
}

// next reads the next message or control frame, inflating a compressed
// message.
func (p *wsPeer) next(d time.Duration) (op frame.Opcode, msg []byte, compressed bool, err error) {
	p.conn.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 64<<10)
	for {
		for len(p.rest) > 0 {
			f, n, ok, err := p.parser.Next(p.rest)
			p.rest = p.rest[n:]
			if err != nil {
				return 0, nil, false, err
			}
			if !ok {
				break
			}
			msg = append(msg, f.Payload...)
			if f.End {
				p.wire = len(msg)
				if f.Compressed {
					msg, err = p.inf.Append(nil, msg, 0)
				}
				return f.Opcode, msg, f.Compressed, err
			}
		}
		n, err := p.r.Read(buf)
		if n > 0 {
			p.rest = append(p.rest[:0:0], buf[:n]...)
		}
		if err != nil && n == 0 {
			return 0, nil, false, err
		}
	}
}

func (p *wsPeer) expectMessage(op frame.Opcode, want []byte, compressed bool) {
	p.t.Helper()
	gotOp, got, comp, err := p.next(10 * time.Second)
	if err != nil {
		p.t.Fatalf("waiting for a %d-byte message: %v", len(want), err)
	}
	if gotOp != op || !bytes.Equal(got, want) {
		p.t.Fatalf("got %v of %d bytes, want %v of %d (equal: %v)", gotOp, len(got), op, len(want), bytes.Equal(got, want))
	}
	if comp != compressed {
		p.t.Fatalf("%d-byte message compressed: %v, want %v", len(want), comp, compressed)
	}
}

// checkWindow checks that a message received from a side asked to keep
// to a window under 15 bits was compressed without back-references, as
// frame.HuffmanOnly does: its size is HuffmanOnly's.
func (p *wsPeer) checkWindow(bits int, msg []byte) {
	p.t.Helper()
	if bits == 0 || bits == 15 {
		return
	}
	want, _ := frame.AppendDeflate(nil, msg, frame.HuffmanOnly)
	if p.wire != len(want) {
		p.t.Fatalf("window of %d bits: %d-byte message compressed to %d bytes, HuffmanOnly gives %d", bits, len(msg), p.wire, len(want))
	}
}

func (p *wsPeer) expectClose(code frame.CloseCode) {
	p.t.Helper()
	for {
		op, got, _, err := p.next(10 * time.Second)
		if err != nil {
			p.t.Fatalf("waiting for close %d: %v", code, err)
		}
		if op != frame.OpClose {
			continue
		}
		if c, _, _ := frame.ParseClose(got); c != code {
			p.t.Fatalf("close %v, want %v", c, code)
		}
		return
	}
}

// deflateServerConfig is an echo server accepting every offer of groups
// 12 and 13, compressing every echo.
func deflateServerConfig() Config {
	cfg := echoConfig()
	cfg.Upgrade.Deflate = &upgrade.DeflatePolicy{MinServerWindowBits: 8}
	cfg.Compression.Threshold = -1
	return cfg
}

// TestDeflateAutobahnServer plays Autobahn's fuzzer against the engine's
// server: every (size, fragment size) entry of groups 12 and 13, with
// each offer of 13.1-13.7, compressed and fragmented by the peer, echoed
// compressed by the server.
func TestDeflateAutobahnServer(t *testing.T) {
	srv, addr := startEngine(t, deflateServerConfig())
	run := func(t *testing.T, offers []upgrade.DeflateParams, kind string, op frame.Opcode) {
		p, res := peerClient(t, addr, offers)
		if !res.Deflate {
			t.Fatal("the server declined")
		}
		for _, e := range deflateEntries {
			msg := deflatePayload(kind, e.size)
			p.sendCompressed(op, msg, e.frag)
			p.expectMessage(op, msg, true)
			p.checkWindow(res.DeflateParams.ServerMaxWindowBits, msg)
		}
		p.write(p.frames(frame.OpClose, 0, closePayload(frame.CloseNormal, ""), 0))
		p.expectClose(frame.CloseNormal)
	}
	for i, offers := range autobahnOffers {
		t.Run(fmt.Sprintf("13.%d", i+1), func(t *testing.T) { run(t, offers, "json", frame.OpText) })
	}
	for i, g := range group12 {
		t.Run(fmt.Sprintf("12.%d", i+1), func(t *testing.T) { run(t, autobahnOffers[0], g.kind, g.op) })
	}
	n := int64(len(deflateEntries) * (len(autobahnOffers) + len(group12)))
	waitFor(t, "the server's counters", 5*time.Second, func() bool { return srv.Stats().CompressedOut == n })
	if s := srv.Stats(); s.CompressedIn != n || s.ProtocolErrors != 0 {
		t.Errorf("stats %v: want %d compressed in and out", s, n)
	}
}

// TestDeflateAutobahnClient plays Autobahn's fuzzingserver against the
// engine's client, which offers each of 13.1-13.7's offers: the peer
// answers as the fuzzer does (keeping its own context when the client did
// not forbid it, and asking for a client window of 9 or 15 bits), sends
// every entry compressed and fragmented, and checks the client's
// compressed echo.
func TestDeflateAutobahnClient(t *testing.T) {
	echo := Config{
		Compression: Compression{Threshold: -1},
		OnMessage:   func(c *Conn, op frame.Opcode, data []byte) { c.WriteMessage(op, data) },
	}
	cli := newClientEngine(t, echo)
	run := func(t *testing.T, offers []upgrade.DeflateParams, pol *upgrade.DeflatePolicy, kind string, op frame.Opcode) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		type dialed struct {
			c   *Conn
			err error
		}
		ch := make(chan dialed, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := cli.Dial(ctx, "ws://"+ln.Addr().String()+"/", &DialOptions{Deflate: offers})
			ch <- dialed{c, err}
		}()
		p, res := peerServer(t, ln, pol)
		d := <-ch
		if d.err != nil {
			t.Fatal(d.err)
		}
		if !res.Deflate || !d.c.Compressed() {
			t.Fatalf("not negotiated: %+v", res)
		}
		for _, e := range deflateEntries {
			msg := deflatePayload(kind, e.size)
			p.sendCompressed(op, msg, e.frag)
			p.expectMessage(op, msg, true)
			p.checkWindow(res.DeflateParams.ClientMaxWindowBits, msg)
		}
		d.c.Close(frame.CloseNormal, "")
		p.expectClose(frame.CloseNormal)
	}
	for i, offers := range autobahnOffers {
		pol := &upgrade.DeflatePolicy{MinServerWindowBits: 8, ServerContextTakeover: true, ClientContextTakeover: true, ClientMaxWindowBits: autobahnClientWindows[i]}
		t.Run(fmt.Sprintf("13.%d", i+1), func(t *testing.T) { run(t, offers, pol, "json", frame.OpText) })
	}
	for i, g := range group12 {
		pol := &upgrade.DeflatePolicy{ServerContextTakeover: true, ClientContextTakeover: true}
		t.Run(fmt.Sprintf("12.%d", i+1), func(t *testing.T) { run(t, autobahnOffers[0], pol, g.kind, g.op) })
	}
}

// TestDeflateEngineToEngine: the engine's client and server, each offer
// set of 13.1-13.7, every size of groups 12 and 13 both ways (the client
// sends, the server echoes), both compressing.
func TestDeflateEngineToEngine(t *testing.T) {
	srv, addr := startEngine(t, deflateServerConfig())
	var mu sync.Mutex
	got := make(chan []byte, 1)
	cli := newClientEngine(t, Config{
		Compression: Compression{Threshold: -1},
		OnMessage: func(c *Conn, op frame.Opcode, data []byte) {
			mu.Lock()
			defer mu.Unlock()
			got <- bytes.Clone(data)
		},
	})
	for i, offers := range autobahnOffers {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := cli.Dial(ctx, "ws://"+addr+"/", &DialOptions{Deflate: offers})
		cancel()
		if err != nil {
			t.Fatalf("13.%d: %v", i+1, err)
		}
		if !c.Compressed() {
			t.Fatalf("13.%d: not negotiated", i+1)
		}
		for _, e := range deflateEntries {
			msg := deflatePayload("json", e.size)
			if err := c.WriteMessage(frame.OpText, msg); err != nil {
				t.Fatal(err)
			}
			select {
			case b := <-got:
				if !bytes.Equal(b, msg) {
					t.Fatalf("13.%d: %d-byte echo differs", i+1, e.size)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("13.%d: no echo of %d bytes", i+1, e.size)
			}
		}
		c.Close(frame.CloseNormal, "")
	}
	n := int64(len(autobahnOffers) * len(deflateEntries))
	if s, cs := srv.Stats(), cli.Stats(); s.CompressedIn != n || s.CompressedOut != n || cs.CompressedIn != n || cs.CompressedOut != n {
		t.Errorf("server %v; client %v: want %d compressed each way", s, cs, n)
	}
}

// TestDeflateDeclined: offers the server cannot honour are declined and
// the connection works uncompressed; RSV1 on it is then a protocol error.
func TestDeflateDeclined(t *testing.T) {
	cfg := echoConfig()
	cfg.Upgrade.Deflate = &upgrade.DeflatePolicy{} // compress/flate's window: 15 bits only
	srv, addr := startEngine(t, cfg)
	for _, bits := range []int{8, 9, 14} {
		offers := []upgrade.DeflateParams{{ServerMaxWindowBits: bits}}
		p, res := peerClient(t, addr, offers)
		if res.Deflate {
			t.Fatalf("server_max_window_bits=%d accepted: %+v", bits, res.DeflateParams)
		}
		msg := deflatePayload("json", 1000)
		p.write(p.frames(frame.OpText, 0, msg, 0))
		p.expectMessage(frame.OpText, msg, false)

		// The engine's client gets the same answer.
		cli := newClientEngine(t, Config{})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := cli.Dial(ctx, "ws://"+addr+"/", &DialOptions{Deflate: offers})
		cancel()
		if err != nil || c.Compressed() {
			t.Fatalf("engine client, server_max_window_bits=%d: %v, compressed %v", bits, err, err == nil && c.Compressed())
		}
	}
	// RSV1 without negotiation.
	p, _ := peerClient(t, addr, nil)
	comp, _ := frame.AppendDeflate(nil, []byte("hello"), 1)
	p.write(p.frames(frame.OpText, frame.Rsv1, comp, 0))
	p.expectClose(frame.CloseProtocolError)
	if s := srv.Stats(); s.CompressedIn != 0 || s.CompressedOut != 0 {
		t.Errorf("compressed messages on declined connections: %v", s)
	}
	// A server without a policy declines everything.
	_, addr2 := startEngine(t, echoConfig())
	if _, res := peerClient(t, addr2, autobahnOffers[6]); res.Deflate {
		t.Fatal("a server without Upgrade.Deflate accepted an offer")
	}
}

// TestDeflateProtocolErrors: what fails a compressed connection, and with
// which code.
func TestDeflateProtocolErrors(t *testing.T) {
	cfg := deflateServerConfig()
	cfg.MaxMessageSize = 64 << 10
	_, addr := startEngine(t, cfg)
	offer := []upgrade.DeflateParams{{ClientNoContextTakeover: true}}
	huge := bytes.Repeat([]byte("a"), 70<<10)
	cases := []struct {
		name  string
		build func(p *wsPeer) []byte
		code  frame.CloseCode
	}{
		{"RSV1 on a continuation", func(p *wsPeer) []byte {
			c := p.comp.Append(nil, deflatePayload("json", 500))
			first := frameBytes(p, frame.Header{Opcode: frame.OpText, Rsv: frame.Rsv1}, c[:100])
			return append(first, frameBytes(p, frame.Header{Fin: true, Opcode: frame.OpContinuation, Rsv: frame.Rsv1}, c[100:])...)
		}, frame.CloseProtocolError},
		{"RSV1 on a ping", func(p *wsPeer) []byte {
			return frameBytes(p, frame.Header{Fin: true, Opcode: frame.OpPing, Rsv: frame.Rsv1}, []byte{0})
		}, frame.CloseProtocolError},
		{"RSV2", func(p *wsPeer) []byte {
			return frameBytes(p, frame.Header{Fin: true, Opcode: frame.OpText, Rsv: frame.Rsv1 | frame.Rsv2}, []byte{0})
		}, frame.CloseProtocolError},
		{"corrupt data", func(p *wsPeer) []byte {
			return p.frames(frame.OpBinary, frame.Rsv1, bytes.Repeat([]byte{0xff}, 50), 0)
		}, frame.CloseInvalidPayload},
		{"invalid UTF-8 once inflated", func(p *wsPeer) []byte {
			return p.frames(frame.OpText, frame.Rsv1, p.comp.Append(nil, []byte("ok \xff\xfe not")), 0)
		}, frame.CloseInvalidPayload},
		{"inflates past the limit", func(p *wsPeer) []byte {
			return p.frames(frame.OpBinary, frame.Rsv1, p.comp.Append(nil, huge), 1000)
		}, frame.CloseMessageTooBig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, res := peerClient(t, addr, offer)
			if !res.Deflate {
				t.Fatal("declined")
			}
			p.write(c.build(p))
			p.expectClose(c.code)
		})
	}
}

func frameBytes(p *wsPeer, h frame.Header, payload []byte) []byte {
	h.Masked, h.Key = p.client, [4]byte{9, 8, 7, 6}
	return frame.AppendFrame(nil, h, payload)
}

// TestDeflateTakeoverServer: a server whose policy lets clients keep
// their context inflates messages that refer to earlier ones, and one
// with Compression.ContextTakeover keeps its own context.
func TestDeflateTakeoverServer(t *testing.T) {
	cfg := echoConfig()
	cfg.Upgrade.Deflate = &upgrade.DeflatePolicy{ServerContextTakeover: true, ClientContextTakeover: true}
	cfg.Compression.ContextTakeover = true
	_, addr := startEngine(t, cfg)
	p, res := peerClient(t, addr, []upgrade.DeflateParams{{ClientMaxWindowBits: 15}}) // as browsers offer
	if !res.Deflate || res.DeflateParams.ClientNoContextTakeover || res.DeflateParams.ServerNoContextTakeover {
		t.Fatalf("negotiated %+v, want context takeover both ways", res)
	}
	p.comp, _ = frame.NewCompressor(6, true) // level 1 refers only to the previous message
	msg := deflatePayload("json", 4000)
	var sizes []int
	for i := 0; i < 20; i++ {
		m := msg[i*10 : 3000+i*20]
		c := p.comp.Append(nil, m)
		sizes = append(sizes, len(c))
		p.write(p.frames(frame.OpText, frame.Rsv1, c, 700))
		p.expectMessage(frame.OpText, m, true)
	}
	if sizes[5]*3 > sizes[0] {
		t.Errorf("the peer's context was not used (sizes %v): the test proves nothing", sizes)
	}
}

// TestDeflateWriteControls: threshold, SetWriteCompression and
// SetCompressionLevel.
func TestDeflateWriteControls(t *testing.T) {
	cfg := echoConfig()
	cfg.Upgrade.Deflate = &upgrade.DeflatePolicy{}
	if _, err := New(Config{Compression: Compression{Level: 10}}); err != ErrCompressionLevel {
		t.Fatalf("level 10: %v", err)
	}
	_, addr := startEngine(t, cfg)
	p, _ := peerClient(t, addr, []upgrade.DeflateParams{{}})
	small := deflatePayload("json", DefaultCompressionThreshold-1)
	big := deflatePayload("json", DefaultCompressionThreshold)
	p.write(p.frames(frame.OpText, 0, small, 0))
	p.expectMessage(frame.OpText, small, false) // under the threshold
	p.write(p.frames(frame.OpText, 0, big, 0))
	p.expectMessage(frame.OpText, big, true)

	cli := newClientEngine(t, Config{Compression: Compression{Level: 9}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	ch := make(chan *Conn, 1)
	go func() {
		c, err := cli.Dial(ctx, "ws://"+ln.Addr().String()+"/", &DialOptions{Deflate: DeflateOffer})
		if err != nil {
			t.Error(err)
		}
		ch <- c
	}()
	ps, res := peerServer(t, ln, &upgrade.DeflatePolicy{})
	c := <-ch
	if c == nil {
		t.FailNow()
	}
	if !res.DeflateParams.ServerNoContextTakeover || !res.DeflateParams.ClientNoContextTakeover {
		t.Fatalf("DeflateOffer negotiated %+v", res.DeflateParams)
	}
	msg := deflatePayload("json", 5000)
	sizeOf := func() int {
		t.Helper()
		c.WriteMessage(frame.OpText, msg)
		op, got, comp, err := ps.next(5 * time.Second)
		if err != nil || op != frame.OpText || !bytes.Equal(got, msg) {
			t.Fatalf("echo: %v", err)
		}
		if !comp && ps.wire != len(msg) {
			t.Fatal("uncompressed size differs")
		}
		return ps.wire
	}
	l9 := sizeOf()
	if err := c.SetCompressionLevel(0); err != nil {
		t.Fatal(err)
	}
	l0 := sizeOf()
	c.SetCompressionLevel(1)
	l1 := sizeOf()
	c.SetWriteCompression(false)
	off := sizeOf()
	c.SetWriteCompression(true)
	on := sizeOf()
	if err := c.SetCompressionLevel(-3); err != ErrCompressionLevel {
		t.Errorf("level -3: %v", err)
	}
	t.Logf("5000-byte JSON: level 9 %d, level 0 %d, level 1 %d, off %d, on again %d bytes", l9, l0, l1, off, on)
	if !(l9 <= l1 && l1 < l0 && l0 > len(msg) && off == len(msg) && on == l1) {
		t.Errorf("sizes do not follow the settings")
	}
}

// TestDeflatePrepared: a prepared message is compressed once per level
// and sent to server and client connections.
func TestDeflatePrepared(t *testing.T) {
	cfg := deflateServerConfig()
	var mu sync.Mutex
	var conns []*Conn
	cfg.OnOpen = func(c *Conn) { mu.Lock(); conns = append(conns, c); mu.Unlock() }
	_, addr := startEngine(t, cfg)
	var peers []*wsPeer
	for i := 0; i < 4; i++ {
		offers := DeflateOffer
		if i == 3 {
			offers = nil // uncompressed
		}
		p, _ := peerClient(t, addr, offers)
		peers = append(peers, p)
	}
	waitFor(t, "connections", 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(conns) == 4 })
	msg := deflatePayload("json", 3000)
	pm, err := NewPrepared(frame.OpText, msg)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	for _, c := range conns {
		if c.Compressed() && c.RemoteAddr().Port() == uint16(peers[2].conn.LocalAddr().(*net.TCPAddr).Port) {
			c.SetCompressionLevel(9)
		}
	}
	if failed := Broadcast(conns, pm); failed != 0 {
		t.Fatalf("%d sends failed", failed)
	}
	mu.Unlock()
	for i, p := range peers {
		p.expectMessage(frame.OpText, msg, i < 3)
	}
	pm.mu.Lock()
	levels := len(pm.deflated)
	pm.mu.Unlock()
	if levels != 2 {
		t.Errorf("compressed %d times for 2 levels", levels)
	}

	// A client connection sends it compressed and masked.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	cli := newClientEngine(t, Config{})
	ch := make(chan *Conn, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, _ := cli.Dial(ctx, "ws://"+ln.Addr().String()+"/", &DialOptions{Deflate: DeflateOffer})
		ch <- c
	}()
	ps, _ := peerServer(t, ln, &upgrade.DeflatePolicy{})
	c := <-ch
	if c == nil {
		t.Fatal("dial failed")
	}
	if err := c.WritePrepared(pm); err != nil {
		t.Fatal(err)
	}
	ps.expectMessage(frame.OpText, msg, true)
}

// TestDeflateBomb: a compressed message inflating far past the read limit
// is refused with 1009 as soon as the limit is passed, with memory kept
// near the limit. DEFLATE's ratio is at most 1032:1, so a 1 KiB message
// cannot inflate to 1 GiB; the test sends the biggest honest
// equivalents: about 1 MB inflating to 1 GiB against a 1 MiB limit, and
// about 1 KiB inflating to 1 MiB against a 64 KiB limit.
func TestDeflateBomb(t *testing.T) {
	for _, c := range []struct {
		mib   int
		limit int64
	}{{1, 64 << 10}, {1024, 1 << 20}} {
		cfg := deflateServerConfig()
		cfg.MaxMessageSize = c.limit
		srv, addr := startEngine(t, cfg)
		bomb := zeroBomb(t, c.mib)
		p, _ := peerClient(t, addr, DeflateOffer)
		wire := p.frames(frame.OpBinary, frame.Rsv1, bomb, 0)
		before := memSnapshot()
		p.write(wire)
		p.expectClose(frame.CloseMessageTooBig)
		after := memSnapshot()
		alloc := float64(after.TotalAlloc-before.TotalAlloc) / (1 << 20)
		t.Logf("%d compressed bytes inflating to %d MiB, limit %d KiB: refused with 1009; %.1f MiB allocated meanwhile (both engines and the test), heap in use %+.1f MiB",
			len(bomb), c.mib, c.limit>>10, alloc, (float64(after.HeapInuse)-float64(before.HeapInuse))/(1<<20))
		if !raceEnabled && alloc > 16 {
			t.Errorf("refusing the bomb allocated %.1f MiB, want a few MiB", alloc)
		}
		if s := srv.Stats(); s.ProtocolErrors != 1 || s.MessagesIn != 0 {
			t.Errorf("stats %v", s)
		}
	}
}

// zeroBomb returns DEFLATE data (tail removed) inflating to mib MiB of
// zeros; see the frame package's test of the same name.
func zeroBomb(t testing.TB, mib int) []byte {
	t.Helper()
	// Pieces joined inside one message keep their sync-flush tails; only
	// the message's own is removed.
	tail := []byte{0, 0, 0xff, 0xff}
	c, _ := frame.NewCompressor(9, true)
	zeros := make([]byte, 1<<20)
	a := append(c.Append(nil, zeros), tail...)
	b := append(c.Append(nil, zeros), tail...)
	build := func(mib int) []byte {
		out := bytes.Clone(a)
		for i := 1; i < mib; i++ {
			out = append(out, b...)
		}
		return out[:len(out)-4]
	}
	if got, err := frame.AppendInflate(nil, build(3), 0); err != nil || len(got) != 3<<20 {
		t.Fatalf("bomb construction: %v, %d bytes", err, len(got))
	}
	return build(mib)
}

func memSnapshot() runtime.MemStats {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

// TestDeflateAdopt: a connection upgraded by net/http (UpgradeHTTP with a
// DeflatePolicy) and adopted by the engine compresses from the first
// write, even one made before the loop has run.
func TestDeflateAdopt(t *testing.T) {
	cfg := echoConfig()
	cfg.Compression.Threshold = -1
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	up := upgrade.Server{CheckOriginHTTP: func(*http.Request) bool { return true }, Deflate: &upgrade.DeflatePolicy{}}
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
		if !c.Compressed() {
			t.Errorf("adopted connection not compressed: %+v", res)
		}
		if err := c.WriteMessage(frame.OpText, []byte("welcome")); err != nil {
			t.Errorf("write after Adopt: %v", err)
		}
	}))
	defer hs.Close()
	p, res := peerClient(t, hs.Listener.Addr().String(), DeflateOffer)
	if !res.Deflate {
		t.Fatal("UpgradeHTTP declined")
	}
	p.expectMessage(frame.OpText, []byte("welcome"), true)
	msg := deflatePayload("json", 3000)
	p.sendCompressed(frame.OpText, msg, 512)
	p.expectMessage(frame.OpText, msg, true)
}

// TestDeflateAdoptLimit: a connection adopted with its own MaxMessageSize
// holds compressed messages to that limit once inflated, not to the
// engine's: a message inflating past it is refused with 1009, and one
// within it is delivered even though it is past the engine's limit.
func TestDeflateAdoptLimit(t *testing.T) {
	for _, c := range []struct {
		name      string
		engine    int64 // Config.MaxMessageSize
		conn      int64 // AdoptOptions.MaxMessageSize
		refuse    bool
		msgLength int
	}{
		{"tighter", 64 << 10, 1000, true, 3000},
		{"looser", 1000, 64 << 10, false, 3000},
		{"unlimited", 1000, -1, false, 3000},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := echoConfig()
			cfg.MaxMessageSize = c.engine
			cfg.Compression.Threshold = -1
			e, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			up := upgrade.Server{CheckOriginHTTP: func(*http.Request) bool { return true }, Deflate: &upgrade.DeflatePolicy{}}
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				nc, rw, res, err := up.UpgradeHTTP(w, r, nil)
				if err != nil {
					t.Errorf("UpgradeHTTP: %v", err)
					return
				}
				buffered, _ := rw.Reader.Peek(rw.Reader.Buffered())
				if _, err := e.AdoptWith(nc, buffered, res, &AdoptOptions{MaxMessageSize: c.conn}); err != nil {
					t.Errorf("AdoptWith: %v", err)
				}
			}))
			defer hs.Close()
			p, res := peerClient(t, hs.Listener.Addr().String(), DeflateOffer)
			if !res.Deflate {
				t.Fatal("UpgradeHTTP declined")
			}
			msg := deflatePayload("json", c.msgLength)
			// Small compressed frames: the parser's bound on compressed
			// bytes is not what is tested.
			p.sendCompressed(frame.OpText, msg, 100)
			if c.refuse {
				p.expectClose(frame.CloseMessageTooBig)
			} else {
				p.expectMessage(frame.OpText, msg, true)
			}
		})
	}
}

// TestDeflateSkipUTF8: Config.SkipUTF8 covers compressed text messages as
// it covers uncompressed ones: invalid UTF-8 is delivered, not refused.
func TestDeflateSkipUTF8(t *testing.T) {
	cfg := deflateServerConfig()
	cfg.SkipUTF8 = true
	_, addr := startEngine(t, cfg)
	p, res := peerClient(t, addr, DeflateOffer)
	if !res.Deflate {
		t.Fatal("declined")
	}
	msg := []byte("ok \xff\xfe not UTF-8")
	p.write(p.frames(frame.OpText, 0, msg, 0))
	p.expectMessage(frame.OpText, msg, true)
	p.sendCompressed(frame.OpText, msg, 0)
	p.expectMessage(frame.OpText, msg, true)
}
