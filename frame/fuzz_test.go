package frame

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"
	"testing"
	"unicode/utf8"
	"unsafe"
)

// FuzzParser feeds arbitrary bytes to the parser, whole, cut at
// fuzzer-chosen points and byte by byte, for both roles and with and
// without compression, UTF-8 checks and a size limit. Every run must give
// the frames and the error that refParse, an independent whole-input
// implementation of RFC 6455 §5, gives. Along the way the parser must
// never panic, must consume all its input or complete a fragment on each
// call, must keep no reference to its input (the bytes of a piece are
// overwritten once it is consumed), and must hold nothing but its fixed
// fields: see checkParserMemory.
func FuzzParser(f *testing.F) {
	for _, c := range autobahnCases() {
		all := bytes.Join(stream(true, c.frames...), nil)
		if len(all) < 4096 {
			f.Add(all, []byte{1, 3, 7}, uint8(0), uint16(0))
			// The same with a limit that fragmented messages exceed, and
			// with RSV1 allowed and UTF-8 unchecked.
			f.Add(all, []byte{0, 9, 2}, uint8(fuzzCompression|fuzzSkipUTF8), uint16(20))
		}
	}
	f.Add(bytes.Join(stream(false, textF("hi"), pingF("x"), closeF(closePayload(1000, "ok"))), nil), []byte{2}, uint8(fuzzClient), uint16(3))
	f.Add([]byte{0xc1, 0x85, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []byte{5}, uint8(fuzzCompression), uint16(0))
	f.Add(bytes.Join(stream(true, openF(OpText, "\xce"), pingF("p"), contF("\xba\xff", true)), nil), []byte{0, 1}, uint8(0), uint16(100))

	f.Fuzz(func(t *testing.T, data, cuts []byte, flags uint8, limit uint16) {
		config := Parser{
			Client:         flags&fuzzClient != 0,
			Compression:    flags&fuzzCompression != 0,
			SkipUTF8:       flags&fuzzSkipUTF8 != 0,
			MaxMessageSize: int64(limit),
		}
		want := refParse(data, &config)

		whole := config
		if got := fuzzRun(t, &whole, [][]byte{bytes.Clone(data)}, false); got != want {
			t.Fatalf("reference parser gave\n%s\nwhole input gave\n%s", want, got)
		}

		// Cut where the fuzzer says: each cut byte is the length of the
		// next piece (0 means 1).
		var pieces [][]byte
		rest := bytes.Clone(data)
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				n = min(int(cuts[i%len(cuts)])+1, len(rest))
			}
			pieces = append(pieces, rest[:n])
			rest = rest[n:]
		}
		cut := config
		if got := fuzzRun(t, &cut, pieces, true); got != want {
			t.Fatalf("reference parser gave\n%s\ncut input gave\n%s", want, got)
		}

		var one [][]byte
		cp := bytes.Clone(data)
		for i := range cp {
			one = append(one, cp[i:i+1])
		}
		bytewise := config
		if got := fuzzRun(t, &bytewise, one, true); got != want {
			t.Fatalf("reference parser gave\n%s\nbyte-by-byte gave\n%s", want, got)
		}
	})
}

// Bits of FuzzParser's flags argument.
const (
	fuzzClient = 1 << iota
	fuzzCompression
	fuzzSkipUTF8
)

// fuzzRun feeds pieces to p and returns a description of the frames it
// completed and of its error, checking the parser's contract on every
// call. With scribble, each piece is overwritten once consumed, so that a
// parser that kept a reference to its input would go wrong.
func fuzzRun(t *testing.T, p *Parser, pieces [][]byte, scribble bool) string {
	t.Helper()
	var (
		out            bytes.Buffer
		payload        []byte // the current frame's payload so far
		msg            []byte // the current data message so far
		msgOpen        bool
		start, inFrame bool // Start flag of the frame's first fragment
	)
	for _, piece := range pieces {
		c := piece
		for len(c) > 0 {
			f, n, ok, err := p.Next(c)
			if n < 0 || n > len(c) {
				t.Fatalf("Next consumed %d of %d bytes", n, len(c))
			}
			checkParserMemory(t, p, piece)
			c = c[n:]
			if err != nil {
				checkProtocolError(t, err)
				if p.Err() != err {
					t.Fatalf("Next returned %v but Err() is %v", err, p.Err())
				}
				if _, n, ok, err2 := p.Next([]byte{0x81}); n != 0 || ok || err2 != err {
					t.Fatalf("after %v, Next returned n=%d ok=%v err=%v", err, n, ok, err2)
				}
				fmt.Fprintf(&out, "error %v", err)
				return out.String()
			}
			if !ok {
				if len(c) != 0 {
					t.Fatalf("Next wants more input but left %d bytes", len(c))
				}
				break
			}
			if n == 0 {
				t.Fatalf("Next returned a fragment without consuming input")
			}
			checkFragment(t, p, f, msgOpen)
			if !inFrame {
				start, inFrame = f.Start, true
			}
			payload = append(payload, f.Payload...)
			if len(payload) > MaxControlPayload && f.Opcode.IsControl() {
				t.Fatalf("control frame delivered %d bytes", len(payload))
			}
			if !f.Opcode.IsControl() {
				msg = append(msg, f.Payload...)
				msgOpen = !f.End
				if p.MaxMessageSize > 0 && int64(len(msg)) > CompressedLimit(p.MaxMessageSize) || !f.Compressed && p.MaxMessageSize > 0 && int64(len(msg)) > p.MaxMessageSize {
					t.Fatalf("message of %d bytes delivered past a limit of %d", len(msg), p.MaxMessageSize)
				}
				if f.End {
					if f.Opcode == OpText && !f.Compressed && !p.SkipUTF8 && !utf8.Valid(msg) {
						t.Fatalf("invalid UTF-8 text message delivered: %x", msg)
					}
					msg = msg[:0]
				}
			}
			if f.FrameEnd {
				inFrame = false
				h := p.Frame()
				fmt.Fprintf(&out, "%v fin=%v rsv=%d len=%d msg=%v start=%v end=%v comp=%v %x\n",
					h.Opcode, h.Fin, h.Rsv, h.Length, f.Opcode, start, f.End, f.Compressed, payload)
				if int64(len(payload)) != h.Length {
					t.Fatalf("frame of length %d delivered %d bytes", h.Length, len(payload))
				}
				payload = payload[:0]
			}
		}
		if scribble {
			for i := range piece {
				piece[i] = 0xA5
			}
		}
	}
	return out.String()
}

// checkFragment checks the invariants of a fragment Next returned.
func checkFragment(t *testing.T, p *Parser, f Fragment, msgOpen bool) {
	t.Helper()
	switch {
	case f.Opcode == OpContinuation || f.Opcode.IsReserved():
		t.Fatalf("fragment with opcode %v", f.Opcode)
	case f.End && !f.FrameEnd:
		t.Fatalf("fragment ends a message but not its frame")
	case f.Compressed && (!p.Compression || f.Opcode.IsControl()):
		t.Fatalf("fragment marked compressed without compression, or on a control frame")
	case !f.Opcode.IsControl() && f.Start == msgOpen:
		t.Fatalf("data fragment Start=%v while a message is open=%v", f.Start, msgOpen)
	}
}

// sentinelErrors are the errors a Parser may return.
var sentinelErrors = []*Error{
	ErrLengthOverflow, ErrReservedBits, ErrReservedOpcode, ErrControlTooLong,
	ErrControlFragment, ErrUnexpectedCont, ErrExpectedCont, ErrMaskRequired,
	ErrMaskForbidden, ErrCompressedCont, ErrInvalidUTF8, ErrMessageTooBig,
	ErrCloseLength, ErrCloseCode, ErrCloseReasonUTF8,
}

// checkProtocolError checks that err is one of the package's protocol
// errors, with one of the close codes a parser may ask for.
func checkProtocolError(t *testing.T, err error) {
	t.Helper()
	perr, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %T %v is not a *frame.Error", err, err)
	}
	for _, s := range sentinelErrors {
		if perr == s {
			switch perr.Code {
			case CloseProtocolError, CloseInvalidPayload, CloseMessageTooBig:
				return
			}
			t.Fatalf("error %v has close code %v", err, perr.Code)
		}
	}
	t.Fatalf("error %v is not one of the package's errors", err)
}

// checkParserMemory checks that p holds no reference to in, and nothing
// but its own fixed-size fields and a package-level error: whatever it is
// fed, a parser's memory is its struct. TestParserHoldsNoMemory checks the
// type; this checks the values of its fields that can refer to memory.
func checkParserMemory(t *testing.T, p *Parser, in []byte) {
	t.Helper()
	if p.err != nil {
		checkProtocolError(t, p.err)
	}
	if len(in) == 0 {
		return
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(in)))
	hi := lo + uintptr(cap(in))
	v := reflect.ValueOf(p).Elem()
	for _, idx := range parserRefFields {
		f := v.FieldByIndex(idx)
		for f.Kind() == reflect.Interface && !f.IsNil() {
			f = f.Elem()
		}
		var ptr uintptr
		switch f.Kind() {
		case reflect.String:
			ptr = uintptr(unsafe.Pointer(unsafe.StringData(f.String())))
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Chan, reflect.UnsafePointer:
			ptr = f.Pointer()
		}
		if ptr >= lo && ptr < hi {
			t.Fatalf("parser field %v points into its input", v.Type().FieldByIndex(idx).Name)
		}
	}
}

// parserRefFields lists the index paths of the fields of Parser, in nested
// structs too, whose type can refer to memory.
var parserRefFields = func() (list [][]int) {
	var find func(typ reflect.Type, idx []int)
	find = func(typ reflect.Type, idx []int) {
		for i := 0; i < typ.NumField(); i++ {
			path := append(append([]int{}, idx...), i)
			switch ft := typ.Field(i).Type; ft.Kind() {
			case reflect.Struct:
				find(ft, path)
			case reflect.Interface, reflect.String, reflect.Pointer, reflect.Slice, reflect.Map, reflect.Chan, reflect.UnsafePointer:
				list = append(list, path)
			}
		}
	}
	find(reflect.TypeOf(Parser{}), nil)
	return list
}()

// TestParserHoldsNoMemory checks that a Parser's state is fixed-size
// values only, apart from its error, which is one of the package's
// (checkProtocolError): it cannot grow, whatever it is fed, and it cannot
// keep any of its input beyond an incomplete header copied into an array.
func TestParserHoldsNoMemory(t *testing.T) {
	var check func(typ reflect.Type, path string)
	check = func(typ reflect.Type, path string) {
		switch typ.Kind() {
		case reflect.Struct:
			for i := 0; i < typ.NumField(); i++ {
				fld := typ.Field(i)
				if path == "Parser" && fld.Name == "err" {
					continue
				}
				check(fld.Type, path+"."+fld.Name)
			}
		case reflect.Array:
			check(typ.Elem(), path+"[]")
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		default:
			t.Errorf("Parser field %s has type %v, which can hold memory", path, typ)
		}
	}
	check(reflect.TypeOf(Parser{}), "Parser")
	if s := unsafe.Sizeof(Parser{}); s > 88 {
		t.Errorf("Parser is %d bytes, want at most 88: it is embedded in every connection (order new fields to fill the gaps)", s)
	}
}

// refParse parses the whole of data as a Parser configured like config
// would, and describes the frames and error in fuzzRun's format. It is
// written for clarity, not speed, and shares no code with the parser: it
// decodes headers itself, unmasks byte by byte and judges UTF-8 with
// utf8Oracle, which is built on unicode/utf8.
func refParse(data []byte, config *Parser) string {
	var out bytes.Buffer
	fail := func(err error) string {
		fmt.Fprintf(&out, "error %v", err)
		return out.String()
	}
	var (
		msgOp   Opcode // open data message, 0 if none
		msgLen  int64
		msgComp bool
		text    []byte // the open text message, from its last known character boundary
	)
	for pos := 0; ; {
		// The header.
		h, size, overflow := refDecodeHeader(data[pos:])
		switch {
		case overflow:
			return fail(ErrLengthOverflow)
		case size == 0:
			return out.String()
		}
		fin, rsv, op, masked, length, key := h.Fin, h.Rsv, h.Opcode, h.Masked, h.Length, h.Key

		// The rules of RFC 6455 §5, in the order the parser checks them.
		control := op >= 8
		switch {
		case rsv&^Rsv1 != 0:
			return fail(ErrReservedBits)
		case op != OpContinuation && op != OpText && op != OpBinary && op != OpClose && op != OpPing && op != OpPong:
			return fail(ErrReservedOpcode)
		case rsv&Rsv1 != 0 && !config.Compression:
			return fail(ErrReservedBits)
		case rsv&Rsv1 != 0 && (control || op == OpContinuation):
			return fail(ErrCompressedCont)
		case control && !fin:
			return fail(ErrControlFragment)
		case control && length > 125:
			return fail(ErrControlTooLong)
		case op == OpClose && length == 1:
			return fail(ErrCloseLength)
		case op == OpContinuation && msgOp == 0:
			return fail(ErrUnexpectedCont)
		case (op == OpText || op == OpBinary) && msgOp != 0:
			return fail(ErrExpectedCont)
		case masked && config.Client:
			return fail(ErrMaskForbidden)
		case !masked && !config.Client:
			return fail(ErrMaskRequired)
		}
		if !control {
			if op != OpContinuation {
				msgOp, msgLen, msgComp, text = op, 0, rsv&Rsv1 != 0, text[:0]
			}
			limit := config.MaxMessageSize
			if msgComp && limit > 0 {
				limit += limit/8 + 4096 // CompressedLimit
			}
			if limit > 0 && msgLen+length > limit {
				return fail(ErrMessageTooBig)
			}
			msgLen += length
		}
		pos += size

		// The payload, or as much of it as there is.
		avail := min(int64(len(data)-pos), length)
		payload := bytes.Clone(data[pos : pos+int(avail)])
		if masked {
			for i := range payload {
				payload[i] ^= key[i%4]
			}
		}
		complete := avail == length
		if op == OpClose && len(payload) >= 2 {
			code := binary.BigEndian.Uint16(payload)
			if !(code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999) {
				return fail(ErrCloseCode)
			}
			bad, boundary := utf8Oracle(payload[2:])
			if bad >= 0 || complete && !boundary[len(payload)-2] {
				return fail(ErrCloseReasonUTF8)
			}
		}
		if !control && msgOp == OpText && !msgComp && !config.SkipUTF8 {
			text = append(text, payload...)
			bad, boundary := utf8Oracle(text)
			if bad >= 0 || complete && fin && !boundary[len(text)] {
				return fail(ErrInvalidUTF8)
			}
			// Whether text is valid up to a boundary does not depend on
			// what follows: keep only what follows the last one.
			last := len(text)
			for !boundary[last] {
				last--
			}
			text = append(text[:0], text[last:]...)
		}
		if !complete {
			return out.String()
		}
		pos += int(length)

		msgView, start, end, comp := op, true, true, false
		if !control {
			msgView, start, end, comp = msgOp, op != OpContinuation, fin, msgComp
			if fin {
				msgOp = 0
			}
		}
		fmt.Fprintf(&out, "%v fin=%v rsv=%d len=%d msg=%v start=%v end=%v comp=%v %x\n",
			op, fin, rsv, length, msgView, start, end, comp, payload)
	}
}

// refDecodeHeader decodes the header at the start of b, independently of
// DecodeHeader, for refParse and FuzzHeader. It returns size 0 when b is
// too short and overflow for a 64-bit length with its top bit set.
func refDecodeHeader(b []byte) (h Header, size int, overflow bool) {
	if len(b) < 2 {
		return Header{}, 0, false
	}
	h.Fin, h.Rsv, h.Opcode = b[0]&0x80 != 0, b[0]>>4&7, Opcode(b[0]&0xF)
	h.Masked, h.Length = b[1]&0x80 != 0, int64(b[1]&0x7F)
	size = 2
	switch h.Length {
	case 126:
		size += 2
	case 127:
		size += 8
	}
	if h.Masked {
		size += 4
	}
	if len(b) < size {
		return Header{}, 0, false
	}
	switch h.Length {
	case 126:
		h.Length = int64(b[2])<<8 | int64(b[3])
	case 127:
		if b[2]&0x80 != 0 {
			return Header{}, 0, true
		}
		h.Length = 0
		for _, c := range b[2:10] {
			h.Length = h.Length<<8 | int64(c)
		}
	}
	if h.Masked {
		copy(h.Key[:], b[size-4:size])
	}
	return h, size, false
}

// TestRefParse checks the reference parser on a few streams whose
// description is known, so that FuzzParser does not compare the parser
// with a broken reference.
func TestRefParse(t *testing.T) {
	server := &Parser{}
	for _, tc := range []struct {
		frames []wireFrame
		want   string
	}{
		{[]wireFrame{textF("hi")}, "text fin=true rsv=0 len=2 msg=text start=true end=true comp=false 6869\n"},
		{[]wireFrame{openF(OpBinary, "a"), pingF(""), contF("b", true)},
			"binary fin=false rsv=0 len=1 msg=binary start=true end=false comp=false 61\n" +
				"ping fin=true rsv=0 len=0 msg=ping start=true end=true comp=false \n" +
				"continuation fin=true rsv=0 len=1 msg=binary start=false end=true comp=false 62\n"},
		{[]wireFrame{textF("a\xffb")}, "error websocket: invalid UTF-8 in text message"},
		{[]wireFrame{openF(OpText, "\xf4"), contF("\x90", true)},
			"text fin=false rsv=0 len=1 msg=text start=true end=false comp=false f4\nerror websocket: invalid UTF-8 in text message"},
		{[]wireFrame{textF("ok"), {fin: true, op: 3}}, "text fin=true rsv=0 len=2 msg=text start=true end=true comp=false 6f6b\nerror websocket: reserved opcode"},
		{[]wireFrame{closeF(closePayload(1005, ""))}, "error websocket: invalid close code"},
	} {
		if got := refParse(bytes.Join(stream(true, tc.frames...), nil), server); got != tc.want {
			t.Errorf("refParse(%v) =\n%s\nwant\n%s", tc.frames, got, tc.want)
		}
	}
	// A text frame cut inside a character is not an error until it ends.
	all := bytes.Join(stream(true, textF("a\xe2\x82\xac")), nil)
	if got := refParse(all[:len(all)-1], server); got != "" {
		t.Errorf("refParse of a truncated frame = %q, want nothing", got)
	}
}
