package frame

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"
)

// This file holds the test harness shared by the parser's tests and fuzz
// target: a frame builder, the ways of chopping a stream, and a driver that
// feeds a Parser and records what it delivers.

// wireFrame describes one frame as a peer would put it on the wire. A zero
// length field means "len(payload)".
type wireFrame struct {
	fin     bool
	rsv     uint8
	op      Opcode
	payload []byte
	noMask  bool   // send unmasked even in a client-to-server stream
	rawLen  *int64 // override the header's length field
}

func textF(s string) wireFrame  { return wireFrame{fin: true, op: OpText, payload: []byte(s)} }
func binF(b []byte) wireFrame   { return wireFrame{fin: true, op: OpBinary, payload: b} }
func pingF(s string) wireFrame  { return wireFrame{fin: true, op: OpPing, payload: []byte(s)} }
func pongF(s string) wireFrame  { return wireFrame{fin: true, op: OpPong, payload: []byte(s)} }
func closeF(b []byte) wireFrame { return wireFrame{fin: true, op: OpClose, payload: b} }
func contF(s string, fin bool) wireFrame {
	return wireFrame{fin: fin, op: OpContinuation, payload: []byte(s)}
}
func openF(op Opcode, s string) wireFrame { return wireFrame{fin: false, op: op, payload: []byte(s)} }

// encode returns the frame's bytes; masked frames use a key derived from
// seed so that every frame gets a different one.
func (w wireFrame) encode(masked bool, seed int) []byte {
	h := Header{Fin: w.fin, Rsv: w.rsv, Opcode: w.op, Masked: masked && !w.noMask}
	h.Key = [4]byte{byte(seed*31 + 7), byte(seed*17 + 3), byte(seed*13 + 11), byte(seed*7 + 5)}
	h.Length = int64(len(w.payload))
	if w.rawLen != nil {
		h.Length = *w.rawLen
	}
	b := AppendHeader(nil, h)
	start := len(b)
	b = append(b, w.payload...)
	if h.Masked {
		Mask(h.Key, 0, b[start:])
	}
	return b
}

// stream encodes frames as a client (masked) or server (unmasked) sends them,
// one slice per frame.
func stream(fromClient bool, frames ...wireFrame) [][]byte {
	out := make([][]byte, len(frames))
	for i, f := range frames {
		out[i] = f.encode(fromClient, i)
	}
	return out
}

// Ways of chopping a stream into the pieces a socket might return.
type chopping int

const (
	chopWhole chopping = iota
	chopFrames
	chopBytes
	chopRandom
	chop997 // 997-byte writes, as Autobahn 1.1.8 and 1.2.8 send
)

func (c chopping) String() string {
	return [...]string{"whole", "frame-by-frame", "byte-by-byte", "random", "997-byte-writes"}[c]
}

var choppings = []chopping{chopWhole, chopFrames, chopBytes, chopRandom}

// chop returns copies of the frames' bytes cut as c says.
func chop(frames [][]byte, c chopping, rng *rand.Rand) [][]byte {
	all := bytes.Join(frames, nil)
	switch c {
	case chopWhole:
		return [][]byte{all}
	case chopFrames:
		out := make([][]byte, len(frames))
		for i, f := range frames {
			out[i] = bytes.Clone(f)
		}
		return out
	case chopBytes:
		out := make([][]byte, len(all))
		for i := range all {
			out[i] = all[i : i+1]
		}
		return out
	}
	var out [][]byte
	if c == chop997 {
		for len(all) > 0 {
			n := min(len(all), 997)
			out = append(out, all[:n])
			all = all[n:]
		}
		return out
	}
	for len(all) > 0 {
		n := 1 + rng.Intn(min(len(all), 1+rng.Intn(40)))
		out = append(out, all[:n])
		all = all[n:]
	}
	return out
}

// event is a completed message or control frame as the parser delivered it.
type event struct {
	op      Opcode
	payload string
}

func (e event) String() string {
	if len(e.payload) > 40 {
		return fmt.Sprintf("%v[%d bytes]", e.op, len(e.payload))
	}
	return fmt.Sprintf("%v%q", e.op, e.payload)
}

// result is everything a parser delivered from a stream.
type result struct {
	events []event
	err    error
	// errAt is the stream offset of the chunk that produced err; for
	// byte-by-byte feeding it is the offending byte.
	errAt int
}

// run feeds chunks to p and records the messages and control frames it
// completes, checking the Fragment flags' invariants on the way.
func run(t testing.TB, p *Parser, chunks [][]byte) result {
	t.Helper()
	var (
		res      result
		data     []byte
		dataOpen bool
		dataOp   Opcode
		ctl      []byte
		ctlOpen  bool
		offset   int
	)
	for _, c := range chunks {
		rest := c
		for len(rest) > 0 {
			f, n, ok, err := p.Next(rest)
			if n < 0 || n > len(rest) {
				t.Fatalf("Next consumed %d of %d bytes", n, len(rest))
			}
			rest = rest[n:]
			if err != nil {
				res.err = err
				res.errAt = offset
				return res
			}
			if !ok {
				if len(rest) != 0 {
					t.Fatalf("Next wants more input but left %d bytes", len(rest))
				}
				break
			}
			if f.Opcode == OpContinuation {
				t.Fatalf("fragment with opcode continuation")
			}
			if f.End && !f.FrameEnd {
				t.Fatalf("fragment ends a message but not its frame")
			}
			if f.Opcode.IsControl() {
				if f.Start != !ctlOpen {
					t.Fatalf("control fragment Start=%v while open=%v", f.Start, ctlOpen)
				}
				ctlOpen = true
				ctl = append(ctl, f.Payload...)
				if len(ctl) > MaxControlPayload {
					t.Fatalf("control payload grew to %d bytes", len(ctl))
				}
				if f.End {
					res.events = append(res.events, event{f.Opcode, string(ctl)})
					ctl, ctlOpen = ctl[:0], false
				}
				continue
			}
			if f.Start != !dataOpen {
				t.Fatalf("data fragment Start=%v while open=%v", f.Start, dataOpen)
			}
			if dataOpen && f.Opcode != dataOp {
				t.Fatalf("message changed type from %v to %v", dataOp, f.Opcode)
			}
			dataOpen, dataOp = true, f.Opcode
			data = append(data, f.Payload...)
			if f.End {
				res.events = append(res.events, event{f.Opcode, string(data)})
				data, dataOpen = data[:0], false
			}
		}
		offset += len(c)
	}
	return res
}

// expectation is what a case must produce: the events in order, then either
// no error or an error with the given close code.
type expectation struct {
	events []event
	code   CloseCode // 0: no error
}

func (e expectation) check(t *testing.T, got result) {
	t.Helper()
	if fmt.Sprint(got.events) != fmt.Sprint(e.events) {
		t.Errorf("events = %v, want %v", got.events, e.events)
	}
	switch {
	case e.code == 0 && got.err != nil:
		t.Errorf("unexpected error %v", got.err)
	case e.code != 0 && got.err == nil:
		t.Errorf("no error, want close code %d", e.code)
	case e.code != 0:
		perr, ok := got.err.(*Error)
		if !ok {
			t.Fatalf("error %T %v is not a *frame.Error", got.err, got.err)
		}
		if perr.Code != e.code {
			t.Errorf("error %q has code %d, want %d", perr.Reason, perr.Code, e.code)
		}
	}
}

func ev(op Opcode, s string) event { return event{op, s} }
