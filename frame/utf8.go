package frame

// UTF8Validator checks that text fed to it in pieces is valid UTF-8 as
// RFC 3629 defines it: no overlong forms, no surrogates (U+D800-U+DFFF), no
// code points above U+10FFFF. Non-characters such as U+FFFE are valid.
//
// A sequence may be split across pieces; an invalid sequence is reported at
// the first byte that makes it invalid, even when that byte arrives alone.
// The zero value is ready to use and holds no memory beyond its own fields.
type UTF8Validator struct {
	need   uint8 // continuation bytes still expected in the current sequence
	lo, hi uint8 // accepted range of the next continuation byte
}

// Validate checks p as the continuation of the text fed so far. It returns
// len(p) and true when every byte of p is valid so far (p may end inside a
// sequence), or the index in p of the first byte that makes the text
// invalid and false. After a failure the validator must be Reset before it
// is used again.
func (v *UTF8Validator) Validate(p []byte) (int, bool) {
	for i, c := range p {
		if v.need > 0 {
			if c < v.lo || c > v.hi {
				return i, false
			}
			v.need--
			v.lo, v.hi = 0x80, 0xBF
			continue
		}
		if c < 0x80 {
			continue
		}
		x := first[c]
		if x == xx {
			return i, false
		}
		v.need = x&7 - 1
		r := acceptRanges[x>>4]
		v.lo, v.hi = r.lo, r.hi
	}
	return len(p), true
}

// Complete reports whether the text fed so far ends on a character
// boundary. A message that ends inside a sequence is invalid.
func (v *UTF8Validator) Complete() bool { return v.need == 0 }

// Reset prepares v for a new text.
func (v *UTF8Validator) Reset() { *v = UTF8Validator{} }

// ValidUTF8 reports whether p is entirely valid UTF-8.
func ValidUTF8(p []byte) bool {
	var v UTF8Validator
	_, ok := v.Validate(p)
	return ok && v.Complete()
}

func validUTF8String(s string) bool {
	var v UTF8Validator
	for i := 0; i < len(s); i++ {
		if _, ok := v.Validate([]byte{s[i]}); !ok {
			return false
		}
	}
	return v.Complete()
}

// Tables after unicode/utf8: first describes each leading byte (size in the
// low 3 bits, accept range index in the high 4), acceptRanges the range of
// the second byte of a sequence.
const (
	xx = 0xF1 // invalid leading byte
	as = 0xF0 // ASCII
	s1 = 0x02 // 2 bytes, second 80..BF
	s2 = 0x13 // 3 bytes, second A0..BF (E0)
	s3 = 0x03 // 3 bytes, second 80..BF
	s4 = 0x23 // 3 bytes, second 80..9F (ED)
	s5 = 0x34 // 4 bytes, second 90..BF (F0)
	s6 = 0x04 // 4 bytes, second 80..BF
	s7 = 0x44 // 4 bytes, second 80..8F (F4)
)

var first = [256]uint8{
	as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, // 0x00-0x0F
	as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, // 0x10-0x1F
	as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, // 0x20-0x2F
	as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, // 0x30-0x3F
	as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, // 0x40-0x4F
	as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, // 0x50-0x5F
	as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, // 0x60-0x6F
	as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, as, // 0x70-0x7F
	xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, // 0x80-0x8F
	xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, // 0x90-0x9F
	xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, // 0xA0-0xAF
	xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, // 0xB0-0xBF
	xx, xx, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, // 0xC0-0xCF
	s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, // 0xD0-0xDF
	s2, s3, s3, s3, s3, s3, s3, s3, s3, s3, s3, s3, s3, s4, s3, s3, // 0xE0-0xEF
	s5, s6, s6, s6, s7, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, // 0xF0-0xFF
}

type acceptRange struct{ lo, hi uint8 }

var acceptRanges = [5]acceptRange{
	0: {0x80, 0xBF},
	1: {0xA0, 0xBF},
	2: {0x80, 0x9F},
	3: {0x90, 0xBF},
	4: {0x80, 0x8F},
}
