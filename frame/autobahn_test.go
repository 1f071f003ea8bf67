package frame

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand"
	"slices"
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
	// sent is how the suite writes the frames to TCP, when it matters to
	// the case: the test feeds every case whole, frame by frame, byte by
	// byte and at random splits, and also this way.
	sent chopping
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

// autobahnFailFast is the text of cases 6.4.x: "κόσμε" (11 bytes), then
// f4 90 80 80 (U+110000, invalid at its second byte, 90), then "edited".
var autobahnFailFast = mustHex("cebae1bdb9cf83cebcceb5") + mustHex("f4908080") + "edited"

// autobahnCases returns the 246 cases of groups 1-7, numbered and described
// as in shared/reference/conformance-cases.md §3.1-3.7, with what a
// server's parser must deliver for each: the messages and control frames
// in order, then the error, if any. Replying (echo, pong, close) is the
// connection's job and is not judged here; nor is ignoring frames after a
// close (7.1.2-7.1.6), which the parser reads like any other.
func autobahnCases() []autobahnCase {
	var cs []autobahnCase
	add := func(name string, sent chopping, want expectation, frames ...wireFrame) {
		cs = append(cs, autobahnCase{name, frames, want, sent})
	}

	// Group 1: framing lengths, text and binary; x.8 is the 64 KiB
	// message again in 997-byte TCP writes.
	for i, n := range []int{0, 125, 126, 127, 128, 65535, 65536, 65536} {
		sent := chopWhole
		if i == 7 {
			sent = chop997
		}
		s := repeat('*', n)
		add(fmt.Sprintf("1.1.%d", i+1), sent, ok(ev(OpText, s)), textF(s))
		b := repeat(0xfe, n)
		add(fmt.Sprintf("1.2.%d", i+1), sent, ok(ev(OpBinary, b)), binF([]byte(b)))
	}

	// Group 2: ping and pong.
	closeNormal := closeF(closePayload(CloseNormal, ""))
	closeNormalEv := ev(OpClose, string(closePayload(CloseNormal, "")))
	add("2.1", chopWhole, ok(ev(OpPing, "")), pingF(""))
	add("2.2", chopWhole, ok(ev(OpPing, "Hello, world!")), pingF("Hello, world!"))
	add("2.3", chopWhole, ok(ev(OpPing, mustHex("00fffefdfcfb00ff"))), pingF(mustHex("00fffefdfcfb00ff")))
	add("2.4", chopWhole, ok(ev(OpPing, repeat(0xfe, 125))), pingF(repeat(0xfe, 125)))
	add("2.5", chopWhole, fails(CloseProtocolError), pingF(repeat(0xfe, 126)))
	add("2.6", chopBytes, ok(ev(OpPing, repeat(0xfe, 125))), pingF(repeat(0xfe, 125)))
	add("2.7", chopWhole, ok(ev(OpPong, ""), closeNormalEv), pongF(""), closeNormal)
	add("2.8", chopWhole, ok(ev(OpPong, "unsolicited pong payload"), closeNormalEv), pongF("unsolicited pong payload"), closeNormal)
	add("2.9", chopWhole, ok(ev(OpPong, "unsolicited pong payload"), ev(OpPing, "ping payload")),
		pongF("unsolicited pong payload"), pingF("ping payload"))
	var pings []wireFrame
	var pingEvents []event
	for i := 0; i < 10; i++ {
		s := fmt.Sprintf("payload-%d", i)
		pings = append(pings, pingF(s))
		pingEvents = append(pingEvents, ev(OpPing, s))
	}
	add("2.10", chopWhole, ok(pingEvents...), pings...)
	add("2.11", chopBytes, ok(pingEvents...), pings...)

	// Group 3: reserved bits without an extension. Where a valid text
	// comes first, it is delivered (the suite's OK verdict) and the ping
	// after the bad frame is not.
	hello := "Hello, world!"
	withRsv := func(f wireFrame, rsv uint8) wireFrame { f.rsv = rsv; return f }
	add("3.1", chopWhole, fails(CloseProtocolError), withRsv(textF(hello), 1))
	add("3.2", chopWhole, fails(CloseProtocolError, ev(OpText, hello)), textF(hello), withRsv(textF(hello), 2), pingF(""))
	add("3.3", chopFrames, fails(CloseProtocolError, ev(OpText, hello)), textF(hello), withRsv(textF(hello), 3), pingF(""))
	add("3.4", chopBytes, fails(CloseProtocolError, ev(OpText, hello)), textF(hello), withRsv(textF(hello), 4), pingF(""))
	add("3.5", chopWhole, fails(CloseProtocolError), withRsv(binF([]byte{0xff, 0xfe}), 5))
	add("3.6", chopWhole, fails(CloseProtocolError), withRsv(binF([]byte{0xff, 0xfe}), 6))
	add("3.7", chopWhole, fails(CloseProtocolError), withRsv(closeNormal, 7))

	// Group 4: reserved opcodes.
	reserved := func(op Opcode, p string) wireFrame { return wireFrame{fin: true, op: op, payload: []byte(p)} }
	for g, ops := range [][]Opcode{{3, 4, 5, 6, 7}, {11, 12, 13, 14, 15}} {
		add(fmt.Sprintf("4.%d.1", g+1), chopWhole, fails(CloseProtocolError), reserved(ops[0], ""))
		add(fmt.Sprintf("4.%d.2", g+1), chopWhole, fails(CloseProtocolError), reserved(ops[1], "reserved opcode payload"))
		for i, op := range ops[2:] {
			sent := chopWhole
			if i == 2 {
				sent = chopBytes
			}
			add(fmt.Sprintf("4.%d.%d", g+1, i+3), sent, fails(CloseProtocolError, ev(OpText, hello)), textF(hello), reserved(op, ""), pingF(""))
		}
	}

	// Group 5: fragmentation. Cases that differ only in how the suite
	// writes the frames come in threes: one write, frame-wise, octet-wise.
	threeWays := func(first int, want expectation, frames ...wireFrame) {
		for i, sent := range []chopping{chopWhole, chopFrames, chopBytes} {
			add(fmt.Sprintf("5.%d", first+i), sent, want, frames...)
		}
	}
	add("5.1", chopWhole, fails(CloseProtocolError), wireFrame{op: OpPing, payload: []byte("fragment1")}, contF("fragment2", true))
	add("5.2", chopWhole, fails(CloseProtocolError), wireFrame{op: OpPong, payload: []byte("fragment1")}, contF("fragment2", true))
	threeWays(3, ok(ev(OpText, "fragment1fragment2")), openF(OpText, "fragment1"), contF("fragment2", true))
	threeWays(6, ok(ev(OpPing, "ping payload"), ev(OpText, "fragment1fragment2")),
		openF(OpText, "fragment1"), pingF("ping payload"), contF("fragment2", true))
	threeWays(9, fails(CloseProtocolError), contF("non-continuation payload", true), textF(hello))
	threeWays(12, fails(CloseProtocolError), contF("non-continuation payload", false), textF(hello))
	add("5.15", chopWhole, fails(CloseProtocolError, ev(OpText, "fragment1fragment2")),
		openF(OpText, "fragment1"), contF("fragment2", true), contF("fragment3", false), textF("fragment4"))
	twice := func(frames ...wireFrame) []wireFrame { return append(frames, frames...) }
	add("5.16", chopWhole, fails(CloseProtocolError), twice(contF("fragment1", false), openF(OpText, "fragment2"), contF("fragment3", true))...)
	add("5.17", chopWhole, fails(CloseProtocolError), twice(contF("fragment1", true), openF(OpText, "fragment2"), contF("fragment3", true))...)
	add("5.18", chopWhole, fails(CloseProtocolError), openF(OpText, "fragment1"), textF("fragment2"))
	pongme := []wireFrame{openF(OpText, "fragment1"), contF("fragment2", false), pingF("pongme 1!"),
		contF("fragment3", false), contF("fragment4", false), pingF("pongme 2!"), contF("fragment5", true)}
	pongmeWant := ok(ev(OpPing, "pongme 1!"), ev(OpPing, "pongme 2!"), ev(OpText, "fragment1fragment2fragment3fragment4fragment5"))
	add("5.19", chopWhole, pongmeWant, pongme...)
	add("5.20", chopFrames, pongmeWant, pongme...)

	// Group 6: UTF-8 in text messages.
	add("6.1.1", chopWhole, ok(ev(OpText, "")), textF(""))
	add("6.1.2", chopWhole, ok(ev(OpText, "")), openF(OpText, ""), contF("", false), contF("", true))
	add("6.1.3", chopWhole, ok(ev(OpText, "middle frame payload")), openF(OpText, ""), contF("middle frame payload", false), contF("", true))
	mixed := "Hello-µ@ßöäüàá-UTF-8!!"
	add("6.2.1", chopWhole, ok(ev(OpText, mixed)), textF(mixed))
	add("6.2.2", chopWhole, ok(ev(OpText, mixed)), openF(OpText, "Hello-µ@ßö"), contF("äüàá-UTF-8!!", true))
	add("6.2.3", chopWhole, ok(ev(OpText, mixed)), bytewise(OpText, mixed)...)
	kosme := mustHex("cebae1bdb9cf83cebcceb5")
	add("6.2.4", chopWhole, ok(ev(OpText, kosme)), bytewise(OpText, kosme)...)
	bad := kosme + mustHex("eda080") + "edited"
	add("6.3.1", chopWhole, fails(CloseInvalidPayload), textF(bad))
	add("6.3.2", chopWhole, fails(CloseInvalidPayload), bytewise(OpText, bad)...)
	// 6.4.x also have their own test of when they fail: TestAutobahnFailFast.
	fast := autobahnFailFast
	add("6.4.1", chopFrames, fails(CloseInvalidPayload), openF(OpText, fast[:11]), contF(fast[11:15], false), contF(fast[15:], true))
	add("6.4.2", chopFrames, fails(CloseInvalidPayload), openF(OpText, fast[:12]), contF(fast[12:13], false), contF(fast[13:], true))
	add("6.4.3", chopWhole, fails(CloseInvalidPayload), textF(fast))
	add("6.4.4", chopWhole, fails(CloseInvalidPayload), textF(fast))
	for _, v := range utf8Vectors() {
		if v.valid {
			add(v.name, chopWhole, ok(ev(OpText, v.text)), textF(v.text))
		} else {
			add(v.name, chopWhole, fails(CloseInvalidPayload), textF(v.text))
		}
	}

	// Group 7: close frames. The parser checks the close payload and reads
	// on; answering the close and ignoring what follows it are the
	// connection's job.
	add("7.1.1", chopWhole, ok(ev(OpText, "Hello World!"), closeNormalEv), textF("Hello World!"), closeNormal)
	add("7.1.2", chopWhole, ok(closeNormalEv, closeNormalEv), closeNormal, closeNormal)
	add("7.1.3", chopWhole, ok(closeNormalEv, ev(OpPing, "")), closeNormal, pingF(""))
	add("7.1.4", chopWhole, ok(closeNormalEv, ev(OpText, "Hello World!")), closeNormal, textF("Hello World!"))
	add("7.1.5", chopWhole, ok(closeNormalEv, ev(OpText, "fragment1fragment2")),
		openF(OpText, "fragment1"), closeNormal, contF("fragment2", true))
	big := strings.Repeat("BAsd7&jh23", 26<<10)
	add("7.1.6", chopWhole, ok(ev(OpText, big), ev(OpText, "Hello World!"), closeNormalEv, ev(OpPing, "")),
		textF(big), textF("Hello World!"), closeNormal, pingF(""))
	add("7.3.1", chopWhole, ok(ev(OpClose, "")), closeF(nil))
	add("7.3.2", chopWhole, fails(CloseProtocolError), closeF([]byte{0x03}))
	add("7.3.3", chopWhole, ok(closeNormalEv), closeNormal)
	add("7.3.4", chopWhole, ok(ev(OpClose, string(closePayload(1000, "Hello World!")))), closeF(closePayload(1000, "Hello World!")))
	add("7.3.5", chopWhole, ok(ev(OpClose, string(closePayload(1000, repeat('*', 123))))), closeF(closePayload(1000, repeat('*', 123))))
	add("7.3.6", chopWhole, fails(CloseProtocolError), closeF(closePayload(1000, repeat('*', 124))))
	add("7.5.1", chopWhole, fails(CloseProtocolError), closeF(closePayload(1000, bad)))
	for i, code := range []CloseCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		p := string(closePayload(code, ""))
		add(fmt.Sprintf("7.7.%d", i+1), chopWhole, ok(ev(OpClose, p)), closeF([]byte(p)))
	}
	for i, code := range []CloseCode{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		add(fmt.Sprintf("7.9.%d", i+1), chopWhole, fails(CloseProtocolError), closeF(closePayload(code, "")))
	}
	// 7.13.x are informational in the suite; we treat the codes as invalid,
	// as it recommends.
	add("7.13.1", chopWhole, fails(CloseProtocolError), closeF(closePayload(5000, "")))
	add("7.13.2", chopWhole, fails(CloseProtocolError), closeF(closePayload(65535, "")))
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
		ways := choppings
		if !slices.Contains(ways, c.sent) {
			ways = append(slices.Clip(ways), c.sent)
		}
		for _, ch := range ways {
			t.Run(c.name+"/"+ch.String(), func(t *testing.T) {
				var p Parser
				c.want.check(t, run(t, &p, chop(frames, ch, rng)))
			})
		}
	}
}

// TestAutobahnFailFast checks when cases 6.4.1-6.4.4 fail. The suite sends
// each in 3 parts with pauses between them, and the connection must fail
// after part 2 arrives, not after part 1 (which ends, in 6.4.2 and 6.4.4,
// in a dangling f4 that must be accepted) and not only at part 3. Parts are
// frames in 6.4.1/6.4.2 and TCP writes of one frame in 6.4.3/6.4.4. Fed
// byte by byte, the parser must fail on the byte 90 itself.
func TestAutobahnFailFast(t *testing.T) {
	fast := autobahnFailFast
	for _, tc := range []struct {
		name   string
		frames []wireFrame
		cuts   []int // where the parts of the single frame end in its payload
	}{
		{"6.4.1", []wireFrame{openF(OpText, fast[:11]), contF(fast[11:15], false), contF(fast[15:], true)}, nil},
		{"6.4.2", []wireFrame{openF(OpText, fast[:12]), contF(fast[12:13], false), contF(fast[13:], true)}, nil},
		{"6.4.3", []wireFrame{textF(fast)}, []int{11, 15}},
		{"6.4.4", []wireFrame{textF(fast)}, []int{12, 13}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames := stream(true, tc.frames...)
			all := bytes.Join(frames, nil)
			payloadAt := payloadOffsets(frames)
			parts := chop(frames, chopFrames, nil) // copies: the parser unmasks in place
			if tc.cuts != nil {
				a, b := payloadAt[tc.cuts[0]], payloadAt[tc.cuts[1]]
				whole := bytes.Clone(all)
				parts = [][]byte{whole[:a], whole[a:b], whole[b:]}
			}
			if len(parts) != 3 {
				t.Fatalf("%d parts", len(parts))
			}

			// The error comes with part 2, and the valid text before it
			// is delivered.
			var p Parser
			res := run(t, &p, parts)
			if res.err != ErrInvalidUTF8 {
				t.Fatalf("err = %v, want ErrInvalidUTF8", res.err)
			}
			if part2 := len(parts[0]); res.errAt != part2 {
				t.Fatalf("failed in the part at stream byte %d, want the second part, at %d", res.errAt, part2)
			}

			// Byte by byte, it comes with the byte 90: the 13th payload
			// byte.
			p = Parser{}
			res = run(t, &p, chop(frames, chopBytes, nil))
			if res.err != ErrInvalidUTF8 {
				t.Fatalf("err = %v, want ErrInvalidUTF8", res.err)
			}
			if want := payloadAt[12]; res.errAt != want {
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
