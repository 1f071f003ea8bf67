package frame

import (
	"bytes"
	"fmt"
	"testing"
	"unicode/utf8"
)

// The tests of UTF8Validator compare it with an oracle built on
// unicode/utf8 alone, so that they share no code or table with the
// implementation.

// completionBytes holds, for each range a byte after a leading byte may
// have to fall in (80-BF, A0-BF, 80-9F, 90-BF, 80-8F), at least one member.
var completionBytes = []byte{0x80, 0x90, 0xA0, 0xBF}

// isUTF8Prefix reports whether t, at most 4 bytes long, can be completed
// into valid UTF-8 by appending at most 3 bytes. Each byte of a completion
// need only be tried with one member of each range, so completionBytes
// suffice.
func isUTF8Prefix(t []byte) bool {
	if utf8.Valid(t) {
		return true
	}
	buf := make([]byte, len(t), len(t)+3)
	copy(buf, t)
	var try func(b []byte, left int) bool
	try = func(b []byte, left int) bool {
		if utf8.Valid(b) {
			return true
		}
		if left == 0 {
			return false
		}
		for _, c := range completionBytes {
			if try(append(b, c), left-1) {
				return true
			}
		}
		return false
	}
	return try(buf, 3)
}

// utf8Oracle returns bad, the offset of the first byte of s at which s
// stops being a prefix of some valid UTF-8 text (-1 if it never does), and
// boundary, where boundary[k] reports that s[:k] ends on a character
// boundary, for k from 0 to bad (or len(s) when bad is -1).
func utf8Oracle(s []byte) (bad int, boundary []bool) {
	boundary = make([]bool, len(s)+1)
	i := 0
	for i < len(s) {
		boundary[i] = true
		r, size := utf8.DecodeRune(s[i:])
		if r != utf8.RuneError || size > 1 {
			i += size
			continue
		}
		// An invalid or truncated sequence starts at i: find the first
		// byte that no valid text can have in its place.
		for j := i; j < len(s) && j < i+4; j++ {
			if !isUTF8Prefix(s[i : j+1]) {
				return j, boundary[:j+1]
			}
		}
		// s ends inside a character: every byte was acceptable.
		return -1, boundary
	}
	boundary[len(s)] = true
	return -1, boundary
}

// checkUTF8Pieces feeds s to a fresh validator in the given pieces and
// checks every result against the oracle's verdict on s.
func checkUTF8Pieces(t testing.TB, s []byte, pieces [][]byte, bad int, boundary []bool) {
	t.Helper()
	var v UTF8Validator
	off := 0
	for _, piece := range pieces {
		n, ok := v.Validate(piece)
		if bad >= off && bad < off+len(piece) {
			if ok || n != bad-off {
				t.Fatalf("%x in pieces %x: piece at %d gave (%d, %v), want failure at its byte %d (stream byte %d)",
					s, pieces, off, n, ok, bad-off, bad)
			}
			// A failed validator keeps failing.
			if n, ok := v.Validate([]byte("a")); ok || n != 0 {
				t.Fatalf("%x: Validate after a failure gave (%d, %v), want (0, false)", s, n, ok)
			}
			if n, ok := v.Validate(nil); ok || n != 0 {
				t.Fatalf("%x: Validate(nil) after a failure gave (%d, %v), want (0, false)", s, n, ok)
			}
			if v.Complete() {
				t.Fatalf("%x: Complete after a failure", s)
			}
			return
		}
		if !ok || n != len(piece) {
			t.Fatalf("%x in pieces %x: piece at %d gave (%d, %v), want (%d, true); first bad byte is %d",
				s, pieces, off, n, ok, len(piece), bad)
		}
		off += len(piece)
		if v.Complete() != boundary[off] {
			t.Fatalf("%x in pieces %x: Complete() = %v after %d bytes, want %v", s, pieces, v.Complete(), off, boundary[off])
		}
	}
	if bad >= 0 {
		t.Fatalf("%x in pieces %x: no failure, want one at byte %d", s, pieces, bad)
	}
}

// checkUTF8 checks s whole, with ValidUTF8, and in every split into two
// pieces, and in single bytes.
func checkUTF8(t testing.TB, s []byte) {
	t.Helper()
	bad, boundary := utf8Oracle(s)
	if got, want := ValidUTF8(s), utf8.Valid(s); got != want {
		t.Fatalf("ValidUTF8(%x) = %v, utf8.Valid says %v", s, got, want)
	}
	if valid := bad < 0 && boundary[len(s)]; valid != utf8.Valid(s) {
		t.Fatalf("oracle and utf8.Valid disagree on %x", s) // the oracle is broken
	}
	checkUTF8Pieces(t, s, [][]byte{s}, bad, boundary)
	for i := 0; i <= len(s); i++ {
		checkUTF8Pieces(t, s, [][]byte{s[:i], s[i:]}, bad, boundary)
	}
	ones := make([][]byte, len(s))
	for i := range s {
		ones[i] = s[i : i+1]
	}
	checkUTF8Pieces(t, s, ones, bad, boundary)
}

// utf8Classes has a byte from each class of bytes that UTF-8 decoding
// tells apart, and both ends of each class.
var utf8Classes = []byte{
	0x00, 0x41, 0x7F, // ASCII
	0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, // continuation, at the edges of every accepted range
	0xC0, 0xC1, // never valid: overlong 2-byte forms
	0xC2, 0xDF, // 2-byte leads
	0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, // 3-byte leads
	0xF0, 0xF1, 0xF3, 0xF4, // 4-byte leads
	0xF5, 0xF7, 0xF8, 0xFE, 0xFF, // never valid
}

// TestUTF8ValidatorSequences checks every sequence of up to 4 bytes drawn
// from utf8Classes, split in every way into 2 pieces and byte by byte: the
// verdict, the failure position and Complete.
func TestUTF8ValidatorSequences(t *testing.T) {
	seqs := 0
	var walk func(s []byte)
	walk = func(s []byte) {
		if len(s) > 0 {
			checkUTF8(t, s)
			seqs++
			if bad, _ := utf8Oracle(s); bad >= 0 {
				return // every extension fails at the same byte
			}
		}
		if len(s) == 4 {
			return
		}
		for _, c := range utf8Classes {
			walk(append(s, c))
		}
	}
	walk(make([]byte, 0, 4))
	t.Logf("%d sequences", seqs)
}

// TestUTF8ValidatorPositions checks sequences placed at every offset of
// longer texts, so that they fall at every position of the validator's
// word-sized blocks and across the ends of its fast paths.
func TestUTF8ValidatorPositions(t *testing.T) {
	needles := []string{
		"\xc2\xa2", "\xe2\x82\xac", "\xf0\xa4\xad\xa2", "\xf4\x8f\xbf\xbf", // valid
		"\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf5", "\xff", // invalid
		"\xe2\x82", "\xf0\xa4\xad", "\xc2", // truncated
	}
	fills := map[string][]byte{
		"ascii":     bytes.Repeat([]byte("abcdefgh"), 10),
		"multibyte": bytes.Repeat([]byte("κόσμε"), 10),
	}
	for name, fill := range fills {
		for _, needle := range needles {
			for before := 0; before <= 40; before++ {
				for _, after := range []int{0, 1, 7, 8, 15, 16, 17, 33} {
					s := append(append(append([]byte{}, fill[:before]...), needle...), fill[:after]...)
					t.Run(fmt.Sprintf("%s/%x/%d/%d", name, needle, before, after), func(t *testing.T) {
						checkUTF8(t, s)
					})
				}
			}
		}
	}
}

// TestUTF8ValidatorSampleText checks long valid texts, then each with one
// byte changed at each of several offsets.
func TestUTF8ValidatorSampleText(t *testing.T) {
	for _, kind := range textKinds {
		s := sampleText(kind, 300)
		checkUTF8(t, s)
		for _, at := range []int{0, 1, 15, 16, 31, 32, 33, 100, 255, len(s) - 1} {
			for _, c := range []byte{0x80, 0xC0, 0xE0, 0xED, 0xF4, 0xFF, 'x'} {
				m := bytes.Clone(s)
				m[at] = c
				checkUTF8(t, m)
			}
		}
	}
}

// TestUTF8FailFast checks Autobahn 6.4.2's split: f4 alone at the end of
// one frame is accepted, and 90 alone in the next fails.
func TestUTF8FailFast(t *testing.T) {
	var v UTF8Validator
	if n, ok := v.Validate([]byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4")); !ok || n != 12 {
		t.Fatalf("first part: (%d, %v), want (12, true)", n, ok)
	}
	if v.Complete() {
		t.Fatalf("Complete() after a dangling f4")
	}
	if n, ok := v.Validate([]byte{0x90}); ok || n != 0 {
		t.Fatalf("second part 90: (%d, %v), want (0, false)", n, ok)
	}
	v.Reset()
	if n, ok := v.Validate([]byte("edited")); !ok || n != 6 || !v.Complete() {
		t.Fatalf("after Reset: (%d, %v) complete=%v", n, ok, v.Complete())
	}
}

func TestUTF8Vectors(t *testing.T) {
	for _, vec := range utf8Vectors() {
		if got := ValidUTF8([]byte(vec.text)); got != vec.valid {
			t.Errorf("%s: ValidUTF8(%x) = %v, want %v", vec.name, vec.text, got, vec.valid)
		}
		checkUTF8(t, []byte(vec.text))
	}
}

func TestUTF8Allocs(t *testing.T) {
	p := sampleText("mixed", 4096)
	allocs := testing.AllocsPerRun(100, func() {
		var v UTF8Validator
		for rest := p; len(rest) > 0; rest = rest[min(len(rest), 100):] {
			v.Validate(rest[:min(len(rest), 100)])
		}
		if !v.Complete() || !ValidUTF8(p) {
			panic("sample text rejected")
		}
	})
	if allocs != 0 {
		t.Fatalf("UTF-8 validation allocates %v times per run", allocs)
	}
}

// FuzzUTF8 checks the validator against unicode/utf8 and the oracle on
// arbitrary bytes cut into arbitrary pieces: the same verdict on whole
// inputs, the failure reported in the right piece at the first byte that
// makes the text invalid, and Complete right after every piece.
func FuzzUTF8(f *testing.F) {
	for _, vec := range utf8Vectors() {
		f.Add([]byte(vec.text), []byte{0})
	}
	f.Add(sampleText("mixed", 200), []byte{15, 3, 40})
	f.Add([]byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80edited"), []byte{11, 0, 5})
	f.Fuzz(func(t *testing.T, s, cuts []byte) {
		if got, want := ValidUTF8(s), utf8.Valid(s); got != want {
			t.Fatalf("ValidUTF8(%x) = %v, utf8.Valid says %v", s, got, want)
		}
		bad, boundary := utf8Oracle(s)
		checkUTF8Pieces(t, s, [][]byte{s}, bad, boundary)
		// Each cut byte is the length of the next piece, 0 included.
		var pieces [][]byte
		rest := s
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				n = min(int(cuts[i%len(cuts)]), len(rest))
				if n == 0 && i > 4*len(s)+len(cuts) {
					n = 1 // all-zero cuts: make progress
				}
			}
			pieces = append(pieces, rest[:n])
			rest = rest[n:]
		}
		checkUTF8Pieces(t, s, pieces, bad, boundary)
	})
}
