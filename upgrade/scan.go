package upgrade

import "bytes"

// Status is what a resumable parser reports after each call.
type Status uint8

const (
	// NeedMore means the message head is not complete yet: call again with
	// the same bytes plus whatever arrives next.
	NeedMore Status = iota
	// Done means the head is complete; the count returned with it is the
	// number of bytes it occupies. Bytes after it belong to the next layer.
	Done
	// Failed means the bytes can never form an acceptable head; the
	// parser's Err method says why.
	Failed
)

func (s Status) String() string {
	switch s {
	case NeedMore:
		return "NeedMore"
	case Done:
		return "Done"
	case Failed:
		return "Failed"
	}
	return "Status(?)"
}

// Default limits used when a Server or Client leaves them zero.
const (
	DefaultMaxHeaderBytes = 8 << 10
	DefaultMaxHeaders     = 100
	maxHeaderBytesCap     = 1 << 20 // keeps offsets well inside uint32
)

// span is a half-open byte range [off, end) of the parsed buffer. The zero
// span is empty, which is how absent headers read.
type span struct{ off, end uint32 }

func (s span) of(b []byte) []byte { return b[s.off:s.end:s.end] }
func (s span) empty() bool        { return s.off == s.end }

// lineScanner finds the lines of an HTTP message head in a buffer that
// grows between calls. It remembers where the unfinished line starts and how
// far it has searched for its end, so every byte is looked at once however
// the bytes are chunked.
type lineScanner struct {
	start   uint32 // first byte of the current, unfinished line
	scanned uint32 // bytes of buf already searched for '\n'
}

type scanResult uint8

const (
	scanLine scanResult = iota
	scanMore
	scanTooLarge
	scanShort
)

// next returns the next complete line of buf, without its CRLF or LF, as
// [off, end), with next pointing after the line feed. A line must end
// within the first max bytes of buf.
func (s *lineScanner) next(buf []byte, max int) (off, end int, r scanResult) {
	if len(buf) < int(s.scanned) {
		return 0, 0, scanShort
	}
	limit := len(buf)
	if limit > max {
		limit = max
	}
	from := int(s.scanned)
	if from < limit {
		if i := bytes.IndexByte(buf[from:limit], '\n'); i >= 0 {
			lf := from + i
			off, end = int(s.start), lf
			if end > off && buf[end-1] == '\r' {
				end--
			}
			s.start = uint32(lf + 1)
			s.scanned = s.start
			return off, end, scanLine
		}
		s.scanned = uint32(limit)
	}
	if len(buf) >= max {
		return 0, 0, scanTooLarge
	}
	return 0, 0, scanMore
}

// headerIter walks the header lines of a head that a parser has already
// validated, for lookups the parser did not index.
type headerIter struct {
	buf      []byte
	pos, end int
}

func (it *headerIter) next() (name, value []byte, ok bool) {
	for it.pos < it.end {
		i := bytes.IndexByte(it.buf[it.pos:it.end], '\n')
		if i < 0 {
			return nil, nil, false
		}
		line := it.buf[it.pos : it.pos+i]
		it.pos += i + 1
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		c := bytes.IndexByte(line, ':')
		if c <= 0 {
			continue // the blank line that ends the head
		}
		return line[:c], trimOWS(line[c+1:]), true
	}
	return nil, nil, false
}

// splitHeader splits a header line into its name and value, checking the
// syntax RFC 9112 §5 requires: a token name directly followed by a colon
// (no whitespace before it), and a value without control bytes.
// The name is line[:colon] and the value, without surrounding whitespace,
// line[vs:ve].
func splitHeader(line []byte) (colon, vs, ve int, ok bool) {
	colon = bytes.IndexByte(line, ':')
	if colon <= 0 || !isToken(line[:colon]) {
		return 0, 0, 0, false
	}
	vs, ve = colon+1, len(line)
	for vs < ve && isOWS(line[vs]) {
		vs++
	}
	for ve > vs && isOWS(line[ve-1]) {
		ve--
	}
	if !validFieldValue(line[vs:ve]) {
		return 0, 0, 0, false
	}
	return colon, vs, ve, true
}

// parseHTTPVersion parses "HTTP/x.y" into its major and minor digits.
func parseHTTPVersion(v []byte) (major, minor int, ok bool) {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' {
		return 0, 0, false
	}
	a, b := v[5], v[7]
	if a < '0' || a > '9' || b < '0' || b > '9' {
		return 0, 0, false
	}
	return int(a - '0'), int(b - '0'), true
}
