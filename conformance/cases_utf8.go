package conformance

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// kosme is "κόσμε", the Greek word of Markus Kuhn's UTF-8 decoder tests.
var kosme = mustHex("cebae1bdb9cf83cebcceb5")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func span(from, to byte, suffix ...byte) []byte { // bytes from..to-1, each followed by suffix
	var b []byte
	for c := int(from); c < int(to); c++ {
		b = append(b, byte(c))
		b = append(b, suffix...)
	}
	return b
}

// utf8Vectors are the payloads of cases 6.5 to 6.23, by sub-group.
func utf8Vectors() [][][]byte {
	h := func(list ...string) [][]byte {
		var out [][]byte
		for _, s := range list {
			out = append(out, mustHex(s))
		}
		return out
	}
	var prefixes [][]byte
	for n := 1; n <= len(kosme); n++ {
		prefixes = append(prefixes, kosme[:n])
	}
	missing := h("c0", "e080", "f08080", "f8808080", "fc80808080", "df", "efbf", "f7bfbf", "fbbfbfbf", "fdbfbfbfbf")
	var concat []byte
	for _, v := range missing {
		concat = append(concat, v...)
	}
	var nonchars [][]byte
	for plane := rune(0); plane <= 16; plane++ {
		for _, low := range []rune{0xfffe, 0xffff} {
			nonchars = append(nonchars, utf8.AppendRune(nil, plane<<16|low))
		}
	}
	var specials [][]byte
	for r := rune(0xfff9); r <= 0xffff; r++ {
		specials = append(specials, utf8.AppendRune(nil, r))
	}
	return [][][]byte{
		h("68656c6c6f24776f726c64", "68656c6c6fc2a2776f726c64", "68656c6c6fe282ac776f726c64", "68656c6c6ff0a4ada2776f726c64", "cebae1bdb9cf83cebcceb5"), // 6.5
		prefixes,                                                // 6.6
		h("00", "c280", "e0a080", "f0908080"),                   // 6.7
		h("f888808080", "fc8480808080"),                         // 6.8
		h("7f", "dfbf", "efbfbf", "f48fbfbf"),                   // 6.9
		h("f7bfbfbf", "fbbfbfbfbf", "fdbfbfbfbfbf"),             // 6.10
		h("ed9fbf", "ee8080", "efbfbd", "f48fbfbf", "f4908080"), // 6.11
		append(h("80", "bf", "80bf", "80bf80", "80bf80bf", "80bf80bf80", "80bf80bf80bf"), span(0x80, 0xbf)),                      // 6.12
		{span(0xc0, 0xdf, 0x20), span(0xe0, 0xef, 0x20), span(0xf0, 0xf7, 0x20), span(0xf8, 0xfb, 0x20), span(0xfc, 0xfd, 0x20)}, // 6.13
		missing,                   // 6.14
		{concat},                  // 6.15
		h("fe", "ff", "fefeffff"), // 6.16
		h("c0af", "e080af", "f08080af", "f8808080af", "fc80808080af"),                                                                     // 6.17
		h("c1bf", "e09fbf", "f08fbfbf", "f887bfbfbf", "fc83bfbfbfbf"),                                                                     // 6.18
		h("c080", "e08080", "f0808080", "f880808080", "fc8080808080"),                                                                     // 6.19
		h("eda080", "edadbf", "edae80", "edafbf", "edb080", "edbe80", "edbfbf"),                                                           // 6.20
		h("eda080edb080", "eda080edbfbf", "edadbfedb080", "edadbfedbfbf", "edae80edb080", "edae80edbfbf", "edafbfedb080", "edafbfedbfbf"), // 6.21
		nonchars, // 6.22
		specials, // 6.23
	}
}

// group6: UTF-8 handling, 145 cases.
func group6() []*Case {
	hello := []byte("Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!")
	bytewise := func(s *session, p []byte) [][]byte { return fragments(s, opText, p, 1, 0) }
	echo := func(id, desc string, p []byte, frames func(s *session) [][]byte) *Case {
		return echoCase(id, desc, time.Second, oneWrite, opText, p, frames)
	}
	invalid := append(append(append([]byte{}, kosme...), 0xed, 0xa0, 0x80), "edited"...)
	cs := []*Case{
		echo("6.1.1", "empty text", nil, nil),
		echo("6.1.2", "text in 3 empty fragments", nil, func(s *session) [][]byte {
			return [][]byte{s.frame(false, 0, opText, nil), s.frame(false, 0, opCont, nil), s.frame(true, 0, opCont, nil)}
		}),
		echo("6.1.3", "text in 3 fragments, the first and last empty", []byte("middle frame payload"), func(s *session) [][]byte {
			return [][]byte{s.frame(false, 0, opText, nil), s.frame(false, 0, opCont, []byte("middle frame payload")), s.frame(true, 0, opCont, nil)}
		}),
		echo("6.2.1", "valid UTF-8 text in one frame", hello, nil),
		echo("6.2.2", "valid UTF-8 text in 2 fragments split on a code point boundary", hello, func(s *session) [][]byte {
			return [][]byte{s.frame(false, 0, opText, hello[:12]), s.frame(true, 0, opCont, hello[12:])}
		}),
		echo("6.2.3", "valid UTF-8 text in 1-byte fragments", hello, func(s *session) [][]byte { return bytewise(s, hello) }),
		echo("6.2.4", "valid UTF-8 text (κόσμε) in 1-byte fragments", kosme, func(s *session) [][]byte { return bytewise(s, kosme) }),
		{ID: "6.3.1", Desc: "invalid UTF-8 text in one frame: fail with 1007", run: func(s *session) {
			s.send(oneWrite, s.data(opText, invalid))
			s.expectFail(1007, time.Second)
		}},
		{ID: "6.3.2", Desc: "invalid UTF-8 text in 1-byte fragments: fail with 1007", run: func(s *session) {
			s.send(oneWrite, bytewise(s, invalid)...)
			s.expectFail(1007, time.Second)
		}},
	}

	// 6.4.x: fail fast, in the part that makes the text invalid.
	ff := append(append(append([]byte{}, kosme...), 0xf4, 0x90, 0x80, 0x80), "edited"...)
	splits := [][2]int{{11, 15}, {12, 13}}
	for i := range 4 {
		sp := splits[i%2]
		parts := [3][]byte{ff[:sp[0]], ff[sp[0]:sp[1]], ff[sp[1]:]}
		asFrames := i < 2
		desc := "invalid UTF-8 text in 3 %s with 1 s pauses: fail with 1007 after the second, before the third"
		if asFrames {
			desc = fmt.Sprintf(desc, "fragments")
		} else {
			desc = fmt.Sprintf(desc, "chops of one frame")
		}
		cs = append(cs, &Case{ID: fmt.Sprintf("6.4.%d", i+1), Desc: desc, run: func(s *session) {
			var chunks [3][]byte
			if asFrames {
				chunks = [3][]byte{s.frame(false, 0, opText, parts[0]), s.frame(false, 0, opCont, parts[1]), s.frame(true, 0, opCont, parts[2])}
			} else {
				f := s.data(opText, ff)
				hdr := len(f) - len(ff)
				chunks = [3][]byte{f[:hdr+sp[0]], f[hdr+sp[0] : hdr+sp[1]], f[hdr+sp[1]:]}
			}
			s.send(oneWrite, chunks[0])
			s.quiet(time.Second, "after the first part, which is valid so far")
			s.send(oneWrite, chunks[1])
			if e, ok := s.next(s.scaled(time.Second)); ok {
				s.pending = append(s.pending, e)
				s.expectFail(1007, 0)
				return
			}
			s.send(oneWrite, chunks[2])
			s.downgrade(NonStrict, "failed the connection only after the third part, not as soon as the text became invalid")
			s.expectFail(1007, time.Second)
		}})
	}

	for gi, vectors := range utf8Vectors() {
		for i, v := range vectors {
			id := fmt.Sprintf("6.%d.%d", gi+5, i+1)
			if utf8.Valid(v) {
				cs = append(cs, echoCase(id, fmt.Sprintf("valid UTF-8 %x: echo", v), time.Second, oneWrite, opText, v, nil))
				continue
			}
			cs = append(cs, &Case{ID: id, Desc: fmt.Sprintf("invalid UTF-8 %x: fail with 1007", v), run: func(s *session) {
				s.send(oneWrite, s.data(opText, v))
				s.expectFail(1007, 500*time.Millisecond)
			}})
		}
	}
	return cs
}

// group7: close handling, 37 cases.
func group7() []*Case {
	cs := []*Case{
		{ID: "7.1.1", Desc: "text, then close: echo, then a clean close", run: func(s *session) {
			s.send(oneWrite, s.textFrame("Hello World!"))
			s.expect(time.Second, text("Hello World!"))
			s.closeNormally()
		}},
		{ID: "7.1.2", Desc: "two close frames: one reply, the second ignored", run: func(s *session) {
			s.send(oneWrite, s.closeFrame(1000, ""), s.closeFrame(1000, ""))
			s.closeReply("close 1000", []int{1000}, false)
		}},
		{ID: "7.1.3", Desc: "close, then ping: no pong", run: func(s *session) {
			s.send(oneWrite, s.closeFrame(1000, ""), s.ping("Hello World!"))
			s.closeReply("close 1000", []int{1000}, false)
		}},
		{ID: "7.1.4", Desc: "close, then text: no echo", run: func(s *session) {
			s.send(oneWrite, s.closeFrame(1000, ""), s.textFrame("Hello World!"))
			s.closeReply("close 1000", []int{1000}, false)
		}},
		{ID: "7.1.5", Desc: "text fragment, close, final fragment: no echo, close 1000", run: func(s *session) {
			s.send(oneWrite, s.frame(false, 0, opText, []byte("fragment1")), s.closeFrame(1000, ""), s.frame(true, 0, opCont, []byte("fragment2")))
			s.closeReply("close 1000", []int{1000}, false)
		}},
		{ID: "7.1.6", Desc: "256 KiB text, small text, close, ping: echoes (possibly cut short by the close), no pong", run: func(s *session) {
			big := pattern([]byte("BAsd7&jh23"), 256<<10)
			s.send(oneWrite, s.data(opText, big), s.textFrame("Hello World!"), s.closeFrame(1000, ""), s.ping("Hello World!"))
			for _, w := range []event{message(opText, big), text("Hello World!")} {
				e, ok := s.next(s.scaled(10 * time.Second))
				if !ok {
					s.fail("timed out waiting for the echoes and the close reply")
					return
				}
				if e.kind == evClose {
					s.pending = append(s.pending, e)
					break
				}
				if !e.matches(w) {
					s.fail("got %s, want %s or the close reply", e, w)
					return
				}
			}
			s.closeReply("close 1000", []int{1000}, false)
		}},
	}
	closeCase := func(id, desc string, payload []byte, codes []int, emptyOK bool) *Case {
		return &Case{ID: id, Desc: desc, run: func(s *session) {
			s.closeWith(s.frame(true, 0, opClose, payload), "close frame "+quote(payload), codes, emptyOK)
		}}
	}
	cs = append(cs,
		closeCase("7.3.1", "close with an empty payload: reply close", nil, []int{1000}, true),
		closeCase("7.3.2", "close with a 1-byte payload: reply 1002", []byte{0x03}, []int{1002}, false),
		closeCase("7.3.3", "close 1000 without reason: reply 1000", closePayload(1000, ""), []int{1000}, false),
		closeCase("7.3.4", "close 1000 with a reason: reply 1000", closePayload(1000, "Hello World!"), []int{1000}, false),
		closeCase("7.3.5", "close 1000 with a 123-byte reason: reply 1000", closePayload(1000, strings.Repeat("*", 123)), []int{1000}, false),
		closeCase("7.3.6", "close 1000 with a 124-byte reason (126 bytes in all): reply 1002", closePayload(1000, strings.Repeat("*", 124)), []int{1002}, false),
		closeCase("7.5.1", "close 1000 with a reason that is not UTF-8: reply 1002 or 1007",
			append(closePayload(1000, string(kosme)), append([]byte{0xed, 0xa0, 0x80}, "edited"...)...), []int{1002, 1007}, false),
	)
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		cs = append(cs, closeCase(fmt.Sprintf("7.7.%d", i+1), fmt.Sprintf("close %d, a valid code: reply 1000 or %d", code, code), closePayload(code, ""), []int{1000, code}, false))
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		cs = append(cs, closeCase(fmt.Sprintf("7.9.%d", i+1), fmt.Sprintf("close %d, an invalid code: reply 1002", code), closePayload(code, ""), []int{1002}, false))
	}
	for i, code := range []int{5000, 65535} {
		cs = append(cs, &Case{ID: fmt.Sprintf("7.13.%d", i+1), Desc: fmt.Sprintf("close %d, outside the registered ranges: reply 1002 (1000 or %d informational)", code, code), run: func(s *session) {
			s.closeWith(s.closeFrame(code, ""), fmt.Sprintf("close %d", code), []int{1000, 1002, code}, false)
			// closeWith checked the code; grade the lenient answers.
			if s.status == OK && s.lastCloseCode != 1002 {
				s.status, s.detail = Informational, fmt.Sprintf("answered close %d with %d; 1002 is recommended", code, s.lastCloseCode)
			}
		}})
	}
	return cs
}

// pattern repeats unit to n bytes.
func pattern(unit []byte, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += copy(b[i:], unit) {
	}
	return b
}
