package frame

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// The Autobahn|Testsuite's groups 1-7 (see shared/reference/conformance-cases.md),
// as seen by the frame parser of a server: each case is the client's frames
// and what the parser must deliver, checked whole, frame by frame, byte by
// byte and at random splits.

type autobahnCase struct {
	name   string
	frames []wireFrame
	want   expectation
}

func ok(events ...event) expectation { return expectation{events: events} }
func fails(code CloseCode, events ...event) expectation {
	return expectation{events: events, code: code}
}

func repeat(b byte, n int) string { return strings.Repeat(string([]byte{b}), n) }

func mustHex(s string) string {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return string(b)
}

func closePayload(code CloseCode, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

func autobahnCases() []autobahnCase {
	var cs []autobahnCase
	add := func(name string, want expectation, frames ...wireFrame) {
		cs = append(cs, autobahnCase{name, frames, want})
	}

	// Group 1: framing lengths, text and binary.
	for i, n := range []int{0, 125, 126, 127, 128, 65535, 65536} {
		s := repeat('*', n)
		add(fmt.Sprintf("1.1.%d", i+1), ok(ev(OpText, s)), textF(s))
		b := repeat(0xfe, n)
		add(fmt.Sprintf("1.2.%d", i+1), ok(ev(OpBinary, b)), binF([]byte(b)))
	}

	// Group 2: ping and pong.
	add("2.1", ok(ev(OpPing, "")), pingF(""))
	add("2.2", ok(ev(OpPing, "Hello, world!")), pingF("Hello, world!"))
	add("2.3", ok(ev(OpPing, mustHex("00fffefdfcfb00ff"))), pingF(mustHex("00fffefdfcfb00ff")))
	add("2.4", ok(ev(OpPing, repeat(0xfe, 125))), pingF(repeat(0xfe, 125)))
	add("2.5", fails(CloseProtocolError), pingF(repeat(0xfe, 126)))
	add("2.7", ok(ev(OpPong, ""), ev(OpClose, string(closePayload(1000, "")))), pongF(""), closeF(closePayload(1000, "")))
	add("2.8", ok(ev(OpPong, "unsolicited pong payload")), pongF("unsolicited pong payload"))
	add("2.9", ok(ev(OpPong, "unsolicited pong payload"), ev(OpPing, "ping payload")),
		pongF("unsolicited pong payload"), pingF("ping payload"))
	var pings []wireFrame
	var pingEvents []event
	for i := 0; i < 10; i++ {
		s := fmt.Sprintf("payload-%d", i)
		pings = append(pings, pingF(s))
		pingEvents = append(pingEvents, ev(OpPing, s))
	}
	add("2.10", ok(pingEvents...), pings...)

	// Group 3: reserved bits without an extension.
	hello := "Hello, world!"
	withRsv := func(f wireFrame, rsv uint8) wireFrame { f.rsv = rsv; return f }
	add("3.1", fails(CloseProtocolError), withRsv(textF(hello), 1))
	add("3.2", fails(CloseProtocolError, ev(OpText, hello)), textF(hello), withRsv(textF(hello), 2), pingF(""))
	add("3.4", fails(CloseProtocolError, ev(OpText, hello)), textF(hello), withRsv(textF(hello), 4), pingF(""))
	add("3.5", fails(CloseProtocolError), withRsv(binF([]byte{0xff, 0xfe}), 5))
	add("3.6", fails(CloseProtocolError), withRsv(binF([]byte{0xff, 0xfe}), 6))
	add("3.7", fails(CloseProtocolError), withRsv(closeF(closePayload(1000, "")), 7))

	// Group 4: reserved opcodes.
	reserved := func(op Opcode, p string) wireFrame { return wireFrame{fin: true, op: op, payload: []byte(p)} }
	add("4.1.1", fails(CloseProtocolError), reserved(3, ""))
	add("4.1.2", fails(CloseProtocolError), reserved(4, "reserved opcode payload"))
	for i, op := range []Opcode{5, 6, 7} {
		add(fmt.Sprintf("4.1.%d", i+3), fails(CloseProtocolError, ev(OpText, hello)), textF(hello), reserved(op, ""), pingF(""))
	}
	add("4.2.1", fails(CloseProtocolError), reserved(11, ""))
	add("4.2.2", fails(CloseProtocolError), reserved(12, "reserved opcode payload"))
	for i, op := range []Opcode{13, 14, 15} {
		add(fmt.Sprintf("4.2.%d", i+3), fails(CloseProtocolError, ev(OpText, hello)), textF(hello), reserved(op, ""), pingF(""))
	}

	// Group 5: fragmentation.
	add("5.1", fails(CloseProtocolError), wireFrame{op: OpPing, payload: []byte("fragment1")}, contF("fragment2", true))
	add("5.2", fails(CloseProtocolError), wireFrame{op: OpPong, payload: []byte("fragment1")}, contF("fragment2", true))
	add("5.3", ok(ev(OpText, "fragment1fragment2")), openF(OpText, "fragment1"), contF("fragment2", true))
	add("5.6", ok(ev(OpPing, "ping payload"), ev(OpText, "fragment1fragment2")),
		openF(OpText, "fragment1"), pingF("ping payload"), contF("fragment2", true))
	add("5.9", fails(CloseProtocolError), contF("non-continuation payload", true), textF(hello))
	add("5.12", fails(CloseProtocolError), contF("non-continuation payload", false), textF(hello))
	add("5.15", fails(CloseProtocolError, ev(OpText, "fragment1fragment2")),
		openF(OpText, "fragment1"), contF("fragment2", true), contF("fragment3", false), textF("fragment4"))
	add("5.16", fails(CloseProtocolError), contF("fragment1", false), openF(OpText, "fragment2"), contF("fragment3", true))
	add("5.17", fails(CloseProtocolError), contF("fragment1", true), openF(OpText, "fragment2"), contF("fragment3", true))
	add("5.18", fails(CloseProtocolError), openF(OpText, "fragment1"), textF("fragment2"))
	add("5.19", ok(ev(OpPing, "pongme 1!"), ev(OpPing, "pongme 2!"), ev(OpText, "fragment1fragment2fragment3fragment4fragment5")),
		openF(OpText, "fragment1"), contF("fragment2", false), pingF("pongme 1!"),
		contF("fragment3", false), contF("fragment4", false), pingF("pongme 2!"), contF("fragment5", true))

	// Group 6: UTF-8 in text messages.
	add("6.1.1", ok(ev(OpText, "")), textF(""))
	add("6.1.2", ok(ev(OpText, "")), openF(OpText, ""), contF("", false), contF("", true))
	add("6.1.3", ok(ev(OpText, "middle frame payload")), openF(OpText, ""), contF("middle frame payload", false), contF("", true))
	mixed := "Hello-µ@ßöäüàá-UTF-8!!"
	add("6.2.1", ok(ev(OpText, mixed)), textF(mixed))
	add("6.2.2", ok(ev(OpText, mixed)), openF(OpText, "Hello-µ@ßö"), contF("äüàá-UTF-8!!", true))
	add("6.2.3", ok(ev(OpText, mixed)), bytewise(OpText, mixed)...)
	kosme := mustHex("cebae1bdb9cf83cebcceb5")
	add("6.2.4", ok(ev(OpText, kosme)), bytewise(OpText, kosme)...)
	bad := kosme + mustHex("eda080") + "edited"
	add("6.3.1", fails(CloseInvalidPayload), textF(bad))
	add("6.3.2", fails(CloseInvalidPayload), bytewise(OpText, bad)...)
	fast := kosme + mustHex("f4908080") + "edited"
	add("6.4.1", fails(CloseInvalidPayload), openF(OpText, fast[:11]), contF(fast[11:15], false), contF(fast[15:], true))
	add("6.4.2", fails(CloseInvalidPayload), openF(OpText, fast[:12]), contF(fast[12:13], false), contF(fast[13:], true))
	for _, v := range utf8Vectors() {
		if v.valid {
			add(v.name, ok(ev(OpText, v.text)), textF(v.text))
		} else {
			add(v.name, fails(CloseInvalidPayload), textF(v.text))
		}
	}

	// Group 7: close frames. The parser checks the payload; replying and
	// stopping after a close is the connection's job.
	add("7.1.1", ok(ev(OpText, "Hello World!"), ev(OpClose, string(closePayload(1000, "")))),
		textF("Hello World!"), closeF(closePayload(1000, "")))
	add("7.1.5", ok(ev(OpClose, string(closePayload(1000, ""))), ev(OpText, "fragment1fragment2")),
		openF(OpText, "fragment1"), closeF(closePayload(1000, "")), contF("fragment2", true))
	add("7.3.1", ok(ev(OpClose, "")), closeF(nil))
	add("7.3.2", fails(CloseProtocolError), closeF([]byte{0x03}))
	add("7.3.3", ok(ev(OpClose, string(closePayload(1000, "")))), closeF(closePayload(1000, "")))
	add("7.3.4", ok(ev(OpClose, string(closePayload(1000, "Hello World!")))), closeF(closePayload(1000, "Hello World!")))
	add("7.3.5", ok(ev(OpClose, string(closePayload(1000, repeat('*', 123))))), closeF(closePayload(1000, repeat('*', 123))))
	add("7.3.6", fails(CloseProtocolError), closeF(closePayload(1000, repeat('*', 124))))
	add("7.5.1", fails(CloseProtocolError), closeF(closePayload(1000, bad)))
	for i, code := range []CloseCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		p := string(closePayload(code, ""))
		add(fmt.Sprintf("7.7.%d", i+1), ok(ev(OpClose, p)), closeF([]byte(p)))
	}
	for i, code := range []CloseCode{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		add(fmt.Sprintf("7.9.%d", i+1), fails(CloseProtocolError), closeF(closePayload(code, "")))
	}
	add("7.13.1", fails(CloseProtocolError), closeF(closePayload(5000, "")))
	add("7.13.2", fails(CloseProtocolError), closeF(closePayload(65535, "")))
	return cs
}

// bytewise splits s into a fragmented message of one-byte frames.
func bytewise(op Opcode, s string) []wireFrame {
	fs := make([]wireFrame, len(s))
	for i := 0; i < len(s); i++ { // bytes, not runes
		fs[i] = contF(s[i:i+1], i == len(s)-1)
	}
	fs[0].op = op
	return fs
}

func TestAutobahnGroups1to7(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, c := range autobahnCases() {
		frames := stream(true, c.frames...)
		for _, ch := range choppings {
			t.Run(c.name+"/"+ch.String(), func(t *testing.T) {
				var p Parser
				c.want.check(t, run(t, &p, chop(frames, ch, rng)))
			})
		}
	}
}

// TestAutobahnFailFast checks the 6.4.x cases byte by byte: the connection
// must fail on the byte that makes the text invalid, not before and not at
// the end of the message.
func TestAutobahnFailFast(t *testing.T) {
	fast := mustHex("cebae1bdb9cf83cebcceb5") + mustHex("f4908080") + "edited"
	for _, tc := range []struct {
		name  string
		parts []wireFrame
	}{
		{"6.4.1", []wireFrame{openF(OpText, fast[:11]), contF(fast[11:15], false), contF(fast[15:], true)}},
		{"6.4.2", []wireFrame{openF(OpText, fast[:12]), contF(fast[12:13], false), contF(fast[13:], true)}},
		{"6.4.3", []wireFrame{textF(fast)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames := stream(true, tc.parts...)
			all := bytes.Join(frames, nil)
			// The byte that makes the text invalid is 0x90, the second byte
			// of f4 90 80 80; find where it sits in the stream.
			var p Parser
			res := run(t, &p, chop(frames, chopBytes, nil))
			if res.err != ErrInvalidUTF8 {
				t.Fatalf("err = %v, want ErrInvalidUTF8", res.err)
			}
			payloadAt := payloadOffsets(frames)
			want := payloadAt[12] // the 13th payload byte is 0x90
			if res.errAt != want {
				t.Fatalf("failed at stream byte %d (%#x), want %d (%#x)", res.errAt, all[res.errAt], want, all[want])
			}
		})
	}
}

// payloadOffsets maps each payload byte, counted across frames, to its
// offset in the concatenated stream.
func payloadOffsets(frames [][]byte) []int {
	var offs []int
	base := 0
	for _, f := range frames {
		_, n, _, _ := DecodeHeader(f)
		for i := n; i < len(f); i++ {
			offs = append(offs, base+i)
		}
		base += len(f)
	}
	return offs
}
