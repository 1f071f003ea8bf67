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
//
// It checks eight bytes at a time: a word holds a byte below 0x20 or equal
// to 0x7f exactly when the classic "has less than" or "has zero" tests set
// a high bit, and only such words (which a tab can cause) are looked at
// byte by byte.
func validFieldValue[S text](s S) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := load64(s, i)
		y := x ^ 0x7f*lsb
		if ((x-0x20*lsb)&^x|(y-lsb)&^y)&msb == 0 {
			continue
		}
		for j := i; j < i+8; j++ {
			if c := s[j]; (c < 0x20 && c != '\t') || c == 0x7f {
				return false
			}
		}
	}
	for ; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// load64 returns s[i:i+8] as a little-endian word.
func load64[S text](s S, i int) uint64 {
	b := s[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// lowerTable maps ASCII upper-case letters to lower case and every other
// byte to itself.
var lowerTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c + 'a' - 'A')
	}
	return t
}()

func lower(c byte) byte { return lowerTable[c] }

// equalFold reports whether s equals t, ignoring ASCII case.
func equalFold[S, T text](s S, t T) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if a, b := s[i], t[i]; a != b && lowerTable[a] != lowerTable[b] {
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

// splitAbsolute splits an absolute URI such as "https://example.com:8443/a?b"
// into its authority ("example.com:8443") and the rest ("/a?b"), which
// starts at the first '/', '?' or '#' after the authority. ok is false when
// u does not start with "scheme://".
func splitAbsolute[S text](u S) (authority, rest S, ok bool) {
	i := 0
	for ; i < len(u); i++ {
		c := u[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			continue
		}
		break
	}
	if i == 0 || i+2 >= len(u) || u[i] != ':' || u[i+1] != '/' || u[i+2] != '/' {
		return authority, rest, false
	}
	i += 3
	j := i
	for j < len(u) && u[j] != '/' && u[j] != '?' && u[j] != '#' {
		j++
	}
	return u[i:j], u[j:], true
}

// originHost returns the host[:port] of an Origin value such as
// "https://example.com:8443", as url.Parse would find it: the authority
// after "scheme://", without a userinfo part, up to any path, query or
// fragment. ok is false when origin has no "scheme://" prefix, as the
// serialisation "null" has not.
func originHost[S text](origin S) (host S, ok bool) {
	a, _, ok := splitAbsolute(origin)
	if !ok {
		return host, false
	}
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] == '@' {
			return a[i+1:], true
		}
	}
	return a, true
}

// SameOrigin is the default origin policy, the same as gorilla/websocket's:
// it accepts a request without an Origin header, or one whose Origin host
// (host[:port] after "scheme://") equals the host the request is for,
// ignoring ASCII case. Browsers always send Origin, so this refuses
// cross-site pages while letting non-browser clients, which usually omit
// it, through. An Origin that is not a URL, such as "null", is refused.
//
// An empty origin reads as an absent header. Server's default policy, which
// knows the difference, refuses an Origin header that is present but empty,
// as gorilla/websocket does.
func SameOrigin[S text](origin, host S) bool {
	return sameOrigin(len(origin) > 0, origin, host)
}

func sameOrigin[S text](present bool, origin, host S) bool {
	if !present {
		return true
	}
	h, ok := originHost(origin)
	return ok && len(h) > 0 && equalFold(h, host)
}

// hostTable marks the bytes allowed in a Host header value: the reg-name,
// IPv4 and IP-literal forms of RFC 3986 §3.2.2 with an optional port. It
// is what a host may contain, not a full syntax check.
var hostTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-._~!$&'()*+,;=:[]%" {
		t[c] = true
	}
	return t
}()

// validHost reports whether h may be the value of a Host header.
func validHost[S text](h S) bool {
	if len(h) == 0 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if !hostTable[h[i]] {
			return false
		}
	}
	return true
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
