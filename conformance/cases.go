package conformance

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Case is one conformance case, numbered as in the Autobahn|Testsuite.
type Case struct {
	ID   string // "6.4.2"
	Desc string

	// Groups 12 and 13: the permessage-deflate offers the suite makes as a
	// client, and, as a server, which client offers it accepts and how it
	// answers them.
	offers    []pmdParams
	accept    func(offers []pmdParams) (pmdParams, bool)
	declineOK bool // declining is a correct answer (server_max_window_bits=9 cannot be honoured by every compressor)

	run func(s *session)
}

// Options select the cases and set the run's sizes.
type Options struct {
	// Cases selects cases by number: a comma-separated list of case
	// numbers or prefixes ("1,2,6.4,9.7.1"); empty selects every case.
	Cases string
	// Full runs groups 9, 12 and 13 with Autobahn's counts (1000 round
	// trips per case); otherwise RoundTrips is used.
	Full bool
	// RoundTrips is the number of round trips of the 9.7, 9.8, 12 and 13
	// cases when not Full; 0 means 100.
	RoundTrips int
	// Parallel is the number of cases run at once against a server; 0
	// means 1. (A client under test runs its cases one after the other.)
	Parallel int
	// TimeScale, if over 1, stretches every time limit of the judging
	// rules by that factor (for slow machines, or the race detector); the
	// default holds the testee to the limits of the rules (1 s for a close
	// reply and for a server to close TCP, and so on).
	TimeScale float64
	// OnResult, if set, is called with each result as soon as it is known
	// (from several goroutines at once when Parallel > 1).
	OnResult func(Result)
}

func (o *Options) roundTrips() int {
	switch {
	case o.Full:
		return 1000
	case o.RoundTrips > 0:
		return o.RoundTrips
	}
	return 100
}

// Catalogue returns every case of the suite, in order: 517 cases in
// groups 1-7, 9, 10, 12 and 13.
func Catalogue() []*Case {
	var cs []*Case
	for _, g := range []func() []*Case{group1, group2, group3, group4, group5, group6, group7, group9, group10, group12, group13} {
		cs = append(cs, g()...)
	}
	return cs
}

// Select returns the cases of the catalogue that sel (see Options.Cases)
// selects, or an error naming a pattern that selects none.
func Select(sel string) ([]*Case, error) {
	all := Catalogue()
	if strings.TrimSpace(sel) == "" {
		return all, nil
	}
	var pats []string
	for _, p := range strings.Split(sel, ",") {
		if p = strings.TrimSpace(p); p != "" {
			pats = append(pats, p)
		}
	}
	used := make([]bool, len(pats))
	var out []*Case
	for _, c := range all {
		for i, p := range pats {
			if c.ID == p || strings.HasPrefix(c.ID, p+".") {
				used[i] = true
				out = append(out, c)
				break
			}
		}
	}
	for i, p := range pats {
		if !used[i] {
			return nil, fmt.Errorf("conformance: case pattern %q selects no case", p)
		}
	}
	return out, nil
}

func repeat(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

// echoCase: send one message (frames and chopping given), expect it echoed
// within d, then close normally.
func echoCase(id, desc string, d time.Duration, c chop, op byte, payload []byte, frames func(s *session) [][]byte) *Case {
	return &Case{ID: id, Desc: desc, run: func(s *session) {
		var fs [][]byte
		if frames != nil {
			fs = frames(s)
		} else {
			fs = [][]byte{s.data(op, payload)}
		}
		s.send(c, fs...)
		s.expect(d, message(op, payload))
		s.closeNormally()
	}}
}

// group1: framing, 16 cases.
func group1() []*Case {
	var cs []*Case
	lens := []int{0, 125, 126, 127, 128, 65535, 65536, 65536}
	for gi, op := range []byte{opText, opBinary} {
		fill, kind := byte('*'), "text"
		if op == opBinary {
			fill, kind = 0xfe, "binary"
		}
		for i, n := range lens {
			c, d := oneWrite, time.Second
			if n >= 65535 {
				d = 10 * time.Second
			}
			desc := fmt.Sprintf("%s message of %d bytes", kind, n)
			if i == 7 {
				c = chop{size: 997}
				desc += ", written in 997-byte chops"
			}
			cs = append(cs, echoCase(fmt.Sprintf("1.%d.%d", gi+1, i+1), desc, d, c, op, repeat(fill, n), nil))
		}
	}
	return cs
}

// group2: pings and pongs, 11 cases.
func group2() []*Case {
	pingCase := func(id, desc string, p []byte, c chop) *Case {
		return &Case{ID: id, Desc: desc, run: func(s *session) {
			s.send(c, s.frame(true, 0, opPing, p))
			s.expect(time.Second, pong(p))
			s.closeNormally()
		}}
	}
	tenPings := func(id string, c chop) *Case {
		return &Case{ID: id, Desc: "10 pings back to back " + c.String() + ": 10 pongs in order", run: func(s *session) {
			var fs [][]byte
			var want []event
			for i := range 10 {
				p := fmt.Sprintf("payload-%d", i)
				fs = append(fs, s.ping(p))
				want = append(want, pong([]byte(p)))
			}
			s.send(c, fs...)
			s.expect(2*time.Second, want...)
			s.closeNormally()
		}}
	}
	return []*Case{
		pingCase("2.1", "ping with an empty payload", nil, oneWrite),
		pingCase("2.2", "ping with a text payload", []byte("Hello, world!"), oneWrite),
		pingCase("2.3", "ping with a binary payload", []byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff}, oneWrite),
		pingCase("2.4", "ping with 125 bytes, the most a control frame holds", repeat(0xfe, 125), oneWrite),
		{ID: "2.5", Desc: "ping with 126 bytes: fail with 1002", run: func(s *session) {
			s.send(oneWrite, s.frame(true, 0, opPing, repeat(0xfe, 126)))
			s.expectFail(1002, time.Second)
		}},
		pingCase("2.6", "ping with 125 bytes, written octet-wise", repeat(0xfe, 125), octetWise),
		{ID: "2.7", Desc: "unsolicited pong without payload: no answer", run: func(s *session) {
			s.send(oneWrite, s.frame(true, 0, opPong, nil))
			s.closeNormally()
		}},
		{ID: "2.8", Desc: "unsolicited pong with payload: no answer", run: func(s *session) {
			s.send(oneWrite, s.frame(true, 0, opPong, []byte("unsolicited pong payload")))
			s.closeNormally()
		}},
		{ID: "2.9", Desc: "unsolicited pong, then a ping: only the ping's pong", run: func(s *session) {
			s.send(oneWrite, s.frame(true, 0, opPong, []byte("unsolicited pong payload")), s.ping("ping payload"))
			s.expect(time.Second, pong([]byte("ping payload")))
			s.closeNormally()
		}},
		tenPings("2.10", oneWrite),
		tenPings("2.11", octetWise),
	}
}

// group3: reserved bits with no extension, 7 cases.
func group3() []*Case {
	hello := "Hello, world!"
	seq := func(id string, rsv byte, c chop) *Case {
		return &Case{ID: id, Desc: fmt.Sprintf("text, text with RSV=%d, ping, %s: echo the first, then fail with 1002, no pong", rsv, c), run: func(s *session) {
			s.send(c, s.textFrame(hello), s.frame(true, rsv, opText, []byte(hello)), s.ping(hello))
			s.expectFail(1002, time.Second, text(hello))
		}}
	}
	single := func(id, desc string, rsv, op byte, p []byte) *Case {
		return &Case{ID: id, Desc: desc, run: func(s *session) {
			s.send(oneWrite, s.frame(true, rsv, op, p))
			s.expectFail(1002, time.Second)
		}}
	}
	bin := []byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff}
	return []*Case{
		single("3.1", "text with RSV=1: fail with 1002", 1, opText, []byte(hello)),
		seq("3.2", 2, oneWrite),
		seq("3.3", 2, frameWise),
		seq("3.4", 4, octetWise),
		single("3.5", "binary with RSV=5: fail with 1002", 5, opBinary, bin),
		single("3.6", "binary with RSV=6: fail with 1002", 6, opBinary, bin),
		single("3.7", "close with RSV=7: fail with 1002, not a normal close", 7, opClose, closePayload(1000, "")),
	}
}

// group4: reserved opcodes, 10 cases.
func group4() []*Case {
	var cs []*Case
	for gi, base := range []byte{3, 11} {
		kind := "non-control"
		if base == 11 {
			kind = "control"
		}
		for i := range 5 {
			op := base + byte(i)
			var p []byte
			if i%2 == 1 || i == 4 {
				p = []byte("reserved opcode payload")
			}
			id := fmt.Sprintf("4.%d.%d", gi+1, i+1)
			if i < 2 {
				cs = append(cs, &Case{ID: id, Desc: fmt.Sprintf("reserved %s opcode %d: fail with 1002", kind, op), run: func(s *session) {
					s.send(oneWrite, s.frame(true, 0, op, p))
					s.expectFail(1002, time.Second)
				}})
				continue
			}
			c := frameWise
			if i == 4 {
				c = octetWise
			}
			cs = append(cs, &Case{ID: id, Desc: fmt.Sprintf("text, reserved %s opcode %d, ping, %s: echo, then fail with 1002, no pong", kind, op, c), run: func(s *session) {
				s.send(c, s.textFrame("Hello, world!"), s.frame(true, 0, op, p), s.ping("Hello, world!"))
				s.expectFail(1002, time.Second, text("Hello, world!"))
			}})
		}
	}
	return cs
}

// group5: fragmentation, 20 cases.
func group5() []*Case {
	cs := []*Case{
		{ID: "5.1", Desc: "fragmented ping: fail with 1002", run: func(s *session) {
			s.send(oneWrite, s.frame(false, 0, opPing, []byte("fragment1")), s.frame(true, 0, opCont, []byte("fragment2")))
			s.expectFail(1002, time.Second)
		}},
		{ID: "5.2", Desc: "fragmented pong: fail with 1002", run: func(s *session) {
			s.send(oneWrite, s.frame(false, 0, opPong, []byte("fragment1")), s.frame(true, 0, opCont, []byte("fragment2")))
			s.expectFail(1002, time.Second)
		}},
	}
	modes := []chop{oneWrite, frameWise, octetWise}
	for i, c := range modes {
		cs = append(cs, &Case{ID: fmt.Sprintf("5.%d", 3+i), Desc: "text in 2 fragments, " + c.String(), run: func(s *session) {
			s.send(c, s.frame(false, 0, opText, []byte("fragment1")), s.frame(true, 0, opCont, []byte("fragment2")))
			s.expect(time.Second, text("fragment1fragment2"))
			s.closeNormally()
		}})
	}
	for i, c := range modes {
		cs = append(cs, &Case{ID: fmt.Sprintf("5.%d", 6+i), Desc: "text in 2 fragments with a ping between, " + c.String() + ": pong first", run: func(s *session) {
			s.send(c, s.frame(false, 0, opText, []byte("fragment1")), s.ping("ping payload"), s.frame(true, 0, opCont, []byte("fragment2")))
			s.expect(time.Second, pong([]byte("ping payload")), text("fragment1fragment2"))
			s.closeNormally()
		}})
	}
	for j, fin := range []bool{true, false} {
		for i, c := range modes {
			cs = append(cs, &Case{ID: fmt.Sprintf("5.%d", 9+3*j+i), Desc: fmt.Sprintf("continuation (FIN=%v) with no message, then text, %s: fail with 1002", fin, c), run: func(s *session) {
				s.send(c, s.frame(fin, 0, opCont, []byte("non-continuation payload")), s.textFrame("Hello, world!"))
				s.expectFail(1002, time.Second)
			}})
		}
	}
	cs = append(cs,
		&Case{ID: "5.15", Desc: "a fragmented text, then a continuation with nothing to continue: echo, then fail with 1002", run: func(s *session) {
			s.send(oneWrite, s.frame(false, 0, opText, []byte("fragment1")), s.frame(true, 0, opCont, []byte("fragment2")),
				s.frame(false, 0, opCont, []byte("fragment3")), s.frame(true, 0, opText, []byte("fragment4")))
			s.expectFail(1002, time.Second, text("fragment1fragment2"))
		}},
	)
	for i, fin := range []bool{false, true} {
		cs = append(cs, &Case{ID: fmt.Sprintf("5.%d", 16+i), Desc: fmt.Sprintf("twice: continuation (FIN=%v), text, continuation: fail with 1002", fin), run: func(s *session) {
			var fs [][]byte
			for range 2 {
				fs = append(fs, s.frame(fin, 0, opCont, []byte("fragment1")), s.frame(false, 0, opText, []byte("fragment2")), s.frame(true, 0, opCont, []byte("fragment3")))
			}
			s.send(oneWrite, fs...)
			s.expectFail(1002, time.Second)
		}})
	}
	cs = append(cs, &Case{ID: "5.18", Desc: "text fragment followed by another text frame: fail with 1002", run: func(s *session) {
		s.send(oneWrite, s.frame(false, 0, opText, []byte("fragment1")), s.frame(true, 0, opText, []byte("fragment2")))
		s.expectFail(1002, time.Second)
	}})
	for i, c := range []chop{oneWrite, frameWise} {
		cs = append(cs, &Case{ID: fmt.Sprintf("5.%d", 19+i), Desc: "5 fragments with 2 pings among them and a 1 s pause: pongs before the message completes", run: func(s *session) {
			start := time.Now()
			s.send(c, s.frame(false, 0, opText, []byte("fragment1")), s.frame(false, 0, opCont, []byte("fragment2")), s.ping("pongme 1!"))
			s.expect(time.Second, pong([]byte("pongme 1!")))
			time.Sleep(time.Until(start.Add(time.Second)))
			s.send(c, s.frame(false, 0, opCont, []byte("fragment3")), s.frame(false, 0, opCont, []byte("fragment4")),
				s.ping("pongme 2!"), s.frame(true, 0, opCont, []byte("fragment5")))
			s.expect(time.Second, pong([]byte("pongme 2!")), text("fragment1fragment2fragment3fragment4fragment5"))
			s.closeNormally()
		}})
	}
	return cs
}

// group10: one message auto-fragmented, 1 case.
func group10() []*Case {
	payload := repeat('*', 65536)
	return []*Case{echoCase("10.1.1", "65536-byte text in 1300-byte fragments", 10*time.Second, oneWrite, opText, payload, func(s *session) [][]byte {
		return fragments(s, opText, payload, 1300, 0)
	})}
}

// fragments splits payload into frames of size bytes (one frame if size
// is 0), the first with opcode op and RSV bits rsv.
func fragments(s *session, op byte, payload []byte, size int, rsv byte) [][]byte {
	if size <= 0 || size >= len(payload) {
		return [][]byte{s.frame(true, rsv, op, payload)}
	}
	var fs [][]byte
	for i := 0; i < len(payload); i += size {
		end := min(i+size, len(payload))
		o, r := opCont, byte(0)
		if i == 0 {
			o, r = op, rsv
		}
		fs = append(fs, s.frame(end == len(payload), r, o, payload[i:end]))
	}
	return fs
}
