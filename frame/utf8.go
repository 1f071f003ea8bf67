package frame

import "encoding/binary"

// UTF8Validator checks that text fed to it in pieces is valid UTF-8 as
// RFC 3629 defines it: no overlong forms, no surrogates (U+D800-U+DFFF), no
// code points above U+10FFFF. Non-characters such as U+FFFE are valid. Its
// verdict on a whole text is that of unicode/utf8.Valid.
//
// A sequence may be split across pieces; an invalid sequence is reported at
// the first byte that makes it invalid, even when that byte arrives alone
// in its piece (e0 then 80 fails on 80; f4 then 90 fails on 90), and never
// earlier. A text that ends inside a sequence is invalid: check Complete at
// its end.
//
// The zero value is ready to use. A validator is one byte of state and
// holds no memory; it belongs to one goroutine at a time.
type UTF8Validator struct {
	state uint8 // DFA state: a shift into the rows of utf8DFA
}

// Validate checks p as the continuation of the text fed so far and returns
// len(p) and true when every byte of p is acceptable (p may end inside a
// sequence, which the next piece must complete). Otherwise it returns the
// index in p of the first byte that makes the text invalid, and false. It
// does not retain p.
//
// A validator that has failed stays failed: later calls return 0 and false
// until Reset.
//
// Validate allocates nothing. ASCII runs are checked 16 and 32 bytes at a
// time, other text 16 bytes at a time by a branch-free automaton, and a
// whole text is checked at least as fast as unicode/utf8.Valid checks it.
func (v *UTF8Validator) Validate(p []byte) (int, bool) {
	s := uint64(v.state)
	if s == dfaError {
		return 0, false
	}
	if len(p) < 8 {
		for _, c := range p {
			s = utf8DFA[c] >> (s & 63)
		}
		if s&63 == dfaError {
			return v.fail(0, uint64(v.state), p)
		}
		v.state = uint8(s & 63)
		return len(p), true
	}
	// The automaton: each row of utf8DFA holds, at bit offset s, the state
	// that follows state s on that byte. States are multiples of 6 below
	// 64, so the next state is row>>s, of which only the low 6 bits count;
	// a shift by s&63 needs no masking on amd64 and arm64. dfaError is
	// absorbing, so a block of bytes needs one check, at its end.
	i, n := 0, len(p)
	for n-i >= 16 {
		q := p[i : i+16 : i+16]
		w0, w1 := binary.LittleEndian.Uint64(q), binary.LittleEndian.Uint64(q[8:])
		if s&63 == dfaAccept && (w0|w1)&highBits == 0 {
			// 16 ASCII bytes; look for more, 32 at a time.
			i += 16
			for n-i >= 32 {
				q := p[i : i+32 : i+32]
				w := binary.LittleEndian.Uint64(q) | binary.LittleEndian.Uint64(q[8:]) |
					binary.LittleEndian.Uint64(q[16:]) | binary.LittleEndian.Uint64(q[24:])
				if w&highBits != 0 {
					break
				}
				i += 32
			}
			continue
		}
		s0 := s
		// Skip either half of the block when it is ASCII between
		// characters: mixed text is mostly such halves.
		if s&63 != dfaAccept || w0&highBits != 0 {
			s = utf8DFA[q[0]] >> (s & 63)
			s = utf8DFA[q[1]] >> (s & 63)
			s = utf8DFA[q[2]] >> (s & 63)
			s = utf8DFA[q[3]] >> (s & 63)
			s = utf8DFA[q[4]] >> (s & 63)
			s = utf8DFA[q[5]] >> (s & 63)
			s = utf8DFA[q[6]] >> (s & 63)
			s = utf8DFA[q[7]] >> (s & 63)
		}
		if s&63 != dfaAccept || w1&highBits != 0 {
			s = utf8DFA[q[8]] >> (s & 63)
			s = utf8DFA[q[9]] >> (s & 63)
			s = utf8DFA[q[10]] >> (s & 63)
			s = utf8DFA[q[11]] >> (s & 63)
			s = utf8DFA[q[12]] >> (s & 63)
			s = utf8DFA[q[13]] >> (s & 63)
			s = utf8DFA[q[14]] >> (s & 63)
			s = utf8DFA[q[15]] >> (s & 63)
		}
		if s&63 == dfaError {
			return v.fail(i, s0, q)
		}
		i += 16
	}
	if n-i >= 8 {
		q := p[i : i+8 : i+8]
		if s&63 != dfaAccept || binary.LittleEndian.Uint64(q)&highBits != 0 {
			s0 := s
			s = utf8DFA[q[0]] >> (s & 63)
			s = utf8DFA[q[1]] >> (s & 63)
			s = utf8DFA[q[2]] >> (s & 63)
			s = utf8DFA[q[3]] >> (s & 63)
			s = utf8DFA[q[4]] >> (s & 63)
			s = utf8DFA[q[5]] >> (s & 63)
			s = utf8DFA[q[6]] >> (s & 63)
			s = utf8DFA[q[7]] >> (s & 63)
			if s&63 == dfaError {
				return v.fail(i, s0, q)
			}
		}
		i += 8
	}
	if i < n {
		q := p[i:]
		s0 := s
		for _, c := range q {
			s = utf8DFA[c] >> (s & 63)
		}
		if s&63 == dfaError {
			return v.fail(i, s0, q)
		}
	}
	v.state = uint8(s & 63)
	return n, true
}

// fail finds the byte of q, which starts at offset i of the caller's piece
// in state s, at which the automaton failed, and leaves v failed.
func (v *UTF8Validator) fail(i int, s uint64, q []byte) (int, bool) {
	v.state = dfaError
	for j, c := range q {
		s = utf8DFA[c] >> (s & 63)
		if s&63 == dfaError {
			return i + j, false
		}
	}
	panic("frame: UTF-8 automaton failed without a failing byte")
}

// Complete reports whether the text fed so far is valid and ends on a
// character boundary. A message that ends inside a sequence is invalid.
func (v *UTF8Validator) Complete() bool { return v.state == dfaAccept }

// Reset prepares v for a new text.
func (v *UTF8Validator) Reset() { v.state = dfaAccept }

// ValidUTF8 reports whether p is entirely valid UTF-8. It agrees with
// unicode/utf8.Valid and is at least as fast.
func ValidUTF8(p []byte) bool {
	var v UTF8Validator
	_, ok := v.Validate(p)
	return ok && v.Complete()
}

// validUTF8String reports whether s is valid UTF-8; it is meant for short
// strings such as close reasons.
func validUTF8String(s string) bool {
	st := uint64(dfaAccept)
	for i := 0; i < len(s); i++ {
		st = utf8DFA[s[i]] >> (st & 63)
	}
	return st&63 == dfaAccept
}

const highBits = 0x8080808080808080 // the high bit of each byte of a word

// States of the UTF-8 automaton, as bit offsets into the rows of utf8DFA.
// The zero value of UTF8Validator must be dfaAccept, so it is 0.
const (
	dfaAccept = 6 * iota // between characters
	dfaError             // invalid; absorbing
	dfaTail1             // one more byte 80-BF ends the character
	dfaTail2             // two more bytes 80-BF
	dfaTail3             // three more bytes 80-BF
	dfaE0                // after E0: A0-BF, then dfaTail1 (no overlong forms)
	dfaED                // after ED: 80-9F, then dfaTail1 (no surrogates)
	dfaF0                // after F0: 90-BF, then dfaTail2 (no overlong forms)
	dfaF4                // after F4: 80-8F, then dfaTail2 (nothing above U+10FFFF)
)

// utf8DFA is the automaton's transition table, one row per input byte. It
// encodes RFC 3629's table of well-formed byte sequences (§4).
var utf8DFA = func() (t [256]uint64) {
	on := func(from uint64, lo, hi int, to uint64) {
		for c := lo; c <= hi; c++ {
			t[c] = t[c]&^(63<<from) | to<<from
		}
	}
	for _, s := range []uint64{dfaAccept, dfaError, dfaTail1, dfaTail2, dfaTail3, dfaE0, dfaED, dfaF0, dfaF4} {
		on(s, 0x00, 0xFF, dfaError)
	}
	on(dfaAccept, 0x00, 0x7F, dfaAccept)
	on(dfaAccept, 0xC2, 0xDF, dfaTail1)
	on(dfaAccept, 0xE0, 0xE0, dfaE0)
	on(dfaAccept, 0xE1, 0xEC, dfaTail2)
	on(dfaAccept, 0xED, 0xED, dfaED)
	on(dfaAccept, 0xEE, 0xEF, dfaTail2)
	on(dfaAccept, 0xF0, 0xF0, dfaF0)
	on(dfaAccept, 0xF1, 0xF3, dfaTail3)
	on(dfaAccept, 0xF4, 0xF4, dfaF4)
	on(dfaTail1, 0x80, 0xBF, dfaAccept)
	on(dfaTail2, 0x80, 0xBF, dfaTail1)
	on(dfaTail3, 0x80, 0xBF, dfaTail2)
	on(dfaE0, 0xA0, 0xBF, dfaTail1)
	on(dfaED, 0x80, 0x9F, dfaTail1)
	on(dfaF0, 0x90, 0xBF, dfaTail2)
	on(dfaF4, 0x80, 0x8F, dfaTail2)
	return t
}()
