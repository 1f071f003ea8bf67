package upgrade

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Seed corpora live in testdata/fuzz/<target>/; the f.Add calls below are
// the few inputs every run starts from even without them.

// pieces cuts data where cuts says: each cut byte is the length of the next
// piece (0 means 1). No cuts means one piece.
func pieces(data, cuts []byte) [][]byte {
	var out [][]byte
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if len(cuts) > 0 {
			n = min(int(cuts[i%len(cuts)])+1, len(data))
		}
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

func bytewise(data []byte) [][]byte { return pieces(data, []byte{0}) }

// growing feeds the pieces to parse as an event loop would: each call sees
// every byte so far, in a buffer grown by append (so it moves), until parse
// stops asking for more. It returns the last status and count and the
// buffer as last passed.
func growing(ps [][]byte, parse func([]byte) (Status, int)) (Status, int, []byte) {
	var buf []byte
	st, n := NeedMore, 0
	for _, p := range ps {
		buf = append(buf, p...)
		if st, n = parse(buf); st != NeedMore {
			break
		}
	}
	return st, n, buf
}

// requestOutcome describes everything the raw server path produces for
// data, cut as ps.
func requestOutcome(t *testing.T, s *Server, ps [][]byte) string {
	var r Request
	st, n, buf := growing(ps, func(b []byte) (Status, int) { return s.Parse(&r, b) })
	max := s.maxHeaderBytes()
	switch st {
	case NeedMore:
		if len(buf) >= max {
			t.Fatalf("NeedMore with %d bytes, over the %d-byte limit", len(buf), max)
		}
		if r.Err() != nil || r.Host() != nil {
			t.Fatalf("NeedMore with state: %v", r.Err())
		}
		return "NeedMore"
	case Failed:
		e := r.Err()
		if e == nil {
			t.Fatal("Failed without an error")
		}
		return fmt.Sprintf("Failed %d %q", e.Status, e.Reason)
	}
	if n <= 0 || n > max || n > len(buf) {
		t.Fatalf("Done with n=%d (buffer %d, limit %d)", n, len(buf), max)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Done %d host=%q origin=%q uri=%q path=%q query=%q key=%q", n, r.Host(), r.Origin(), r.RequestURI(), r.Path(), r.Query(), r.Key())
	for _, p := range r.Subprotocols(nil) {
		fmt.Fprintf(&b, " proto=%q", p)
	}
	for v := range r.Extensions() {
		fmt.Fprintf(&b, " ext=%q", v)
	}
	for k, v := range r.Headers() {
		fmt.Fprintf(&b, " %q=%q", k, v)
	}
	res, err := s.Accept(&r)
	if err != nil {
		fmt.Fprintf(&b, " refused %v", err)
		return b.String()
	}
	out, err := AppendResponse(nil, r.Key(), &res, nil)
	if err != nil {
		fmt.Fprintf(&b, " unwritable %+v %v", res, err)
		return b.String()
	}
	resp, perr := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
	if perr != nil || resp.StatusCode != 101 {
		t.Fatalf("accepted, but wrote %q (%v)", out, perr)
	}
	var want [28]byte
	ComputeAccept(&want, r.Key())
	if resp.Header.Get("Sec-WebSocket-Accept") != string(want[:]) {
		t.Fatalf("accept header %q", resp.Header.Get("Sec-WebSocket-Accept"))
	}
	fmt.Fprintf(&b, " %q", out)
	return b.String()
}

// FuzzRequest feeds arbitrary bytes to the request parser, whole, cut where
// the fuzzer says, and byte by byte, with fuzzer-chosen limits. It must
// never panic, never ask for more than the size limit, never allocate, and
// reach the same outcome (status, head length, fields, negotiation and
// response bytes) whatever the cutting.
func FuzzRequest(f *testing.F) {
	f.Add([]byte(reqWith(base...)+"\x81\x80abcd"), []byte{3}, uint8(0), uint16(0), uint8(0))
	f.Add(chromeRequest, []byte{0, 7, 100}, uint8(20), uint16(700), uint8(1))
	f.Add([]byte(variant(nil, "Sec-WebSocket-Extensions: "+offer13_7, "Origin: http://example.com")), []byte{5}, uint8(0), uint16(0), uint8(3))
	f.Add([]byte("POST / HTTP/1.0\r\n\r\n"), []byte{}, uint8(1), uint16(1), uint8(0))
	f.Fuzz(func(t *testing.T, data, cuts []byte, maxHeaders uint8, maxBytes uint16, conf uint8) {
		s := Server{MaxHeaders: int(maxHeaders), MaxHeaderBytes: int(maxBytes)}
		if conf&1 != 0 {
			s.Subprotocols = []string{"chat", "superchat"}
		}
		if conf&2 != 0 {
			s.Deflate = &DeflatePolicy{MinServerWindowBits: int(conf >> 4), ServerContextTakeover: conf&4 != 0, ClientContextTakeover: conf&8 != 0, ClientMaxWindowBits: int(conf >> 4)}
		}
		want := requestOutcome(t, &s, [][]byte{data})
		if got := requestOutcome(t, &s, pieces(data, cuts)); got != want {
			t.Fatalf("whole input gave\n%s\ncut input gave\n%s", want, got)
		}
		if got := requestOutcome(t, &s, bytewise(data)); got != want {
			t.Fatalf("whole input gave\n%s\nbyte by byte gave\n%s", want, got)
		}
		// Bounded memory: the parse, the negotiation and the response
		// into a large enough buffer allocate nothing, whatever the input.
		var r Request
		out := make([]byte, 0, 4096)
		if n := testing.AllocsPerRun(1, func() {
			r.Reset()
			if st, _ := s.Parse(&r, data); st == Done {
				if res, err := s.Accept(&r); err == nil {
					AppendResponse(out[:0], r.Key(), &res, nil)
				}
			}
		}); n != 0 {
			t.Fatalf("%v allocations", n)
		}
	})
}

var fuzzKey = rfcKeyArr

// responseOutcome describes what the client makes of data, cut as ps.
func responseOutcome(t *testing.T, c *Client, ps [][]byte) string {
	var r Response
	st, n, buf := growing(ps, func(b []byte) (Status, int) { return c.ParseResponse(&r, b) })
	max, _ := c.limits()
	switch st {
	case NeedMore:
		if len(buf) >= max {
			t.Fatalf("NeedMore with %d bytes, over the %d-byte limit", len(buf), max)
		}
		return "NeedMore"
	case Failed:
		if r.Err() == nil {
			t.Fatal("Failed without an error")
		}
		return "Failed " + r.Err().Error()
	}
	if n <= 0 || n > max || n > len(buf) {
		t.Fatalf("Done with n=%d (buffer %d, limit %d)", n, len(buf), max)
	}
	res, err := c.Verify(&r, &fuzzKey)
	if err != nil {
		he, ok := err.(*HandshakeError)
		if !ok || he.StatusCode != r.StatusCode() || he.Header == nil {
			t.Fatalf("Verify failed with %#v", err)
		}
		return fmt.Sprintf("Done %d refused %v %v", n, err, he.Header)
	}
	if r.StatusCode() != 101 {
		t.Fatalf("accepted status %d", r.StatusCode())
	}
	if res.Subprotocol != "" && !listContains(strings.Join(c.Subprotocols, ","), res.Subprotocol) {
		t.Fatalf("accepted subprotocol %q", res.Subprotocol)
	}
	if res.Deflate && !res.DeflateParams.valid() {
		t.Fatalf("accepted deflate %+v", res.DeflateParams)
	}
	return fmt.Sprintf("Done %d %+v", n, res)
}

// FuzzResponse does for the client's response parser and Verify what
// FuzzRequest does for the server.
func FuzzResponse(f *testing.F) {
	f.Add([]byte(okResponse()+"\x81\x05hello"), []byte{2}, uint8(0), uint16(0), uint8(0))
	f.Add(chromeResponse, []byte{9, 1}, uint8(0), uint16(0), uint8(3))
	f.Add([]byte(okResponse("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9; server_max_window_bits=10")), []byte{}, uint8(0), uint16(0), uint8(6))
	f.Add([]byte(reqWith("HTTP/1.1 401 Unauthorized", "WWW-Authenticate: Basic", "Content-Length: 0")), []byte{4}, uint8(2), uint16(100), uint8(0))
	f.Fuzz(func(t *testing.T, data, cuts []byte, maxHeaders uint8, maxBytes uint16, conf uint8) {
		c := Client{Host: "example.com", MaxHeaders: int(maxHeaders), MaxHeaderBytes: int(maxBytes)}
		if conf&1 != 0 {
			c.Subprotocols = []string{"chat", "superchat"}
		}
		switch conf >> 1 & 3 {
		case 1:
			c.Deflate = benchClient.Deflate
		case 2:
			c.Deflate = []DeflateParams{{ClientMaxWindowBits: 15, ServerMaxWindowBits: 12}, {ClientMaxWindowBits: 10}}
			c.DeflateMinWindowBits = 8
		case 3:
			c.Deflate = []DeflateParams{{ServerNoContextTakeover: true}, {ClientMaxWindowBits: 15}}
			c.DeflateMinWindowBits = int(conf >> 4)
		}
		want := responseOutcome(t, &c, [][]byte{data})
		if got := responseOutcome(t, &c, pieces(data, cuts)); got != want {
			t.Fatalf("whole input gave\n%s\ncut input gave\n%s", want, got)
		}
		if got := responseOutcome(t, &c, bytewise(data)); got != want {
			t.Fatalf("whole input gave\n%s\nbyte by byte gave\n%s", want, got)
		}
		var r Response
		if n := testing.AllocsPerRun(1, func() {
			r.Reset()
			c.ParseResponse(&r, data)
		}); n != 0 {
			t.Fatalf("%v allocations", n)
		}
	})
}

// topLevelCommas returns the positions of the commas of an extension list
// that are outside quoted strings.
func topLevelCommas(s string) []int {
	var at []int
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			at = append(at, i)
		}
	}
	return at
}

// FuzzExtensions gives arbitrary Sec-WebSocket-Extensions values to the
// server's negotiation and the client's check. Neither may panic or
// allocate; the server's answer must not depend on how the list is split
// into header lines, on string or []byte input, and must be a response the
// offering client accepts, within the server's policy.
func FuzzExtensions(f *testing.F) {
	for _, o := range []string{offer13_1, offer13_2, offer13_3, offer13_4, offer13_5, offer13_6, offer13_7,
		`permessage-deflate; server_max_window_bits="1\5", x-foo; a="b,c"`, "permessage-deflate;;", "permessage-deflate; client_max_window_bits=08"} {
		f.Add(o, uint8(0), uint8(0))
	}
	f.Fuzz(func(t *testing.T, value string, split, conf uint8) {
		pol := &DeflatePolicy{MinServerWindowBits: int(conf & 15), ServerContextTakeover: conf&16 != 0, ClientContextTakeover: conf&32 != 0}
		if conf&64 != 0 {
			pol.ClientMaxWindowBits = int(conf&7) + 8
		}
		resp, ok := NegotiateDeflate(pol, value)
		if resp2, ok2 := NegotiateDeflate(pol, []byte(value)); resp2 != resp || ok2 != ok {
			t.Fatalf("string gave %+v %v, bytes %+v %v", resp, ok, resp2, ok2)
		}
		if commas := topLevelCommas(value); len(commas) > 0 {
			at := commas[int(split)%len(commas)]
			resp2, ok2 := NegotiateDeflate(pol, value[:at], value[at+1:])
			if resp2 != resp || ok2 != ok {
				t.Fatalf("one line gave %+v %v; split at %d, %+v %v", resp, ok, at, resp2, ok2)
			}
		}
		if n := testing.AllocsPerRun(1, func() { NegotiateDeflate(pol, value) }); n != 0 {
			t.Fatalf("%v allocations", n)
		}
		if ok {
			if !resp.valid() || resp.ServerMaxWindowBits != 0 && resp.ServerMaxWindowBits < pol.minServerBits() ||
				!pol.ServerContextTakeover && !resp.ServerNoContextTakeover || !pol.ClientContextTakeover && !resp.ClientNoContextTakeover {
				t.Fatalf("answer %+v outside the policy %+v", resp, pol)
			}
			answer := string(resp.AppendExtension(nil, false))
			ck := deflateChecker{offers: offersIn(t, value), minBits: 8}
			checkDeflate(&ck, answer)
			if ck.err != nil || ck.n != 1 {
				t.Fatalf("offers %q: the client refuses the answer %q: %v", value, answer, ck.err)
			}
		}
		// The client's check of an arbitrary response.
		ck := deflateChecker{offers: []DeflateParams{{ServerNoContextTakeover: true, ClientMaxWindowBits: 15}, {ServerMaxWindowBits: 10}}, minBits: int(conf&7) + 8}
		checkDeflate(&ck, value)
		ck2 := ck
		ck2.n, ck2.err, ck2.res = 0, nil, DeflateParams{}
		checkDeflate(&ck2, []byte(value))
		if ck.n != ck2.n || ck.err != ck2.err || ck.res != ck2.res {
			t.Fatalf("client check: string %+v, bytes %+v", ck, ck2)
		}
		if ck.err == nil && ck.n == 1 && (!ck.res.valid() || ck.res.ClientMaxWindowBits != 0 && ck.res.ClientMaxWindowBits < ck.minBits) {
			t.Fatalf("client accepted %+v", ck.res)
		}
	})
}
