package upgrade

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// The offers Autobahn's fuzzing client sends in group 13
// (conformance-cases.md §3.10).
const (
	offer13_1 = "permessage-deflate; client_no_context_takeover; client_max_window_bits"
	offer13_2 = offer13_1 + "; server_no_context_takeover"
	offer13_3 = offer13_1 + "; server_max_window_bits=9"
	offer13_4 = offer13_1 + "; server_max_window_bits=15"
	offer13_5 = offer13_1 + "; server_no_context_takeover; server_max_window_bits=9"
	offer13_6 = offer13_1 + "; server_no_context_takeover; server_max_window_bits=15"
	offer13_7 = offer13_5 + ", " + offer13_2 + ", " + offer13_1
)

// negotiated runs a request carrying the given Sec-WebSocket-Extensions
// lines through the raw server path (whole and byte by byte) and the
// net/http path, checks that they agree, and returns the response's
// Sec-WebSocket-Extensions value ("" when declined).
func negotiated(t *testing.T, pol *DeflatePolicy, lines ...string) string {
	t.Helper()
	srv := Server{Deflate: pol}
	var extra []string
	for _, l := range lines {
		extra = append(extra, "Sec-WebSocket-Extensions: "+l)
	}
	req := variant(nil, extra...)
	whole, _ := rawHandshake(t, &srv, req, len(req))
	bytewise, _ := rawHandshake(t, &srv, req, 1)
	if string(whole) != string(bytewise) {
		t.Fatalf("whole and byte-by-byte differ:\n%q\n%q", whole, bytewise)
	}
	resp := readResponse(t, whole)
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := len(resp.Header["Sec-Websocket-Extensions"]); n > 1 {
		t.Fatalf("%d Sec-WebSocket-Extensions lines", n)
	}
	got := resp.Header.Get("Sec-WebSocket-Extensions")

	hr := httptest.NewRequest("GET", "/chat", nil)
	hr.Host = "example.com"
	for _, l := range base[2:] {
		k, v, _ := strings.Cut(l, ": ")
		hr.Header.Add(k, v)
	}
	for _, l := range lines {
		hr.Header.Add("Sec-WebSocket-Extensions", l)
	}
	res, e := srv.checkHTTP(hr, nil)
	if e != nil {
		t.Fatalf("net/http path: %v", e)
	}
	var viaHTTP string
	if res.Deflate {
		viaHTTP = string(res.DeflateParams.AppendExtension(nil, false))
	}
	if viaHTTP != got {
		t.Fatalf("raw path answered %q, net/http path %q", got, viaHTTP)
	}
	return got
}

// offersIn parses a Sec-WebSocket-Extensions value into the
// permessage-deflate offers it holds, valid or not, as a client would have
// configured them.
func offersIn(t *testing.T, value string) []DeflateParams {
	t.Helper()
	var offers []DeflateParams
	p := extParser[string]{s: value}
	for name, ok := p.next(); ok; name, ok = p.next() {
		if !equalFold(name, extDeflate) {
			for _, _, _, more := p.param(); more; _, _, _, more = p.param() {
			}
			continue
		}
		if d, valid := deflateParams(&p, false); valid {
			offers = append(offers, d)
		}
	}
	return offers
}

const (
	answerNoTakeover   = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	answerNoTakeover15 = answerNoTakeover + "; server_max_window_bits=15"
)

// permissive can honour every window (as a compressor without
// back-references can) and keeps context when the client allows it.
var permissive = DeflatePolicy{MinServerWindowBits: 8, ServerContextTakeover: true, ClientContextTakeover: true}

func TestDeflateGroup13(t *testing.T) {
	cases := []struct {
		name, offer  string
		def, permiss string // answers of the default and the permissive policy
	}{
		{"13.1", offer13_1, answerNoTakeover, "permessage-deflate; client_no_context_takeover"},
		{"13.2", offer13_2, answerNoTakeover, answerNoTakeover},
		{"13.3", offer13_3, "", "permessage-deflate; client_no_context_takeover; server_max_window_bits=9"},
		{"13.4", offer13_4, answerNoTakeover15, "permessage-deflate; client_no_context_takeover; server_max_window_bits=15"},
		{"13.5", offer13_5, "", answerNoTakeover + "; server_max_window_bits=9"},
		{"13.6", offer13_6, answerNoTakeover15, answerNoTakeover15},
		// The default policy cannot honour the first offer (a 9-bit
		// server window) and takes the second; the permissive one takes
		// the first.
		{"13.7", offer13_7, answerNoTakeover, answerNoTakeover + "; server_max_window_bits=9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, pc := range []struct {
				pol  DeflatePolicy
				want string
			}{{DeflatePolicy{}, c.def}, {permissive, c.permiss}} {
				got := negotiated(t, &pc.pol, c.offer)
				if got != pc.want {
					t.Errorf("policy %+v: answered %q, want %q", pc.pol, got, pc.want)
				}
				if got == "" {
					continue
				}
				// The answer must be one the offering client accepts,
				// with nothing it did not allow.
				ck := deflateChecker{offers: offersIn(t, c.offer), minBits: 8}
				checkDeflate(&ck, got)
				if ck.err != nil || ck.n != 1 {
					t.Errorf("policy %+v: client refuses the answer %q: %v", pc.pol, got, ck.err)
				}
			}
		})
	}
}

func TestDeflateNegotiation(t *testing.T) {
	limitClient := DeflatePolicy{ClientMaxWindowBits: 12}
	cases := []struct {
		name  string
		pol   *DeflatePolicy
		lines []string
		want  string
	}{
		{"plain offer", nil, []string{"permessage-deflate"}, answerNoTakeover},
		{"first unacceptable, second taken", nil, []string{"permessage-deflate; server_max_window_bits=10, permessage-deflate; client_max_window_bits"}, answerNoTakeover},
		{"offers on several lines", nil, []string{"permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_max_window_bits=15"}, answerNoTakeover15},
		{"first line taken before second", nil, []string{"permessage-deflate; server_max_window_bits=15", "permessage-deflate"}, answerNoTakeover15},
		{"unknown extension skipped", nil, []string{"x-webkit-deflate-frame; no_context_takeover, permessage-deflate"}, answerNoTakeover},
		{"unknown extension with quoted comma", nil, []string{`foo; a="x, permessage-deflate; bar"`, "permessage-deflate"}, answerNoTakeover},
		{"whitespace around separators", nil, []string{"  permessage-deflate ;\tclient_no_context_takeover ,permessage-deflate  "}, answerNoTakeover},
		{"names in any case", nil, []string{"Permessage-Deflate; Server_Max_Window_Bits=15"}, answerNoTakeover15},
		{"quoted window bits", nil, []string{`permessage-deflate; server_max_window_bits="15"`}, answerNoTakeover15},
		{"quoted window bits with escape", nil, []string{`permessage-deflate; server_max_window_bits="1\5"`}, answerNoTakeover15},
		{"quoted client window bits", &limitClient, []string{`permessage-deflate; client_max_window_bits="10"`}, answerNoTakeover + "; client_max_window_bits=10"},
		{"client window lowered to the policy", &limitClient, []string{"permessage-deflate; client_max_window_bits"}, answerNoTakeover + "; client_max_window_bits=12"},
		{"client window never unasked", &limitClient, []string{"permessage-deflate"}, answerNoTakeover},
		{"client window not sent by default", nil, []string{"permessage-deflate; client_max_window_bits=9"}, answerNoTakeover},
		{"unknown parameter", nil, []string{"permessage-deflate; foo"}, ""},
		{"unknown parameter, then a good offer", nil, []string{"permessage-deflate; foo=1, permessage-deflate"}, answerNoTakeover},
		{"duplicate flag", nil, []string{"permessage-deflate; server_no_context_takeover; server_no_context_takeover"}, ""},
		{"duplicate client flag", nil, []string{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}, ""},
		{"duplicate window", nil, []string{"permessage-deflate; server_max_window_bits=15; server_max_window_bits=15"}, ""},
		{"duplicate client window", nil, []string{"permessage-deflate; client_max_window_bits; client_max_window_bits=15"}, ""},
		{"window 7", nil, []string{"permessage-deflate; server_max_window_bits=7"}, ""},
		{"window 16", nil, []string{"permessage-deflate; server_max_window_bits=16"}, ""},
		{"window with leading zero", nil, []string{"permessage-deflate; server_max_window_bits=015"}, ""},
		{"window not a number", nil, []string{"permessage-deflate; server_max_window_bits=abc"}, ""},
		{"window huge", nil, []string{"permessage-deflate; server_max_window_bits=99999999999999999999"}, ""},
		{"server window without value", nil, []string{"permessage-deflate; server_max_window_bits"}, ""},
		{"client window 0", nil, []string{"permessage-deflate; client_max_window_bits=0"}, ""},
		{"client window quoted empty", nil, []string{`permessage-deflate; client_max_window_bits=""`}, ""},
		{"value on a flag", nil, []string{"permessage-deflate; server_no_context_takeover=1"}, ""},
		{"quoted value on a flag", nil, []string{`permessage-deflate; client_no_context_takeover=""`}, ""},
		{"bad offer, then bad window", nil, []string{"permessage-deflate; x, permessage-deflate; server_max_window_bits=8"}, ""},
		{"unterminated quote declines all", nil, []string{`permessage-deflate, permessage-deflate; server_max_window_bits="15`}, ""},
		{"empty parameter declines all", nil, []string{"permessage-deflate;;"}, ""},
		{"trailing semicolon declines all", nil, []string{"permessage-deflate;"}, ""},
		{"junk in the list declines all", nil, []string{"permessage-deflate, @"}, ""},
		{"junk on another line declines all", nil, []string{"permessage-deflate", "permessage-deflate x"}, ""},
		{"empty value", nil, []string{""}, ""},
		{"only commas", nil, []string{" , ,"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol := c.pol
			if pol == nil {
				pol = &DeflatePolicy{}
			}
			if got := negotiated(t, pol, c.lines...); got != c.want {
				t.Fatalf("answered %q, want %q", got, c.want)
			}
			// NegotiateDeflate gives the same from strings and bytes.
			resp, ok := NegotiateDeflate(pol, c.lines...)
			var bs [][]byte
			for _, l := range c.lines {
				bs = append(bs, []byte(l))
			}
			resp2, ok2 := NegotiateDeflate(pol, bs...)
			if resp != resp2 || ok != ok2 || ok != (c.want != "") {
				t.Fatalf("NegotiateDeflate: %+v %v vs %+v %v", resp, ok, resp2, ok2)
			}
		})
	}
}

func TestDeflateNoPolicyDeclines(t *testing.T) {
	if got := negotiated(t, nil, offer13_1); got != "" {
		t.Fatalf("answered %q without a policy", got)
	}
}

func TestAppendExtension(t *testing.T) {
	p := DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 15}
	if got := string(p.AppendExtension(nil, true)); got != "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits" {
		t.Errorf("offer %q", got)
	}
	if got := string(p.AppendExtension(nil, false)); got != "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=15" {
		t.Errorf("response %q", got)
	}
	p = DeflateParams{ClientMaxWindowBits: 9}
	if got := string(p.AppendExtension(nil, true)); got != "permessage-deflate; client_max_window_bits=9" {
		t.Errorf("offer %q", got)
	}
}

// TestClientChecksDeflateResponse checks Verify's judgement of the
// server's permessage-deflate answer against the client's offers.
func TestClientChecksDeflateResponse(t *testing.T) {
	gorilla := []DeflateParams{{ServerNoContextTakeover: true, ClientNoContextTakeover: true}}
	anyWindow := []DeflateParams{{ClientMaxWindowBits: 15}}
	cases := []struct {
		name    string
		offers  []DeflateParams
		minBits int
		lines   []string
		want    *DeflateParams // nil: the handshake fails
	}{
		{"confirmed", gorilla, 0, []string{answerNoTakeover}, &DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		{"parameters in another order and case", gorilla, 0, []string{"permessage-deflate;CLIENT_NO_CONTEXT_TAKEOVER ; server_no_context_takeover"}, &DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		{"server limits its own window", gorilla, 0, []string{answerNoTakeover + "; server_max_window_bits=10"}, &DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10}},
		{"client hint folded in", gorilla, 0, []string{"permessage-deflate; server_no_context_takeover"}, &DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		{"server_no_context_takeover not confirmed", gorilla, 0, []string{"permessage-deflate; client_no_context_takeover"}, nil},
		{"client window not offered", gorilla, 0, []string{answerNoTakeover + "; client_max_window_bits=15"}, nil},
		{"server window out of range", gorilla, 0, []string{answerNoTakeover + "; server_max_window_bits=16"}, nil},
		{"unknown parameter", gorilla, 0, []string{answerNoTakeover + "; foo"}, nil},
		{"repeated parameter", gorilla, 0, []string{answerNoTakeover + "; server_no_context_takeover"}, nil},
		{"two elements", gorilla, 0, []string{answerNoTakeover + ", permessage-deflate"}, nil},
		{"two lines", gorilla, 0, []string{answerNoTakeover, "permessage-deflate"}, nil},
		{"other extension", gorilla, 0, []string{"x-foo"}, nil},
		{"nothing offered", nil, 0, []string{"permessage-deflate"}, nil},
		{"malformed", gorilla, 0, []string{"permessage-deflate;"}, nil},
		{"declined", gorilla, 0, nil, &DeflateParams{}},
		{"server window must be confirmed", []DeflateParams{{ServerMaxWindowBits: 10}}, 0, []string{"permessage-deflate"}, nil},
		{"server window larger than offered", []DeflateParams{{ServerMaxWindowBits: 10}}, 0, []string{"permessage-deflate; server_max_window_bits=12"}, nil},
		{"server window smaller than offered", []DeflateParams{{ServerMaxWindowBits: 10}}, 0, []string{"permessage-deflate; server_max_window_bits=9"}, &DeflateParams{ServerMaxWindowBits: 9}},
		{"second offer matches", []DeflateParams{{ServerMaxWindowBits: 10}, {}}, 0, []string{"permessage-deflate"}, &DeflateParams{}},
		{"client window needs a value", anyWindow, 8, []string{"permessage-deflate; client_max_window_bits"}, nil},
		{"client window chosen by the server", anyWindow, 8, []string{"permessage-deflate; client_max_window_bits=9"}, &DeflateParams{ClientMaxWindowBits: 9}},
		{"client window below the compressor's", anyWindow, 10, []string{"permessage-deflate; client_max_window_bits=9"}, nil},
		{"client window 15 with flate", anyWindow, 0, []string{"permessage-deflate; client_max_window_bits=15"}, &DeflateParams{ClientMaxWindowBits: 15}},
		{"client window above the hint", []DeflateParams{{ClientMaxWindowBits: 10}}, 8, []string{"permessage-deflate; client_max_window_bits=12"}, &DeflateParams{ClientMaxWindowBits: 10}},
		{"client hint without answer", []DeflateParams{{ClientMaxWindowBits: 10}}, 8, []string{"permessage-deflate"}, &DeflateParams{ClientMaxWindowBits: 10}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := Client{Host: "example.com", Deflate: c.offers, DeflateMinWindowBits: c.minBits}
			var extra []string
			for _, l := range c.lines {
				extra = append(extra, "Sec-WebSocket-Extensions: "+l)
			}
			res, err := verifyBoth(t, &cl, okResponse(extra...))
			if c.want == nil {
				if err == nil || !isHandshakeError(err, ErrResponseExtension) {
					t.Fatalf("accepted (%+v, %v), want ErrResponseExtension", res, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Deflate != (len(c.lines) > 0) || res.DeflateParams != *c.want {
				t.Fatalf("got %v %+v, want %+v", res.Deflate, res.DeflateParams, *c.want)
			}
		})
	}
}
