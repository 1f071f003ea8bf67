package upgrade

// Byte-level helpers shared by the request, response and extension parsers.
// They are generic over string and []byte so that the raw path (bytes in the
// caller's buffer) and the net/http path (strings in an http.Header) run the
// same code without converting, and so without allocating.

type text interface{ ~string | ~[]byte }

// tokenTable marks the bytes allowed in an RFC 9110 token (tchar).
var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isToken[S text](s S) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenTable[s[i]] {
			return false
		}
	}
	return true
}

// validFieldValue reports whether s may appear as a header field value: no
// control bytes other than horizontal tab (CR and LF in particular) and no
// DEL. Bytes >= 0x80 (obs-text) are allowed.
func validFieldValue[S text](s S) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold reports whether s equals the lower-case ASCII string t, ignoring
// ASCII case in s.
func equalFold[S, T text](s S, t T) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lower(s[i]) != lower(t[i]) {
			return false
		}
	}
	return true
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

func trimOWS[S text](s S) S {
	i, j := 0, len(s)
	for i < j && isOWS(s[i]) {
		i++
	}
	for j > i && isOWS(s[j-1]) {
		j--
	}
	return s[i:j]
}

// nextItem returns the next element of the comma-separated list s starting
// at i, with optional whitespace trimmed, and the index to continue from.
// Empty elements are skipped (RFC 9110 §5.6.1). ok is false at the end.
func nextItem[S text](s S, i int) (item S, next int, ok bool) {
	for i < len(s) {
		j := i
		for j < len(s) && s[j] != ',' {
			j++
		}
		item = trimOWS(s[i:j])
		i = j + 1
		if len(item) > 0 {
			return item, i, true
		}
	}
	return item, len(s), false
}

// hasToken reports whether the comma-separated list s contains tok,
// compared case-insensitively. tok must be lower case.
func hasToken[S text](s S, tok string) bool {
	for item, i, ok := nextItem(s, 0); ok; item, i, ok = nextItem(s, i) {
		if equalFold(item, tok) {
			return true
		}
	}
	return false
}

// validKey reports whether key is the base64 encoding of 16 bytes, the only
// form RFC 6455 §4.1 allows for Sec-WebSocket-Key: 22 alphabet characters
// followed by "==". Like encoding/base64's non-strict decoder, it does not
// require the unused low bits of the last character to be zero.
func validKey[S text](key S) bool {
	if len(key) != 24 || key[22] != '=' || key[23] != '=' {
		return false
	}
	for i := 0; i < 22; i++ {
		c := key[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// hostOf returns the host[:port] part of an Origin value such as
// "https://example.com:8443", or ok=false when origin has no "scheme://"
// prefix. A path, query or userinfo part is not expected in an Origin
// header (RFC 6454 §7) and makes the origin not match any Host.
func hostOf[S text](origin S) (host S, ok bool) {
	for i := 0; i+2 < len(origin); i++ {
		c := origin[i]
		if c == ':' {
			if i == 0 || origin[i+1] != '/' || origin[i+2] != '/' {
				return host, false
			}
			return origin[i+3:], true
		}
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return host, false
		}
	}
	return host, false
}

// SameOrigin is the default origin policy, the same as gorilla/websocket's:
// it accepts a request without an Origin header, or one whose Origin host
// (host[:port] after "scheme://") equals the Host header, ignoring ASCII
// case. Browsers always send Origin, so this refuses cross-site pages while
// letting non-browser clients, which usually omit it, through.
func SameOrigin[S text](origin, host S) bool {
	if len(origin) == 0 {
		return true
	}
	h, ok := hostOf(origin)
	return ok && equalFold(h, host)
}

// appendUint appends the decimal form of a non-negative n.
func appendUint(dst []byte, n int) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}
