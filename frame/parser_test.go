package frame

import (
	"bytes"
	"math/rand"
	"testing"
)

func TestParserMaskRules(t *testing.T) {
	// A server's parser requires masked frames; a client's forbids them.
	var server Parser
	res := run(t, &server, stream(false, textF("hi")))
	if res.err != ErrMaskRequired {
		t.Errorf("server got unmasked frame: err = %v, want ErrMaskRequired", res.err)
	}
	client := Parser{Client: true}
	res = run(t, &client, stream(true, textF("hi")))
	if res.err != ErrMaskForbidden {
		t.Errorf("client got masked frame: err = %v, want ErrMaskForbidden", res.err)
	}
	client = Parser{Client: true}
	res = run(t, &client, stream(false, textF("hi"), pingF("p")))
	if res.err != nil || len(res.events) != 2 {
		t.Errorf("client on unmasked frames: %v %v", res.events, res.err)
	}
}

func TestParserMessageSizeLimit(t *testing.T) {
	for _, ch := range choppings {
		t.Run(ch.String(), func(t *testing.T) {
			rng := rand.New(rand.NewSource(2))
			// Exactly the limit passes, across frames and with a ping between.
			p := Parser{MaxMessageSize: 10}
			frames := stream(true, openF(OpBinary, "12345"), pingF("not counted"), contF("67890", true))
			expectation{events: []event{ev(OpPing, "not counted"), ev(OpBinary, "1234567890")}}.check(t, run(t, &p, chop(frames, ch, rng)))

			// One byte more fails at the header, before any payload is read.
			p = Parser{MaxMessageSize: 10}
			frames = stream(true, openF(OpBinary, "12345"), contF("678901", true))
			res := run(t, &p, chop(frames, ch, rng))
			if res.err != ErrMessageTooBig || res.err.(*Error).Code != CloseMessageTooBig {
				t.Fatalf("err = %v, want ErrMessageTooBig", res.err)
			}
			if ch == chopBytes && res.errAt != len(frames[0])+6-1 {
				t.Fatalf("failed at byte %d, want the last header byte %d", res.errAt, len(frames[0])+5)
			}
		})
	}
	// A huge announced length is refused without waiting for the payload.
	p := Parser{MaxMessageSize: 1 << 20}
	huge := int64(1 << 40)
	b := wireFrame{fin: true, op: OpBinary, rawLen: &huge}.encode(true, 0)
	if _, _, _, err := p.Next(b); err != ErrMessageTooBig {
		t.Fatalf("err = %v, want ErrMessageTooBig", err)
	}
}

func TestParserCompression(t *testing.T) {
	compressed := func(f wireFrame) wireFrame { f.rsv = Rsv1; return f }
	for _, ch := range choppings {
		rng := rand.New(rand.NewSource(3))
		p := Parser{Compression: true}
		frames := stream(true, compressed(openF(OpText, "\xff\x00")), pingF("x"), contF("\xfe", true), textF("plain"))
		res := run(t, &p, chop(frames, ch, rng))
		// Compressed text is not UTF-8 checked here; plain text still is.
		expectation{events: []event{ev(OpPing, "x"), ev(OpText, "\xff\x00\xfe"), ev(OpText, "plain")}}.check(t, res)

		for _, bad := range [][]wireFrame{
			{openF(OpText, "a"), compressed(contF("b", true))},
			{compressed(pingF("x"))},
			{compressed(closeF(nil))},
		} {
			p := Parser{Compression: true}
			if res := run(t, &p, chop(stream(true, bad...), ch, rng)); res.err != ErrCompressedCont {
				t.Errorf("%s: err = %v, want ErrCompressedCont", ch, res.err)
			}
		}
		p = Parser{}
		if res := run(t, &p, chop(stream(true, compressed(textF("a"))), ch, rng)); res.err != ErrReservedBits {
			t.Errorf("RSV1 without negotiation: err = %v, want ErrReservedBits", res.err)
		}
	}
	var p Parser
	p.Compression = true
	f, _, _, _ := p.Next(wireFrame{fin: true, op: OpBinary, rsv: Rsv1, payload: []byte("z")}.encode(true, 1))
	if !f.Compressed {
		t.Errorf("fragment of an RSV1 message not marked Compressed")
	}
}

func TestParserSkipUTF8(t *testing.T) {
	p := Parser{SkipUTF8: true}
	res := run(t, &p, stream(true, textF("\xff"), closeF(closePayload(1000, "\xff"))))
	if len(res.events) != 1 || res.err != ErrCloseReasonUTF8 {
		t.Fatalf("got %v, %v; want the text delivered, then the close reason refused", res.events, res.err)
	}
}

func TestParserErrorIsSticky(t *testing.T) {
	var p Parser
	frames := stream(true, wireFrame{fin: true, op: 3}, textF("after"))
	all := bytes.Join(frames, nil)
	_, n, _, err := p.Next(all)
	if err != ErrReservedOpcode {
		t.Fatalf("err = %v", err)
	}
	for i := 0; i < 3; i++ {
		if _, m, ok, err2 := p.Next(all[n:]); err2 != err || ok || m != 0 {
			t.Fatalf("after failure: n=%d ok=%v err=%v", m, ok, err2)
		}
	}
	if p.Err() != err {
		t.Fatalf("Err() = %v", p.Err())
	}
	p.Reset()
	res := run(t, &p, stream(true, textF("again")))
	if res.err != nil || len(res.events) != 1 {
		t.Fatalf("after Reset: %v %v", res.events, res.err)
	}
}

// TestParserInvalidTextPrefix checks that the valid part of a text frame
// before an invalid byte is handed on, then the error, whatever the split.
func TestParserInvalidTextPrefix(t *testing.T) {
	frames := stream(true, textF("abc\xffdef"))
	for _, ch := range choppings {
		var p Parser
		var got []byte
		var err error
		for _, c := range chop(frames, ch, rand.New(rand.NewSource(4))) {
			for len(c) > 0 && err == nil {
				var f Fragment
				var n int
				var ok bool
				f, n, ok, err = p.Next(c)
				c = c[n:]
				if ok {
					got = append(got, f.Payload...)
				} else {
					break
				}
			}
		}
		if string(got) != "abc" || err != ErrInvalidUTF8 {
			t.Errorf("%s: delivered %q then %v; want \"abc\" then ErrInvalidUTF8", ch, got, err)
		}
	}
}

func TestParserState(t *testing.T) {
	var p Parser
	frames := stream(true, openF(OpBinary, "ab"), contF("cd", true))
	f, n, ok, err := p.Next(frames[0])
	if !ok || err != nil || n != len(frames[0]) || !f.Start || !f.FrameEnd || f.End {
		t.Fatalf("first frame: %+v n=%d ok=%v err=%v", f, n, ok, err)
	}
	if !p.InMessage() || p.Frame().Fin || p.Frame().Opcode != OpBinary {
		t.Fatalf("state after first frame: InMessage=%v Frame=%+v", p.InMessage(), p.Frame())
	}
	f, _, ok, _ = p.Next(frames[1])
	if !ok || f.Start || !f.End || p.InMessage() || p.Frame().Opcode != OpContinuation {
		t.Fatalf("second frame: %+v, InMessage=%v", f, p.InMessage())
	}
}

func TestParserAllocs(t *testing.T) {
	msgs := benchStream(100, 64, OpText)
	var p Parser
	buf := make([]byte, len(msgs))
	parseAllocs := testing.AllocsPerRun(20, func() {
		copy(buf, msgs)
		p.Reset()
		for b := buf; len(b) > 0; {
			_, n, _, err := p.Next(b)
			if err != nil {
				panic(err)
			}
			b = b[n:]
		}
	})
	if parseAllocs != 0 {
		t.Fatalf("parsing a stream allocates %v times per run", parseAllocs)
	}
}

// benchStream returns n masked messages of size bytes each, as a client
// sends them.
func benchStream(n, size int, op Opcode) []byte {
	payload := bytes.Repeat([]byte("lull-frame-"), size/11+1)[:size]
	var out []byte
	for i := 0; i < n; i++ {
		h := Header{Fin: true, Opcode: op, Masked: true, Key: [4]byte{byte(i), 2, 3, 4}}
		out = AppendFrame(out, h, payload)
	}
	return out
}
