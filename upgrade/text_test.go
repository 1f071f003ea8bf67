package upgrade

import (
	"strings"
	"testing"
)

// TestValidFieldValue compares the word-at-a-time check with a byte loop
// for every byte value at every position of values of 1 to 20 bytes, on a
// background of ordinary bytes, tabs and obs-text.
func TestValidFieldValue(t *testing.T) {
	ref := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
				return false
			}
		}
		return true
	}
	for _, fill := range []byte{'a', '\t', 0x80, 0xff, 0x7e, 0x20} {
		for n := 1; n <= 20; n++ {
			b := []byte(strings.Repeat(string(fill), n))
			for pos := 0; pos < n; pos++ {
				for c := 0; c < 256; c++ {
					b[pos] = byte(c)
					s := string(b)
					if got, want := validFieldValue(s), ref(s); got != want || validFieldValue(b) != want {
						t.Fatalf("%q: got %v, want %v", s, got, want)
					}
				}
				b[pos] = fill
			}
		}
	}
}

func TestEqualFold(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"Sec-WebSocket-Key", "sec-websocket-key", true},
		{"EXAMPLE.com", "example.COM", true},
		{"a", "b", false},
		{"ab", "a", false},
		{"[", "{", false}, // 0x5b and 0x7b differ only in the case bit
		{"@", "`", false},
		{"\xc0", "\xe0", false},
	} {
		if got := equalFold(c.a, c.b); got != c.want {
			t.Errorf("equalFold(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
