package frame

// A Fragment is a piece of a message, or of a control frame, that Parser.Next
// has unmasked and checked.
//
// Data messages arrive as one or more fragments: the first has Start set,
// the last End. A message that fits in the input given to Next (the usual
// case for small messages) arrives as a single fragment with both set.
// Control frames are never fragmented on the wire but may still be split
// across reads, so they too may arrive in several fragments; their payload
// is at most MaxControlPayload bytes in total.
type Fragment struct {
	// Opcode is the message type (OpText or OpBinary) for data, or the
	// control opcode (OpClose, OpPing, OpPong). It is never OpContinuation.
	Opcode Opcode

	// Payload holds unmasked payload bytes. It aliases the slice given to
	// Next and is valid until the caller reuses that memory; it may be
	// empty.
	Payload []byte

	// Start reports the first bytes of a message or control frame.
	Start bool

	// FrameEnd reports the last bytes of the current frame.
	FrameEnd bool

	// End reports the last bytes of the message or control frame. For a
	// text message, End also means that the whole message is valid UTF-8
	// (unless Compressed, or Parser.SkipUTF8 is set); for a close frame,
	// that its payload is one ParseClose accepts.
	End bool

	// Compressed reports that the message's first frame had RSV1 set
	// (Parser.Compression). Its payload is deflated and has not been
	// UTF-8 validated.
	Compressed bool
}

// Parser reads WebSocket frames from a byte stream delivered in pieces of
// any size, down to one byte at a time, and enforces RFC 6455 §5: control
// frames at most 125 bytes long and never fragmented, control frames
// allowed between the fragments of a message, continuation rules, reserved
// bits and opcodes, and the mask bit (required from clients, forbidden from
// servers). Text messages are validated as UTF-8 while they stream in, and
// fail at the first invalid byte. Close frames are validated too (code and
// UTF-8 reason).
//
// The parser holds only the bytes of an incomplete frame header (at most
// MaxHeaderSize); payload bytes are unmasked in place and handed on, never
// copied. Its zero value reads frames from a client (masked) with no
// message size limit and no extensions; set the configuration fields before
// the first call to Next.
//
// A Parser belongs to one goroutine at a time. It is 88 bytes and
// holds no other memory, so it can be embedded in every connection.
//
// After Next returns an error the parser is failed: every later call
// returns the same error. The caller should send a close frame with the
// error's Code and drop the connection, processing nothing after the
// offending frame.
type Parser struct {
	// The fields are ordered so that the small unexported ones fill the
	// gaps the exported ones leave: 88 bytes in all, where the natural
	// order took 104 (every connection embeds one).

	// Client marks a parser that reads frames sent by a server, which must
	// be unmasked. When false it reads a client's frames, which must be
	// masked.
	Client bool

	closeSeen uint8         // close frame: code bytes seen so far, 0 to 2
	closeCode uint16        // close frame: code bytes seen so far
	reason    UTF8Validator // the close frame's reason
	text      UTF8Validator // the open text message
	hdrLen    uint8         // bytes in hdr
	inFrame   bool

	// MaxMessageSize limits the payload of one data message, summed over its
	// frames, in bytes. A frame header that would take a message past it is
	// refused with ErrMessageTooBig before any of its payload is read. Zero
	// means no limit.
	//
	// For a compressed message (see Compression) the limit is meant for the
	// inflated size, which only the inflater can enforce (Inflater.Append
	// takes the same limit); the parser bounds the compressed bytes at
	// CompressedLimit(MaxMessageSize), so that what a receiver gathers
	// before inflating stays bounded too.
	MaxMessageSize int64

	// Compression allows RSV1 on the first frame of a data message, as
	// permessage-deflate (RFC 7692) uses it. Such messages are reported with
	// Fragment.Compressed and are not UTF-8 validated here: validate them
	// after inflating.
	Compression bool

	// SkipUTF8 turns off UTF-8 validation of text messages, for callers
	// that promise their users no validation (gorilla/websocket leaves it to
	// the application). Close reasons are validated regardless.
	SkipUTF8 bool

	started       bool   // the current frame has returned its first fragment
	maskPos       uint8  // key offset of the next payload byte
	msgOp         Opcode // opcode of the open data message; 0 when none is open
	msgStarted    bool   // the open message has returned its first fragment
	msgCompressed bool

	err error

	hdr    [MaxHeaderSize]byte // bytes of an incomplete header
	frame  Header              // current frame, valid while inFrame
	remain int64               // payload bytes of the current frame not yet returned
	msgLen int64               // payload bytes of the open message so far
}

// Err returns the error that failed the parser, or nil.
func (p *Parser) Err() error { return p.err }

// Frame returns the header of the frame being read. It is meaningful after
// Next has returned a fragment, until the next call to Next.
func (p *Parser) Frame() Header { return p.frame }

// InMessage reports whether a fragmented data message is open: its first
// frame has been read but not its final one.
func (p *Parser) InMessage() bool { return p.msgOp != 0 }

// AtBoundary reports whether the parser stands between frames with no
// data message open: it holds no part of a frame, so the bytes that follow
// may be handed to a fresh Parser (another reader of the same stream)
// without losing anything.
func (p *Parser) AtBoundary() bool {
	return p.err == nil && p.hdrLen == 0 && !p.inFrame && p.msgOp == 0
}

// Reset returns the parser to the start of a stream, keeping its
// configuration.
func (p *Parser) Reset() {
	*p = Parser{
		Client:         p.Client,
		MaxMessageSize: p.MaxMessageSize,
		Compression:    p.Compression,
		SkipUTF8:       p.SkipUTF8,
	}
}

// Next reads from the start of b and returns the number of bytes it
// consumed. When ok is true, those bytes (at least one) completed the
// fragment f; call Next again with b[n:], which may hold more. When ok is
// false and err is nil, all of b was consumed and the parser needs more
// input. b may be empty.
//
// Next unmasks payload bytes in place, so b is modified. f.Payload aliases
// b. The parser keeps no reference to b: only the bytes of an incomplete
// header are copied, into the parser itself.
//
// A frame whose payload is empty is still returned, as a fragment with an
// empty payload, as soon as its header is complete.
//
// When a text message turns out invalid at a byte of b, Next first returns
// the valid bytes before that byte, if any, as a fragment with FrameEnd and
// End unset, and leaves the offending byte unconsumed; the next call, with
// the rest of b, returns ErrInvalidUTF8. What is delivered before an error
// thus does not depend on how the stream was split into reads.
func (p *Parser) Next(b []byte) (f Fragment, n int, ok bool, err error) {
	if p.err != nil {
		return f, 0, false, p.err
	}
	if !p.inFrame {
		var h Header
		if p.hdrLen == 0 {
			// Usually the whole header is in b and is decoded in place.
			var more int
			h, n, more, err = DecodeHeader(b)
			if more > 0 {
				p.hdrLen = uint8(copy(p.hdr[:], b))
				return f, len(b), false, nil
			}
		} else {
			var done bool
			h, n, done, err = p.stashHeader(b)
			if !done && err == nil {
				return f, n, false, nil
			}
		}
		if err == nil {
			err = p.begin(&h)
		}
		if err != nil {
			return f, n, false, p.fail(err)
		}
	}

	take := p.remain
	if avail := int64(len(b) - n); avail < take {
		take = avail
	}
	if take == 0 && p.remain > 0 {
		return f, n, false, nil // header consumed, no payload bytes yet
	}
	payload := b[n : n+int(take)]
	n += int(take)
	p.remain -= take
	if p.frame.Masked {
		p.maskPos = uint8(Mask(p.frame.Key, int(p.maskPos), payload))
	}

	f.Payload = payload
	f.FrameEnd = p.remain == 0
	f.Start = !p.started
	p.started = true

	if p.frame.Opcode.IsControl() {
		f.Opcode = p.frame.Opcode
		f.End = f.FrameEnd
		if f.Opcode == OpClose {
			if err := p.checkClose(payload, f.End); err != nil {
				return Fragment{}, n, false, p.fail(err)
			}
		}
	} else {
		f.Opcode = p.msgOp
		f.Start = !p.msgStarted
		p.msgStarted = true
		f.Compressed = p.msgCompressed
		f.End = f.FrameEnd && p.frame.Fin
		if p.msgOp == OpText && !p.msgCompressed && !p.SkipUTF8 {
			if i, valid := p.text.Validate(payload); !valid {
				// Hand on the valid prefix, if any, so that what is
				// delivered before the error does not depend on how the
				// input was split; the next call reports the error.
				// The invalid byte is left unconsumed, so the caller,
				// having b[n:] non-empty, calls again and sees the error.
				p.fail(ErrInvalidUTF8)
				if i == 0 {
					return Fragment{}, n, false, p.err
				}
				n -= len(payload) - i
				f.Payload = payload[:i]
				f.FrameEnd, f.End = false, false
				return f, n, true, nil
			}
			if f.End && !p.text.Complete() {
				return Fragment{}, n, false, p.fail(ErrInvalidUTF8)
			}
		}
		if f.End {
			p.msgOp = 0
		}
	}
	if f.FrameEnd {
		p.inFrame = false
	}
	return f, n, true, nil
}

// stashHeader gathers header bytes from b into p.hdr. It returns the decoded
// header and done once the header is complete, with n the bytes of b it
// used.
func (p *Parser) stashHeader(b []byte) (h Header, n int, done bool, err error) {
	want := 2
	for {
		if p.hdrLen >= 2 {
			want = headerSize(p.hdr[0], p.hdr[1])
		}
		if int(p.hdrLen) >= want {
			break
		}
		if n == len(b) {
			return h, n, false, nil
		}
		c := copy(p.hdr[p.hdrLen:want], b[n:])
		p.hdrLen += uint8(c)
		n += c
	}
	h, _, _, err = DecodeHeader(p.hdr[:want])
	p.hdrLen = 0
	return h, n, true, err
}

// begin checks a newly decoded header against the protocol and the
// parser's state, and makes it the current frame.
func (p *Parser) begin(h *Header) error {
	if h.Rsv&^Rsv1 != 0 {
		return ErrReservedBits
	}
	if h.Opcode.IsReserved() {
		return ErrReservedOpcode
	}
	if h.Rsv&Rsv1 != 0 {
		if !p.Compression {
			return ErrReservedBits
		}
		if h.Opcode.IsControl() || h.Opcode == OpContinuation {
			return ErrCompressedCont
		}
	}
	if h.Opcode.IsControl() {
		switch {
		case !h.Fin:
			return ErrControlFragment
		case h.Length > MaxControlPayload:
			return ErrControlTooLong
		case h.Opcode == OpClose && h.Length == 1:
			return ErrCloseLength
		}
	} else {
		if h.Opcode == OpContinuation {
			if p.msgOp == 0 {
				return ErrUnexpectedCont
			}
		} else if p.msgOp != 0 {
			return ErrExpectedCont
		}
	}
	if h.Masked == p.Client {
		if p.Client {
			return ErrMaskForbidden
		}
		return ErrMaskRequired
	}

	if !h.Opcode.IsControl() {
		if h.Opcode != OpContinuation {
			p.msgOp = h.Opcode
			p.msgLen = 0
			p.msgStarted = false
			p.msgCompressed = h.Rsv&Rsv1 != 0
			p.text.Reset()
		}
		max := p.MaxMessageSize
		if p.msgCompressed {
			max = CompressedLimit(max)
		}
		if max > 0 && h.Length > max-p.msgLen {
			return ErrMessageTooBig
		}
		if p.msgLen += h.Length; p.msgLen < 0 {
			p.msgLen = 1<<63 - 1 // no limit: saturate rather than wrap
		}
	} else if h.Opcode == OpClose {
		p.closeCode, p.closeSeen = 0, 0
		p.reason.Reset()
	}

	p.frame = *h
	p.remain = h.Length
	p.inFrame = true
	p.started = false
	p.maskPos = 0
	return nil
}

// checkClose validates a close frame's payload as it streams in: the code
// once both of its bytes are known, the reason byte by byte.
func (p *Parser) checkClose(b []byte, end bool) error {
	for p.closeSeen < 2 && len(b) > 0 {
		p.closeCode = p.closeCode<<8 | uint16(b[0])
		p.closeSeen++
		b = b[1:]
		if p.closeSeen == 2 && !CloseCode(p.closeCode).Valid() {
			return ErrCloseCode
		}
	}
	if _, ok := p.reason.Validate(b); !ok {
		return ErrCloseReasonUTF8
	}
	if end && !p.reason.Complete() {
		return ErrCloseReasonUTF8
	}
	return nil
}

func (p *Parser) fail(err error) error {
	p.err = err
	return err
}
