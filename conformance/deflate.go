package conformance

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// pmdParams are the parameters of one permessage-deflate offer or response
// (RFC 7692 §7.1). A window-bits field is 0 when absent; clientBits is -1
// for a client_max_window_bits offered without a value.
type pmdParams struct {
	serverNoContext bool
	clientNoContext bool
	serverBits      int
	clientBits      int
}

func (p pmdParams) String() string {
	var b strings.Builder
	b.WriteString("permessage-deflate")
	if p.clientNoContext {
		b.WriteString("; client_no_context_takeover")
	}
	switch {
	case p.clientBits < 0:
		b.WriteString("; client_max_window_bits")
	case p.clientBits > 0:
		fmt.Fprintf(&b, "; client_max_window_bits=%d", p.clientBits)
	}
	if p.serverNoContext {
		b.WriteString("; server_no_context_takeover")
	}
	if p.serverBits > 0 {
		fmt.Fprintf(&b, "; server_max_window_bits=%d", p.serverBits)
	}
	return b.String()
}

// parseExtensions parses a Sec-WebSocket-Extensions value into its
// permessage-deflate elements. An element of another extension is
// reported in others. A malformed permessage-deflate element is an error.
func parseExtensions(value string) (pmd []pmdParams, others []string, err error) {
	if strings.TrimSpace(value) == "" {
		return nil, nil, nil
	}
	for _, elem := range strings.Split(value, ",") {
		parts := strings.Split(elem, ";")
		name := strings.TrimSpace(parts[0])
		if name != "permessage-deflate" {
			others = append(others, name)
			continue
		}
		var p pmdParams
		seen := map[string]bool{}
		for _, param := range parts[1:] {
			k, v, hasValue := strings.Cut(strings.TrimSpace(param), "=")
			k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`)
			if seen[k] {
				return nil, nil, fmt.Errorf("permessage-deflate parameter %s repeated in %q", k, elem)
			}
			seen[k] = true
			bits := func() (int, error) {
				n, err := strconv.Atoi(v)
				if err != nil || n < 8 || n > 15 || v != strconv.Itoa(n) {
					return 0, fmt.Errorf("permessage-deflate %s=%q: want 8 to 15", k, v)
				}
				return n, nil
			}
			switch k {
			case "server_no_context_takeover", "client_no_context_takeover":
				if hasValue {
					return nil, nil, fmt.Errorf("permessage-deflate %s takes no value", k)
				}
				if k[0] == 's' {
					p.serverNoContext = true
				} else {
					p.clientNoContext = true
				}
			case "server_max_window_bits":
				if p.serverBits, err = bits(); err != nil {
					return nil, nil, err
				}
			case "client_max_window_bits":
				p.clientBits = -1
				if hasValue {
					if p.clientBits, err = bits(); err != nil {
						return nil, nil, err
					}
				}
			default:
				return nil, nil, fmt.Errorf("unknown permessage-deflate parameter %q", k)
			}
		}
		pmd = append(pmd, p)
	}
	return pmd, others, nil
}

// checkResponse checks a server's permessage-deflate response against the
// offers it may answer (RFC 7692 §7.1): it must accept exactly one of them,
// honouring what each offered parameter requires. It returns the first
// offer the response is valid for.
func checkResponse(offers []pmdParams, header string) (pmdParams, error) {
	resp, others, err := parseExtensions(header)
	if err != nil {
		return pmdParams{}, err
	}
	if len(others) > 0 {
		return pmdParams{}, fmt.Errorf("server answered extensions %v that were not offered", others)
	}
	if len(resp) != 1 {
		return pmdParams{}, fmt.Errorf("server answered %d permessage-deflate elements, want 1", len(resp))
	}
	r := resp[0]
	if r.clientBits < 0 {
		return pmdParams{}, errors.New("server answered client_max_window_bits without a value")
	}
	var why []string
	for i, o := range offers {
		switch {
		case o.serverNoContext && !r.serverNoContext:
			why = append(why, fmt.Sprintf("offer %d: server_no_context_takeover offered but not answered (RFC 7692 §7.1.1.1)", i+1))
		case o.serverBits > 0 && (r.serverBits == 0 || r.serverBits > o.serverBits):
			why = append(why, fmt.Sprintf("offer %d: server_max_window_bits=%d offered, answered %s (RFC 7692 §7.1.2.1: echo a value at most the offer's, or decline)", i+1, o.serverBits, bitsString(r.serverBits)))
		case r.clientBits != 0 && o.clientBits == 0:
			why = append(why, fmt.Sprintf("offer %d: client_max_window_bits answered but not offered (RFC 7692 §7.1.2.2)", i+1))
		default:
			return o, nil
		}
	}
	return pmdParams{}, fmt.Errorf("response %q accepts none of the offers: %s", header, strings.Join(why, "; "))
}

func bitsString(n int) string {
	if n == 0 {
		return "nothing"
	}
	return strconv.Itoa(n)
}

// tail is the end of an empty stored block that RFC 7692 §7.2.1 removes
// from each compressed message.
var tail = []byte{0, 0, 0xff, 0xff}

// deflater compresses messages, each on its own (no context takeover,
// which the sender may always choose). With smallWindow it emits no
// back-references, so that any window size the peer asked for is kept.
type deflater struct {
	w   *flate.Writer
	buf bytes.Buffer
}

func newDeflater(smallWindow bool) *deflater {
	d := new(deflater)
	level := flate.BestSpeed
	if smallWindow {
		level = flate.HuffmanOnly
	}
	d.w, _ = flate.NewWriter(&d.buf, level)
	return d
}

// deflate returns p compressed, without the final 00 00 ff ff.
func (d *deflater) deflate(p []byte) []byte {
	d.buf.Reset()
	d.w.Reset(&d.buf)
	d.w.Write(p)
	d.w.Flush()
	out := bytes.Clone(d.buf.Bytes())
	if bytes.HasSuffix(out, tail) {
		out = out[:len(out)-4]
	}
	return out
}

// inflater decompresses messages from a peer, keeping the peer's window
// across messages when it may take over its context.
type inflater struct {
	takeover bool
	window   int // bytes of history kept: 2^bits
	history  []byte
}

func newInflater(takeover bool, bits int) *inflater {
	if bits <= 0 {
		bits = 15
	}
	return &inflater{takeover: takeover, window: 1 << bits}
}

// inflate decompresses one message. A message that refers further back
// than the peer's window (or to a previous message the peer promised not
// to use) fails to inflate.
func (f *inflater) inflate(p []byte) ([]byte, error) {
	src := make([]byte, 0, len(p)+9)
	src = append(append(append(src, p...), tail...), 1, 0, 0, 0xff, 0xff) // + a final empty stored block
	if f.window < 1<<15 {
		// compress/flate inflates with a 32 KiB window whatever was agreed:
		// check the back-references against the agreed one.
		d, err := maxDistance(src[:len(src)-5])
		if err != nil {
			return nil, err
		}
		if d > f.window {
			return nil, fmt.Errorf("a back-reference %d bytes back, beyond the agreed window of %d bytes (RFC 7692 §7.1.2)", d, f.window)
		}
	}
	var dict []byte
	if f.takeover {
		dict = f.history
	}
	r := flate.NewReader(bytes.NewReader(src))
	if dict != nil {
		r = flate.NewReaderDict(bytes.NewReader(src), dict)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxReceive+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxReceive {
		return nil, fmt.Errorf("inflates to over %d bytes", maxReceive)
	}
	if f.takeover {
		h := append(f.history, out...)
		if len(h) > f.window {
			h = bytes.Clone(h[len(h)-f.window:])
		}
		f.history = h
	}
	return out, nil
}
