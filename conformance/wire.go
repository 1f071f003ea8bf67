package conformance

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
	"unicode/utf8"
)

// Opcodes, as raw numbers: the suite sends reserved ones on purpose.
const (
	opCont   byte = 0
	opText   byte = 1
	opBinary byte = 2
	opClose  byte = 8
	opPing   byte = 9
	opPong   byte = 10
)

// maxReceive bounds one received message (after inflating), so that a
// runaway testee cannot make the suite buffer without end. The largest
// echo the cases expect is 16 MiB.
const maxReceive = 64 << 20

// appendFrame appends one frame to dst: any FIN, RSV bits (0-7) and opcode
// (0-15), the payload length in its minimal form, and, if masked, a random
// masking key with the payload masked under it. Nothing is checked: the
// suite builds malformed frames with it as readily as valid ones.
func appendFrame(dst []byte, fin bool, rsv, op byte, payload []byte, masked bool) []byte {
	b0 := rsv<<4&0x70 | op&0x0f
	if fin {
		b0 |= 0x80
	}
	var b1 byte
	if masked {
		b1 = 0x80
	}
	n := len(payload)
	switch {
	case n <= 125:
		dst = append(dst, b0, b1|byte(n))
	case n <= 0xffff:
		dst = append(dst, b0, b1|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if !masked {
		return append(dst, payload...)
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], rand.Uint32())
	dst = append(dst, key[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	maskBytes(dst[start:], key)
	return dst
}

// maskBytes XORs p with the repeated key (RFC 6455 §5.3), which masks and
// unmasks alike.
func maskBytes(p []byte, key [4]byte) {
	k32 := binary.LittleEndian.Uint32(key[:])
	k64 := uint64(k32) | uint64(k32)<<32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k64)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[i&3]
	}
}

// closePayload is a close frame's body: a big-endian code and a reason.
func closePayload(code int, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

// chop says how a case's bytes go onto TCP.
type chop struct {
	perFrame bool          // one write per frame
	size     int           // bytes per write (0: no limit)
	pause    time.Duration // between writes
}

var (
	oneWrite  = chop{}
	frameWise = chop{perFrame: true, pause: 2 * time.Millisecond}
	octetWise = chop{size: 1, pause: time.Millisecond}
)

func (c chop) String() string {
	switch {
	case c.perFrame:
		return "frame-wise"
	case c.size == 1:
		return "octet-wise"
	case c.size > 0:
		return fmt.Sprintf("in %d-byte chops", c.size)
	}
	return "in one write"
}

// Kinds of events the suite sees from a testee.
type eventKind int

const (
	evMessage eventKind = iota // a complete data message
	evPong
	evPing
	evClose     // a close frame
	evEOF       // TCP closed (or reset) by the testee
	evViolation // the testee broke the protocol; err says how
)

// event is what the testee did, as the cases judge it.
type event struct {
	kind   eventKind
	op     byte   // evMessage: opText or opBinary
	data   []byte // evMessage, evPong, evPing
	code   int    // evClose: the close code, or -1 for an empty payload
	reason string // evClose
	err    error  // evEOF (nil for a clean FIN), evViolation
}

func message(op byte, data []byte) event { return event{kind: evMessage, op: op, data: data} }
func text(s string) event                { return message(opText, []byte(s)) }
func pong(p []byte) event                { return event{kind: evPong, data: p} }

// matches reports whether e is the event want: same kind, type and bytes.
func (e event) matches(want event) bool {
	if e.kind != want.kind {
		return false
	}
	switch e.kind {
	case evMessage:
		return e.op == want.op && string(e.data) == string(want.data)
	case evPong, evPing:
		return string(e.data) == string(want.data)
	}
	return false
}

func (e event) String() string {
	switch e.kind {
	case evMessage:
		kind := "text"
		if e.op == opBinary {
			kind = "binary"
		}
		return fmt.Sprintf("%s message of %d bytes %s", kind, len(e.data), quote(e.data))
	case evPong:
		return fmt.Sprintf("pong of %d bytes %s", len(e.data), quote(e.data))
	case evPing:
		return fmt.Sprintf("ping of %d bytes %s", len(e.data), quote(e.data))
	case evClose:
		if e.code < 0 {
			return "close frame with no code"
		}
		return fmt.Sprintf("close %d %q", e.code, e.reason)
	case evEOF:
		if e.err != nil {
			return fmt.Sprintf("end of TCP (%v)", e.err)
		}
		return "end of TCP"
	case evViolation:
		return fmt.Sprintf("protocol violation: %v", e.err)
	}
	return "?"
}

// quote shows the start of a payload: as text if it is printable UTF-8,
// otherwise in hex.
func quote(p []byte) string {
	const max = 24
	short := p
	if len(short) > max {
		short = short[:max]
	}
	printable := utf8.Valid(short)
	for _, c := range short {
		if c < 0x20 || c == 0x7f {
			printable = false
		}
	}
	more := ""
	if len(p) > max {
		more = "..."
	}
	if printable {
		return fmt.Sprintf("%q%s", short, more)
	}
	return fmt.Sprintf("%x%s", short, more)
}

// reader parses what the testee sends into events, checking every rule of
// RFC 6455 (and RFC 7692 when permessage-deflate is on) as it goes. It is
// deliberately independent of lull's frame package.
type reader struct {
	br           *bufio.Reader
	expectMasked bool      // the testee is a client
	inflate      *inflater // nil unless permessage-deflate was negotiated
	events       chan<- event
	done         <-chan struct{} // closed when the case is over

	// the message being reassembled
	inMessage  bool
	op         byte
	compressed bool
	buf        []byte
	closed     bool // a close frame was received
}

// run reads until the connection ends or the testee breaks the protocol,
// then closes the events channel.
func (r *reader) run() {
	defer close(r.events)
	for {
		ev, ok := r.next()
		if !ok {
			continue
		}
		select {
		case r.events <- ev:
		case <-r.done:
			return
		}
		if ev.kind == evEOF || ev.kind == evViolation {
			return
		}
	}
}

func violation(format string, args ...any) event {
	return event{kind: evViolation, err: fmt.Errorf(format, args...)}
}

// next reads one frame; ok is false for a frame that makes no event (a
// fragment of a message in progress).
func (r *reader) next() (event, bool) {
	var hdr [14]byte
	if _, err := io.ReadFull(r.br, hdr[:2]); err != nil {
		if err == io.EOF {
			err = nil
		}
		if r.inMessage && err == nil {
			return event{kind: evEOF, err: fmt.Errorf("TCP closed in the middle of a message")}, true
		}
		return event{kind: evEOF, err: err}, true
	}
	if r.closed {
		return violation("a frame (opcode %d) after the close frame", hdr[0]&0x0f), true
	}
	fin, rsv, op := hdr[0]&0x80 != 0, hdr[0]>>4&7, hdr[0]&0x0f
	masked, n7 := hdr[1]&0x80 != 0, int(hdr[1]&0x7f)
	var n uint64
	switch n7 {
	case 126:
		if _, err := io.ReadFull(r.br, hdr[2:4]); err != nil {
			return event{kind: evEOF, err: fmt.Errorf("TCP closed inside a frame header: %v", err)}, true
		}
		n = uint64(binary.BigEndian.Uint16(hdr[2:4]))
		if n < 126 {
			return violation("16-bit length %d where the 7-bit form fits (RFC 6455 §5.2: minimal length)", n), true
		}
	case 127:
		if _, err := io.ReadFull(r.br, hdr[2:10]); err != nil {
			return event{kind: evEOF, err: fmt.Errorf("TCP closed inside a frame header: %v", err)}, true
		}
		n = binary.BigEndian.Uint64(hdr[2:10])
		if n>>63 != 0 {
			return violation("64-bit length with the top bit set"), true
		}
		if n <= 0xffff {
			return violation("64-bit length %d where a shorter form fits (RFC 6455 §5.2: minimal length)", n), true
		}
	default:
		n = uint64(n7)
	}
	var key [4]byte
	if masked != r.expectMasked {
		if masked {
			return violation("a server sent a masked frame"), true
		}
		return violation("a client sent an unmasked frame"), true
	}
	if masked {
		if _, err := io.ReadFull(r.br, key[:]); err != nil {
			return event{kind: evEOF, err: fmt.Errorf("TCP closed inside a frame header: %v", err)}, true
		}
	}
	control := op >= 8
	switch {
	case op > 2 && op < 8 || op > 10:
		return violation("reserved opcode %d", op), true
	case control && !fin:
		return violation("fragmented control frame (opcode %d)", op), true
	case control && n > 125:
		return violation("control frame (opcode %d) with %d bytes of payload, over 125", op, n), true
	case rsv&3 != 0 || rsv&4 != 0 && (r.inflate == nil || op == opCont || control):
		return violation("RSV bits %03b set on opcode %d without an extension that defines them", rsv, op), true
	case op == opCont && !r.inMessage:
		return violation("continuation frame with no message in progress"), true
	case (op == opText || op == opBinary) && r.inMessage:
		return violation("new data frame (opcode %d) in the middle of a fragmented message", op), true
	}
	if n > maxReceive || !control && uint64(len(r.buf))+n > maxReceive {
		return violation("message over %d bytes", maxReceive), true
	}
	var payload []byte
	if control {
		payload = make([]byte, n)
	} else {
		if !r.inMessage {
			r.inMessage, r.op, r.compressed, r.buf = true, op, rsv&4 != 0, nil
		}
		start := len(r.buf)
		r.buf = append(r.buf, make([]byte, n)...)
		payload = r.buf[start:]
	}
	if _, err := io.ReadFull(r.br, payload); err != nil {
		return event{kind: evEOF, err: fmt.Errorf("TCP closed inside a frame's payload: %v", err)}, true
	}
	if masked {
		maskBytes(payload, key)
	}
	switch op {
	case opPing:
		return event{kind: evPing, data: payload}, true
	case opPong:
		return event{kind: evPong, data: payload}, true
	case opClose:
		r.closed = true
		return closeEvent(payload), true
	}
	if !fin {
		return event{}, false
	}
	data := r.buf
	r.inMessage, r.buf = false, nil
	if r.compressed {
		var err error
		if data, err = r.inflate.inflate(data); err != nil {
			return violation("compressed message does not inflate: %v", err), true
		}
	}
	if r.op == opText && !utf8.Valid(data) {
		return violation("text message of %d bytes is not valid UTF-8", len(data)), true
	}
	return message(r.op, data), true
}

// closeEvent checks a close frame's payload (RFC 6455 §5.5.1, §7.4).
func closeEvent(p []byte) event {
	switch {
	case len(p) == 0:
		return event{kind: evClose, code: -1}
	case len(p) == 1:
		return violation("close frame with a 1-byte payload")
	}
	code := int(binary.BigEndian.Uint16(p))
	if !validCloseCode(code) {
		return violation("close frame with code %d, which may not be sent", code)
	}
	if !utf8.Valid(p[2:]) {
		return violation("close frame with code %d and a reason that is not valid UTF-8", code)
	}
	return event{kind: evClose, code: code, reason: string(p[2:])}
}

// validCloseCode reports whether an endpoint may send code in a close
// frame: 1000-1003, 1007-1014 and 3000-4999.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
