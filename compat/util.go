package websocket

import (
	"net/http"
	"strings"
)

// equalASCIIFold reports whether s and t are equal, ASCII letters compared
// without regard to case.
func equalASCIIFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// tokenListContainsValue reports whether any of header's values for name,
// read as a comma-separated list of tokens, holds value (ASCII case
// ignored).
func tokenListContainsValue(header http.Header, name string, value string) bool {
	for _, v := range header[name] {
		for len(v) > 0 {
			var tok string
			if i := strings.IndexByte(v, ','); i >= 0 {
				tok, v = v[:i], v[i+1:]
			} else {
				tok, v = v, ""
			}
			if equalASCIIFold(strings.Trim(tok, " \t"), value) {
				return true
			}
		}
	}
	return false
}
