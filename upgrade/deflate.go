package upgrade

import "errors"

// DeflateParams are the parameters of one permessage-deflate offer or
// response (RFC 7692 §7.1), as the compression layer uses them.
//
// A window-bits field of 0 means the parameter is absent, which for the
// negotiated result means the full 15-bit (32 KiB) window. In an offer, a
// client_max_window_bits parameter without a value reads as
// ClientMaxWindowBits 15 ("any window up to 15 bits"), which means the same
// thing, and a client offer with ClientMaxWindowBits 15 is written without
// a value, the form browsers send.
//
// In a negotiated Result the Server fields govern the server's compressor
// and the client's decompressor, the Client fields the client's compressor
// and the server's decompressor: a side compresses with the window and
// context-takeover mode named after it, and decompresses what the other
// side's fields describe. On the server, Result.DeflateParams is exactly
// the response sent; on the client it is the server's response with the
// client's own offered hints folded in (see Client.Verify).
type DeflateParams struct {
	// ServerNoContextTakeover: the server resets its compressor after
	// every message, so the client may reset its decompressor too.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the client resets its compressor after
	// every message, so the server may reset its decompressor too.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits bounds the server's LZ77 window: 8 to 15, or 0.
	ServerMaxWindowBits int
	// ClientMaxWindowBits bounds the client's LZ77 window: 8 to 15, or 0.
	ClientMaxWindowBits int
}

const extDeflate = "permessage-deflate"

// AppendExtension appends the Sec-WebSocket-Extensions element for p, such
// as "permessage-deflate; server_no_context_takeover". With offer set it
// writes a client offer (ClientMaxWindowBits 15 without a value),
// otherwise a server response (every window size with its value).
func (p DeflateParams) AppendExtension(dst []byte, offer bool) []byte {
	dst = append(dst, extDeflate...)
	if p.ServerNoContextTakeover {
		dst = append(dst, "; server_no_context_takeover"...)
	}
	if p.ClientNoContextTakeover {
		dst = append(dst, "; client_no_context_takeover"...)
	}
	if p.ServerMaxWindowBits != 0 {
		dst = append(dst, "; server_max_window_bits="...)
		dst = appendUint(dst, p.ServerMaxWindowBits)
	}
	if p.ClientMaxWindowBits != 0 {
		dst = append(dst, "; client_max_window_bits"...)
		if !offer || p.ClientMaxWindowBits != 15 {
			dst = append(dst, '=')
			dst = appendUint(dst, p.ClientMaxWindowBits)
		}
	}
	return dst
}

func (p DeflateParams) valid() bool {
	ok := func(b int) bool { return b == 0 || 8 <= b && b <= 15 }
	return ok(p.ServerMaxWindowBits) && ok(p.ClientMaxWindowBits)
}

// DeflatePolicy says which permessage-deflate parameters a server can
// honour and which it prefers. The zero value suits compress/flate, whose
// compressor always uses a 32 KiB window: it declines offers that require a
// smaller server window, and asks for no context takeover in both
// directions, so a connection keeps no compression state between messages.
//
// The server accepts the first offer, in the client's order, that the
// policy can honour, and declines the extension (answers without it) if
// there is none. An offer with an unknown parameter, a repeated parameter
// or a window-bits value other than 8 to 15 is never accepted (RFC 7692
// §7); a Sec-WebSocket-Extensions value that does not parse declines every
// offer.
type DeflatePolicy struct {
	// MinServerWindowBits is the smallest server_max_window_bits value the
	// compressor can honour (its LZ77 window can be kept to
	// 2^MinServerWindowBits bytes). 0 means 15, all that compress/flate can
	// do. A compressor that emits no back-references (only Huffman coding
	// or stored blocks) can honour 8. Offers that require a smaller window
	// are declined; an accepted offer's server_max_window_bits is answered
	// with the offered value.
	MinServerWindowBits int
	// ServerContextTakeover lets the server keep its compression context
	// across messages when the client allows it. If false the server always
	// answers server_no_context_takeover.
	ServerContextTakeover bool
	// ClientContextTakeover lets the client keep its compression context
	// across messages, which costs the server a 32 KiB decompression window
	// per connection. If false the server answers client_no_context_takeover
	// (RFC 7692 §7.1.1.2 allows it whether or not the client offered it).
	// If the client offered client_no_context_takeover, the answer carries
	// it whatever this says.
	ClientContextTakeover bool
	// ClientMaxWindowBits, if 8 to 15, is answered as client_max_window_bits
	// (lowered to the client's value) when the client offered that
	// parameter; RFC 7692 forbids sending it otherwise. 0 never sends it:
	// the decompressor accepts any window.
	ClientMaxWindowBits int
}

func (pol *DeflatePolicy) minServerBits() int { return windowFloor(pol.MinServerWindowBits) }

// answer returns the response to the valid offer o, or ok=false if the
// policy cannot honour it.
func (pol *DeflatePolicy) answer(o DeflateParams) (r DeflateParams, ok bool) {
	if o.ServerMaxWindowBits != 0 && o.ServerMaxWindowBits < pol.minServerBits() {
		return r, false
	}
	r.ServerNoContextTakeover = o.ServerNoContextTakeover || !pol.ServerContextTakeover
	r.ClientNoContextTakeover = o.ClientNoContextTakeover || !pol.ClientContextTakeover
	r.ServerMaxWindowBits = o.ServerMaxWindowBits
	if c := pol.ClientMaxWindowBits; o.ClientMaxWindowBits != 0 && 8 <= c && c <= 15 {
		r.ClientMaxWindowBits = min(c, o.ClientMaxWindowBits)
	}
	return r, true
}

// extParser reads a Sec-WebSocket-Extensions value (RFC 6455 §9.1):
//
//	extension-list = 1#extension
//	extension      = token *( ";" param )
//	param          = token [ "=" ( token / quoted-string ) ]
//
// with optional whitespace around the separators. Call next for each
// extension and then param until it reports false; bad records a syntax
// error, after which nothing more is returned.
type extParser[S text] struct {
	s   S
	i   int
	bad bool
}

func (p *extParser[S]) skipOWS() {
	for p.i < len(p.s) && isOWS(p.s[p.i]) {
		p.i++
	}
}

func (p *extParser[S]) token() S {
	j := p.i
	for j < len(p.s) && tokenTable[p.s[j]] {
		j++
	}
	t := p.s[p.i:j]
	p.i = j
	return t
}

// next skips to the next extension and returns its name.
func (p *extParser[S]) next() (name S, ok bool) {
	if p.bad {
		return name, false
	}
	for p.i < len(p.s) && (isOWS(p.s[p.i]) || p.s[p.i] == ',') {
		p.i++
	}
	if p.i == len(p.s) {
		return name, false
	}
	if name = p.token(); len(name) == 0 {
		p.bad = true
		return name, false
	}
	return name, true
}

// param returns the current extension's next parameter. For a quoted
// value, value is the text between the quotes with escapes still in it.
func (p *extParser[S]) param() (name, value S, hasValue, ok bool) {
	if p.bad {
		return
	}
	p.skipOWS()
	if p.i == len(p.s) || p.s[p.i] == ',' {
		return
	}
	if p.s[p.i] != ';' {
		p.bad = true
		return
	}
	p.i++
	p.skipOWS()
	if name = p.token(); len(name) == 0 {
		p.bad = true
		return
	}
	p.skipOWS()
	if p.i < len(p.s) && p.s[p.i] == '=' {
		p.i++
		p.skipOWS()
		hasValue = true
		if p.i < len(p.s) && p.s[p.i] == '"' {
			j := p.i + 1
			for j < len(p.s) && p.s[j] != '"' {
				if p.s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(p.s) {
				p.bad = true
				return
			}
			value = p.s[p.i+1 : j]
			p.i = j + 1
		} else if value = p.token(); len(value) == 0 {
			p.bad = true
			return
		}
	}
	return name, value, hasValue, true
}

// windowBits parses a window-bits value, 8 to 15 without leading zeros,
// possibly written with quoted-pair escapes.
func windowBits[S text](v S) (int, bool) {
	n, digits := 0, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) {
			i++
			c = v[i]
		}
		if c < '0' || c > '9' || digits == 0 && c == '0' || digits == 2 {
			return 0, false
		}
		n = n*10 + int(c-'0')
		digits++
	}
	return n, 8 <= n && n <= 15
}

// deflateParams reads the parameters of the permessage-deflate extension
// p is positioned on. Unknown or repeated parameters, or bad values, make
// it invalid (ok false) but are still consumed. In a response
// (response true) client_max_window_bits needs a value.
func deflateParams[S text](p *extParser[S], response bool) (d DeflateParams, ok bool) {
	ok = true
	for {
		name, value, hasValue, more := p.param()
		if !more {
			return d, ok && !p.bad
		}
		switch {
		case equalFold(name, "server_no_context_takeover"):
			ok = ok && !hasValue && !d.ServerNoContextTakeover
			d.ServerNoContextTakeover = true
		case equalFold(name, "client_no_context_takeover"):
			ok = ok && !hasValue && !d.ClientNoContextTakeover
			d.ClientNoContextTakeover = true
		case equalFold(name, "server_max_window_bits"):
			n, good := windowBits(value)
			ok = ok && hasValue && good && d.ServerMaxWindowBits == 0
			d.ServerMaxWindowBits = n
		case equalFold(name, "client_max_window_bits"):
			n, good := 15, !response
			if hasValue {
				n, good = windowBits(value)
			}
			ok = ok && good && d.ClientMaxWindowBits == 0
			d.ClientMaxWindowBits = n
		default:
			ok = false
		}
	}
}

// deflateNegotiator accepts the first permessage-deflate offer, across
// every Sec-WebSocket-Extensions line fed to it, that the policy can
// honour. A syntax error anywhere declines everything: a server that
// misreads the client's offers must not answer any of them.
type deflateNegotiator struct {
	pol   *DeflatePolicy
	found bool
	bad   bool
	res   DeflateParams
}

func negotiate[S text](n *deflateNegotiator, value S) {
	p := extParser[S]{s: value}
	for name, ok := p.next(); ok; name, ok = p.next() {
		if !equalFold(name, extDeflate) {
			for _, _, _, more := p.param(); more; _, _, _, more = p.param() {
			}
			continue
		}
		offer, valid := deflateParams(&p, false)
		if valid && !n.found {
			n.res, n.found = n.pol.answer(offer)
		}
	}
	n.bad = n.bad || p.bad
}

func (n *deflateNegotiator) result() (DeflateParams, bool) {
	if n.bad || !n.found {
		return DeflateParams{}, false
	}
	return n.res, true
}

// NegotiateDeflate returns the permessage-deflate response that pol gives
// to the offers in the Sec-WebSocket-Extensions values, and ok=false if
// there is no offer pol can honour (or the values are malformed), in which
// case the server must not answer with the extension. It allocates
// nothing.
func NegotiateDeflate[S ~string | ~[]byte](pol *DeflatePolicy, values ...S) (resp DeflateParams, ok bool) {
	n := deflateNegotiator{pol: pol}
	for _, v := range values {
		negotiate(&n, v)
	}
	return n.result()
}

var (
	errExtSyntax    = errors.New("malformed Sec-WebSocket-Extensions in response")
	errExtUnoffered = errors.New("server accepted an extension the client did not offer")
	errExtMany      = errors.New("server accepted more than one extension")
	errExtParams    = errors.New("server's permessage-deflate parameters are invalid or were not allowed by any offer")
	errExtWindow    = errors.New("server asked for a client window smaller than the client's compressor can keep to")
)

// deflateChecker validates a server's Sec-WebSocket-Extensions response
// against the client's offers, line by line.
type deflateChecker struct {
	offers  []DeflateParams
	minBits int // smallest client window the client's compressor can keep to
	n       int // extensions in the response
	err     error
	res     DeflateParams
}

func checkDeflate[S text](c *deflateChecker, value S) {
	if c.err != nil {
		return
	}
	p := extParser[S]{s: value}
	for name, ok := p.next(); ok; name, ok = p.next() {
		c.n++
		switch {
		case c.n > 1:
			c.err = errExtMany
		case !equalFold(name, extDeflate) || len(c.offers) == 0:
			c.err = errExtUnoffered
		default:
			d, valid := deflateParams(&p, true)
			if !valid {
				c.err = errExtParams
				break
			}
			c.res, c.err = settle(d, c.offers, c.minBits)
		}
		if c.err != nil {
			return
		}
	}
	if p.bad {
		c.err = errExtSyntax
	}
}

// settle checks that the server's response r answers one of the client's
// offers (RFC 7692 §7.1) and returns the parameters in force:
//
//   - server_no_context_takeover and server_max_window_bits, when offered,
//     must be confirmed, the window with the same or a smaller value; the
//     server may add either unasked, to limit itself;
//   - client_no_context_takeover may always be sent;
//   - client_max_window_bits may be sent only if offered. A value above an
//     offered one is allowed (the server may ignore the client's hint), and
//     the client keeps to the smaller one.
//
// The hints of the offers r could answer (client_no_context_takeover and
// client_max_window_bits with a value) bind the client whichever of them
// the server took, so they are folded into the result. The result fails
// with errExtWindow if it needs a client window below minBits.
func settle(r DeflateParams, offers []DeflateParams, minBits int) (DeflateParams, error) {
	eff, found := r, false
	for _, o := range offers {
		switch {
		case o.ServerNoContextTakeover && !r.ServerNoContextTakeover:
		case o.ServerMaxWindowBits != 0 && (r.ServerMaxWindowBits == 0 || r.ServerMaxWindowBits > o.ServerMaxWindowBits):
		case r.ClientMaxWindowBits != 0 && o.ClientMaxWindowBits == 0:
		default:
			found = true
			eff.ClientNoContextTakeover = eff.ClientNoContextTakeover || o.ClientNoContextTakeover
			if b := o.ClientMaxWindowBits; b != 0 && b < 15 && (eff.ClientMaxWindowBits == 0 || b < eff.ClientMaxWindowBits) {
				eff.ClientMaxWindowBits = b
			}
		}
	}
	switch {
	case !found:
		return DeflateParams{}, errExtParams
	case eff.ClientMaxWindowBits != 0 && eff.ClientMaxWindowBits < minBits:
		return DeflateParams{}, errExtWindow
	}
	return eff, nil
}

// windowFloor returns the smallest window, in bits, that a compressor
// declared able to keep to min bits can honour: min clamped to 8..15, with
// 0 meaning 15 (compress/flate's only window).
func windowFloor(min int) int {
	switch {
	case min == 0 || min > 15:
		return 15
	case min < 8:
		return 8
	}
	return min
}
