package engine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/lullws/lull/frame"
)

// wireFrame is one frame as it crossed the wire.
type wireFrame struct {
	fin     bool
	rsv     uint8
	op      frame.Opcode // as in the header: OpContinuation for later fragments
	masked  bool
	payload string
}

func (f wireFrame) String() string {
	return fmt.Sprintf("{fin %v rsv %d op %v masked %v %q}", f.fin, f.rsv, f.op, f.masked, f.payload)
}

// readFrames reads n frames from r with p, header by header.
func readFrames(t *testing.T, conn net.Conn, r *bufio.Reader, p *frame.Parser, rest *[]byte, n int) []wireFrame {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var out []wireFrame
	var payload []byte
	buf := make([]byte, 64<<10)
	for len(out) < n {
		for len(*rest) > 0 && len(out) < n {
			f, k, ok, err := p.Next(*rest)
			*rest = (*rest)[k:]
			if err != nil {
				t.Fatalf("after %v: %v", out, err)
			}
			if !ok {
				break
			}
			payload = append(payload, f.Payload...)
			if f.FrameEnd {
				h := p.Frame()
				out = append(out, wireFrame{h.Fin, h.Rsv, h.Opcode, h.Masked, string(payload)})
				payload = payload[:0]
			}
		}
		if len(out) == n {
			break
		}
		k, err := r.Read(buf)
		if k == 0 && err != nil {
			t.Fatalf("after %v: %v", out, err)
		}
		*rest = append((*rest)[:0:0], buf[:k]...)
	}
	return out
}

func checkFrames(t *testing.T, got, want []wireFrame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d frames %v, want %v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("frame %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

// TestWriteFragment: a server sends a text message in three fragments with
// a ping between them, and the misuses fail without sending anything.
func TestWriteFragment(t *testing.T) {
	ev := newEvents()
	cfg := echoConfig()
	cfg.OnMessage = func(*Conn, frame.Opcode, []byte) {}
	ev.hook(&cfg)
	_, addr := startEngine(t, cfg)
	rc := dialRaw(t, addr)
	rc.handshake()
	c := ev.firstOpen(t)

	steps := []struct {
		what string
		err  error
		do   func() error
	}{
		{"a continuation with nothing begun", ErrNoFragmentOpen, func() error { return c.WriteFragment(frame.OpContinuation, []byte("x"), true) }},
		{"a ping through WriteFragment", ErrBadOpcode, func() error { return c.WriteFragment(frame.OpPing, nil, true) }},
		{"the first fragment", nil, func() error { return c.WriteFragment(frame.OpText, []byte("Hel"), false) }},
		{"WriteMessage meanwhile", ErrFragmentOpen, func() error { return c.WriteMessage(frame.OpBinary, []byte("no")) }},
		{"WritePrepared meanwhile", ErrFragmentOpen, func() error {
			pm, _ := NewPrepared(frame.OpBinary, []byte("no"))
			return c.WritePrepared(pm)
		}},
		{"another first fragment", ErrFragmentOpen, func() error { return c.WriteFragment(frame.OpBinary, []byte("no"), true) }},
		{"a ping between fragments", nil, func() error { return c.Ping([]byte("p")) }},
		{"an empty fragment", nil, func() error { return c.WriteFragment(frame.OpContinuation, nil, false) }},
		{"a fragment ending inside a UTF-8 sequence", nil, func() error { return c.WriteFragment(frame.OpContinuation, []byte("lo, \xe4\xb8"), false) }},
		{"the last fragment, ending it", nil, func() error { return c.WriteFragment(frame.OpContinuation, []byte("\x96"), true) }},
		{"a continuation after the end", ErrNoFragmentOpen, func() error { return c.WriteFragment(frame.OpContinuation, []byte("x"), true) }},
		{"a whole message after it", nil, func() error { return c.WriteMessage(frame.OpBinary, []byte("after")) }},
		{"a one-fragment message", nil, func() error { return c.WriteFragment(frame.OpBinary, []byte("one"), true) }},
	}
	for _, s := range steps {
		if err := s.do(); err != s.err {
			t.Fatalf("%s: %v, want %v", s.what, err, s.err)
		}
	}
	// The raw client's parser validates the text across its fragments.
	checkFrames(t, readFrames(t, rc.conn, rc.r, &rc.parser, &rc.rest, 7), []wireFrame{
		{fin: false, op: frame.OpText, payload: "Hel"},
		{fin: true, op: frame.OpPing, payload: "p"},
		{fin: false, op: frame.OpContinuation, payload: ""},
		{fin: false, op: frame.OpContinuation, payload: "lo, \xe4\xb8"},
		{fin: true, op: frame.OpContinuation, payload: "\x96"},
		{fin: true, op: frame.OpBinary, payload: "after"},
		{fin: true, op: frame.OpBinary, payload: "one"},
	})
	if s := c.loop.eng.Stats(); s.MessagesOut != 3 {
		t.Errorf("Stats().MessagesOut = %d, want 3 (a fragmented message counts once, when it ends)", s.MessagesOut)
	}
}

// TestWriteFragmentClient: a client's fragments are masked each with its
// own key, and the engine's server reassembles the message.
func TestWriteFragmentClient(t *testing.T) {
	rs := listenRaw(t)
	cli := newClientEngine(t, Config{})
	done := make(chan *Conn, 1)
	go func() { done <- dial(t, cli, rs.url()) }()
	rs.accept(true)
	c := <-done
	parts := []string{"frag", "ment", "ed"}
	for i, p := range parts {
		op := frame.OpContinuation
		if i == 0 {
			op = frame.OpBinary
		}
		if err := c.WriteFragment(op, []byte(p), i == len(parts)-1); err != nil {
			t.Fatal(err)
		}
	}
	rs.parser.Client = false
	got := readFrames(t, rs.conn, rs.r, &rs.parser, &rs.rest, 3)
	checkFrames(t, got, []wireFrame{
		{fin: false, op: frame.OpBinary, masked: true, payload: "frag"},
		{fin: false, op: frame.OpContinuation, masked: true, payload: "ment"},
		{fin: true, op: frame.OpContinuation, masked: true, payload: "ed"},
	})
}

// TestWriteFragmentDeflate: with permessage-deflate negotiated both ways,
// fragments go out uncompressed and the far side's engine takes them as
// one message, between compressed ones.
func TestWriteFragmentDeflate(t *testing.T) {
	cfg := deflateServerConfig()
	cfg.OnMessage = func(c *Conn, op frame.Opcode, data []byte) {
		// Echo in two fragments, then whole (compressed).
		half := len(data) / 2
		c.WriteFragment(op, data[:half], false)
		c.WriteFragment(frame.OpContinuation, data[half:], true)
		c.WriteMessage(op, data)
	}
	_, addr := startEngine(t, cfg)
	got := make(chan string, 4)
	cli := newClientEngine(t, Config{
		Compression: Compression{Threshold: -1},
		OnMessage:   func(c *Conn, op frame.Opcode, data []byte) { got <- string(data) },
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := cli.Dial(ctx, "ws://"+addr+"/", &DialOptions{Deflate: DeflateOffer})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Compressed() {
		t.Fatal("permessage-deflate not negotiated")
	}
	msg := bytes.Repeat([]byte("fragmented and compressed, "), 40)
	if err := c.WriteFragment(frame.OpText, msg[:100], false); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFragment(frame.OpContinuation, msg[100:], true); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		select {
		case b := <-got:
			if b != string(msg) {
				t.Fatalf("echo %d: %d bytes, want the %d sent", i, len(b), len(msg))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("echo %d did not arrive", i)
		}
	}
	s := cli.Stats()
	if s.MessagesOut != 1 || s.CompressedOut != 0 || s.MessagesIn != 2 || s.CompressedIn != 1 {
		t.Errorf("client stats %+v: want 1 message out uncompressed, 2 in of which 1 compressed", s)
	}
}
