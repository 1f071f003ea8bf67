package upgrade

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lullws/lull/frame"
)

const rfcKey = "dGhlIHNhbXBsZSBub25jZQ==" // RFC 6455 §1.3
const rfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

// feed gives data to Parse in chunks of the given size, growing the
// buffer with append as an event loop would, until the parser stops
// asking for more. It returns the buffer as last passed.
func feed(s *Server, r *Request, data string, chunk int) (Status, int, []byte) {
	buf := make([]byte, 0, 1)
	st := NeedMore
	n := 0
	for i := 0; i < len(data) && st == NeedMore; {
		j := min(i+chunk, len(data))
		buf = append(buf, data[i:j]...)
		i = j
		st, n = s.Parse(r, buf)
	}
	return st, n, buf
}

// rawHandshake runs the whole raw server path on data and returns the
// bytes the server would write back, plus the head length.
func rawHandshake(t *testing.T, s *Server, data string, chunk int) ([]byte, int) {
	t.Helper()
	var r Request
	st, n, _ := feed(s, &r, data, chunk)
	switch st {
	case NeedMore:
		t.Fatalf("chunk %d: parser still wants more after the whole request", chunk)
	case Failed:
		if r.Err() == nil {
			t.Fatalf("chunk %d: Failed without an error", chunk)
		}
		return AppendError(nil, r.Err().Status, r.Err().Reason), 0
	}
	res, err := s.Accept(&r)
	if err != nil {
		e := err.(*Error)
		return AppendError(nil, e.Status, e.Reason), n
	}
	out, err := AppendResponse(nil, r.Key(), &res, nil)
	if err != nil {
		t.Fatalf("AppendResponse: %v", err)
	}
	return out, n
}

func readResponse(t *testing.T, b []byte) *http.Response {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		t.Fatalf("server wrote an unparsable response %q: %v", b, err)
	}
	return resp
}

func reqWith(lines ...string) string {
	return strings.Join(lines, "\r\n") + "\r\n\r\n"
}

var base = []string{
	"GET /chat?room=1 HTTP/1.1",
	"Host: example.com",
	"Upgrade: websocket",
	"Connection: Upgrade",
	"Sec-WebSocket-Key: " + rfcKey,
	"Sec-WebSocket-Version: 13",
}

// variant returns base with the lines whose prefix matches a key of
// replace replaced (an empty value deletes the line) and extra appended.
func variant(replace map[string]string, extra ...string) string {
	var out []string
	for _, l := range base {
		done := false
		for k, v := range replace {
			if strings.HasPrefix(l, k) {
				if v != "" {
					out = append(out, v)
				}
				done = true
			}
		}
		if !done {
			out = append(out, l)
		}
	}
	return reqWith(append(out, extra...)...)
}

type serverCase struct {
	name   string
	srv    Server
	req    string
	status int
	header map[string]string // expected response header values ("" = absent)
	err    *Error            // expected parse/accept error
	// httpStatus is the status expected through net/http + UpgradeHTTP;
	// 0 means the same as status, -1 skips (net/http's own limits differ).
	httpStatus int
}

var bigHeader = "X-Big: " + strings.Repeat("a", 9000)

// manySmall is 91 short headers (9 KiB): under the count limit, over the
// size limit. tooMany is 96 one-byte headers, which with base's 5 make 101.
var manySmall, tooMany = func() (a, b []string) {
	for i := 0; i < 91; i++ {
		a = append(a, "X-H"+strconv.Itoa(i)+": "+strings.Repeat("v", 90))
	}
	for i := 0; i < 96; i++ {
		b = append(b, "X-H"+strconv.Itoa(i)+": v")
	}
	return
}()

var serverCases = []serverCase{
	{name: "ok", req: reqWith(base...), status: 101,
		header: map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": rfcAccept, "Sec-WebSocket-Protocol": "", "Sec-WebSocket-Extensions": ""}},
	{name: "tokens in lists, any case", req: variant(map[string]string{"Upgrade:": "upgrade: h2c, WebSocket", "Connection:": "connection: keep-alive, UPGRADE"}), status: 101},
	{name: "tokens on repeated lines", req: variant(map[string]string{"Upgrade:": "Upgrade: h2c", "Connection:": "Connection: keep-alive"}, "Upgrade: websocket", "Connection: upgrade"), status: 101},
	{name: "bare LF line ends", req: strings.ReplaceAll(reqWith(base...), "\r\n", "\n"), status: 101, httpStatus: -1},
	{name: "absolute-form target", req: variant(map[string]string{"GET": "GET http://example.com/chat HTTP/1.1"}), status: 101},
	{name: "HTTP/1.2", req: variant(map[string]string{"GET": "GET / HTTP/1.2"}), status: 101, httpStatus: -1},
	{name: "POST", req: variant(map[string]string{"GET": "POST / HTTP/1.1"}), status: 405, err: ErrMethod, header: map[string]string{"Allow": "GET"}},
	{name: "HEAD", req: variant(map[string]string{"GET": "HEAD / HTTP/1.1"}), status: 405, err: ErrMethod, header: map[string]string{"Allow": "GET"}, httpStatus: -1}, // net/http sends no body to HEAD
	{name: "CONNECT", req: variant(map[string]string{"GET": "CONNECT example.com:443 HTTP/1.1"}), status: 405, err: ErrMethod, httpStatus: -1},
	{name: "lower-case get", req: variant(map[string]string{"GET": "get / HTTP/1.1"}), status: 405, err: ErrMethod},
	{name: "HTTP/1.0", req: variant(map[string]string{"GET": "GET / HTTP/1.0"}), status: 505, err: ErrHTTPVersion},
	{name: "HTTP/0.9", httpStatus: 505, req: variant(map[string]string{"GET": "GET / HTTP/0.9"}), status: 505, err: ErrHTTPVersion},
	{name: "lower-case version", httpStatus: 400, req: variant(map[string]string{"GET": "GET / http/1.1"}), status: 400, err: ErrMalformed},
	{name: "two-digit minor", httpStatus: 400, req: variant(map[string]string{"GET": "GET / HTTP/1.10"}), status: 400, err: ErrMalformed},
	{name: "no target", httpStatus: 400, req: variant(map[string]string{"GET": "GET  HTTP/1.1"}), status: 400, err: ErrMalformed},
	{name: "tab in request line", httpStatus: 400, req: variant(map[string]string{"GET": "GET\t/ HTTP/1.1"}), status: 400, err: ErrMalformed},
	{name: "HTTP/2.0", httpStatus: 505, req: variant(map[string]string{"GET": "GET / HTTP/2.0"}), status: 505, err: ErrHTTPVersion},
	{name: "malformed version", httpStatus: 400, req: variant(map[string]string{"GET": "GET / HTTP/1"}), status: 400, err: ErrMalformed},
	{name: "no version", httpStatus: 400, req: variant(map[string]string{"GET": "GET /"}), status: 400, err: ErrMalformed},
	{name: "target *", req: variant(map[string]string{"GET": "GET * HTTP/1.1"}), status: 400, err: ErrRequestTarget, httpStatus: -1},
	{name: "empty lines before the request line", req: "\r\n\n" + reqWith(base...), status: 101, httpStatus: -1},
	{name: "absolute-form target names the host", req: variant(map[string]string{"GET": "GET http://other.example/chat HTTP/1.1"}, "Origin: http://other.example"), status: 101},
	{name: "absolute-form target without path", req: variant(map[string]string{"GET": "GET http://example.com HTTP/1.1"}), status: 101, httpStatus: -1},
	{name: "absolute-form target with userinfo", req: variant(map[string]string{"GET": "GET http://u@example.com/ HTTP/1.1"}), status: 400, err: ErrHost, httpStatus: -1},
	{name: "invalid Host", req: variant(map[string]string{"Host:": "Host: exa mple.com"}), status: 400, err: ErrHost, httpStatus: 400},
	{name: "Host with a path", req: variant(map[string]string{"Host:": "Host: example.com/x"}), status: 400, err: ErrHost, httpStatus: 400},
	{name: "missing Host", httpStatus: 400, req: variant(map[string]string{"Host:": ""}), status: 400, err: ErrHost},
	{name: "empty Host", req: variant(map[string]string{"Host:": "Host: "}), status: 400, err: ErrHost, httpStatus: -1},
	{name: "two Hosts", httpStatus: 400, req: variant(nil, "Host: other.example"), status: 400, err: ErrDuplicateHeader},
	{name: "missing Upgrade", req: variant(map[string]string{"Upgrade:": ""}), status: 400, err: ErrUpgradeToken},
	{name: "Upgrade without websocket", req: variant(map[string]string{"Upgrade:": "Upgrade: websocket2, h2c"}), status: 400, err: ErrUpgradeToken},
	{name: "missing Connection", req: variant(map[string]string{"Connection:": ""}), status: 400, err: ErrConnectionToken},
	{name: "Connection without upgrade", req: variant(map[string]string{"Connection:": "Connection: keep-alive, upgraded"}), status: 400, err: ErrConnectionToken},
	{name: "missing key", req: variant(map[string]string{"Sec-WebSocket-Key:": ""}), status: 400, err: ErrKey},
	{name: "short key", req: variant(map[string]string{"Sec-WebSocket-Key:": "Sec-WebSocket-Key: abc"}), status: 400, err: ErrKey},
	{name: "key of 17 bytes", req: variant(map[string]string{"Sec-WebSocket-Key:": "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA="}), status: 400, err: ErrKey},
	{name: "key with bad char", req: variant(map[string]string{"Sec-WebSocket-Key:": "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ*=="}), status: 400, err: ErrKey},
	{name: "key without padding", req: variant(map[string]string{"Sec-WebSocket-Key:": "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ"}), status: 400, err: ErrKey},
	{name: "key of 15 bytes", req: variant(map[string]string{"Sec-WebSocket-Key:": "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA"}), status: 400, err: ErrKey},
	{name: "key with inner space", req: variant(map[string]string{"Sec-WebSocket-Key:": "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j ZQ=="}), status: 400, err: ErrKey},
	{name: "key URL-safe alphabet", req: variant(map[string]string{"Sec-WebSocket-Key:": "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ-=="}), status: 400, err: ErrKey},
	{name: "empty key", req: variant(map[string]string{"Sec-WebSocket-Key:": "Sec-WebSocket-Key:"}), status: 400, err: ErrKey},
	{name: "two keys", req: variant(nil, "Sec-WebSocket-Key: "+rfcKey), status: 400, err: ErrDuplicateHeader},
	{name: "version 8", req: variant(map[string]string{"Sec-WebSocket-Version:": "Sec-WebSocket-Version: 8"}), status: 426, err: ErrVersion, header: map[string]string{"Sec-WebSocket-Version": "13"}},
	{name: "version missing", req: variant(map[string]string{"Sec-WebSocket-Version:": ""}), status: 426, err: ErrVersion, header: map[string]string{"Sec-WebSocket-Version": "13"}},
	{name: "version 14", req: variant(map[string]string{"Sec-WebSocket-Version:": "Sec-WebSocket-Version: 14"}), status: 426, err: ErrVersion, header: map[string]string{"Sec-WebSocket-Version": "13"}},
	{name: "two versions", req: variant(nil, "Sec-WebSocket-Version: 13"), status: 400, err: ErrDuplicateHeader},
	{name: "two origins", req: variant(nil, "Origin: http://example.com", "Origin: http://example.com"), status: 400, err: ErrDuplicateHeader},
	{name: "version list", req: variant(map[string]string{"Sec-WebSocket-Version:": "Sec-WebSocket-Version: 8, 13"}), status: 426, err: ErrVersion},
	{name: "same origin, other case", req: variant(nil, "Origin: https://EXAMPLE.com"), status: 101},
	{name: "same origin with a path and userinfo", req: variant(nil, "Origin: https://u@example.com/p?q"), status: 101},
	{name: "empty Origin header", req: variant(nil, "Origin:"), status: 403, err: ErrOrigin},
	{name: "origin without scheme", req: variant(nil, "Origin: example.com"), status: 403, err: ErrOrigin},
	{name: "cross origin", req: variant(nil, "Origin: https://evil.example"), status: 403, err: ErrOrigin},
	{name: "origin null", req: variant(nil, "Origin: null"), status: 403, err: ErrOrigin},
	{name: "origin port differs", req: variant(nil, "Origin: http://example.com:8080"), status: 403, err: ErrOrigin},
	{name: "origin hook", srv: Server{CheckOrigin: func(r *Request) bool { return string(r.Origin()) == "https://evil.example" },
		CheckOriginHTTP: func(r *http.Request) bool { return r.Header.Get("Origin") == "https://evil.example" }},
		req: variant(nil, "Origin: https://evil.example"), status: 101},
	{name: "header too large", req: variant(nil, bigHeader), status: 431, err: ErrHeaderTooLarge, httpStatus: -1},
	{name: "request line too large", req: variant(map[string]string{"GET": "GET /" + strings.Repeat("a", 8200) + " HTTP/1.1"}), status: 431, err: ErrHeaderTooLarge, httpStatus: -1},
	{name: "many small headers too large", req: variant(nil, manySmall...), status: 431, err: ErrHeaderTooLarge, httpStatus: -1},
	{name: "too many headers by default", req: variant(nil, tooMany...), status: 431, err: ErrTooManyHeaders, httpStatus: -1},
	{name: "custom size limit", srv: Server{MaxHeaderBytes: 100}, req: reqWith(base...), status: 431, err: ErrHeaderTooLarge, httpStatus: -1},
	{name: "too many headers", srv: Server{MaxHeaders: 5}, req: variant(nil, "A: 1"), status: 431, err: ErrTooManyHeaders, httpStatus: -1},
	{name: "header limit exact", srv: Server{MaxHeaders: 5}, req: variant(nil), status: 101, httpStatus: -1},
	{name: "obs-fold", req: variant(nil, "X-A: 1", " continued"), status: 400, err: ErrObsFold, httpStatus: -1},
	{name: "space before colon", httpStatus: 400, req: variant(nil, "X-A : 1"), status: 400, err: ErrMalformed},
	{name: "no colon", httpStatus: 400, req: variant(nil, "X-A"), status: 400, err: ErrMalformed},
	{name: "control byte in value", httpStatus: 400, req: variant(nil, "X-A: a\x01b"), status: 400, err: ErrMalformed},
	{name: "bare CR in value", httpStatus: 400, req: variant(nil, "X-A: a\rb"), status: 400, err: ErrMalformed},
	{name: "subprotocol by server preference", srv: Server{Subprotocols: []string{"b", "a"}},
		req: variant(nil, "Sec-WebSocket-Protocol: a, b"), status: 101, header: map[string]string{"Sec-WebSocket-Protocol": "b"}},
	{name: "subprotocol on second line", srv: Server{Subprotocols: []string{"x", "a"}},
		req: variant(nil, "Sec-WebSocket-Protocol: q", "Sec-WebSocket-Protocol: a"), status: 101, header: map[string]string{"Sec-WebSocket-Protocol": "a"}},
	{name: "subprotocol not offered", srv: Server{Subprotocols: []string{"x"}},
		req: variant(nil, "Sec-WebSocket-Protocol: a, X"), status: 101, header: map[string]string{"Sec-WebSocket-Protocol": ""}},
	{name: "deflate declined without policy",
		req: variant(nil, "Sec-WebSocket-Extensions: permessage-deflate"), status: 101, header: map[string]string{"Sec-WebSocket-Extensions": ""}},
	{name: "deflate default policy", srv: Server{Deflate: &DeflatePolicy{}},
		req: variant(nil, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"), status: 101,
		header: map[string]string{"Sec-WebSocket-Extensions": "permessage-deflate; server_no_context_takeover; client_no_context_takeover"}},
}

// checkResponse checks the status, the headers the case names and, for a
// refusal, the plain-text body and the headers every refusal carries. With
// exact set (the raw path, whose bytes are all ours) the refusal must have
// those headers and no others; net/http adds Date and
// X-Content-Type-Options.
func checkResponse(t *testing.T, c serverCase, resp *http.Response, status int, exact bool) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d", resp.StatusCode, status)
	}
	for k, v := range c.header {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if status == 101 {
		return
	}
	body, _ := io.ReadAll(resp.Body)
	if c.err != nil && string(body) != c.err.Reason+"\n" {
		t.Errorf("body %q, want %q", body, c.err.Reason+"\n")
	}
	want := http.Header{
		"Connection":     {"close"},
		"Content-Type":   {"text/plain; charset=utf-8"},
		"Content-Length": {strconv.Itoa(len(body))},
	}
	switch status {
	case http.StatusUpgradeRequired:
		want["Sec-Websocket-Version"] = []string{"13"}
	case http.StatusMethodNotAllowed:
		want["Allow"] = []string{"GET"}
	}
	if !resp.Close {
		t.Errorf("error response without Connection: close")
	}
	resp.Header["Connection"] = []string{"close"} // ReadResponse removes it
	for k, v := range want {
		if got := resp.Header[k]; strings.Join(got, "|") != strings.Join(v, "|") {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	for k, v := range resp.Header {
		if _, ok := want[k]; ok {
			continue
		}
		if exact || k != "Date" && k != "X-Content-Type-Options" {
			t.Errorf("unexpected header %s: %q", k, v)
		}
	}
}

func TestServerRaw(t *testing.T) {
	for _, c := range serverCases {
		t.Run(c.name, func(t *testing.T) {
			whole, n1 := rawHandshake(t, &c.srv, c.req, len(c.req))
			bytewise, n2 := rawHandshake(t, &c.srv, c.req, 1)
			if !bytes.Equal(whole, bytewise) || n1 != n2 {
				t.Fatalf("whole and byte-by-byte differ:\n%q (n=%d)\n%q (n=%d)", whole, n1, bytewise, n2)
			}
			if c.status == 101 && n1 != len(c.req) {
				t.Errorf("head length %d, want %d", n1, len(c.req))
			}
			checkResponse(t, c, readResponse(t, whole), c.status, true)
			if c.err != nil {
				var r Request
				st, _, _ := feed(&c.srv, &r, c.req, 7)
				var err error = r.Err()
				if st == Done {
					_, err = c.srv.Accept(&r)
				}
				if err != c.err {
					t.Errorf("error %v, want %v", err, c.err)
				}
			}
		})
	}
}

func TestServerErrorResponseExact(t *testing.T) {
	got := string(AppendError(nil, 426, ErrVersion.Reason))
	want := "HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Sec-WebSocket-Version: 13\r\nContent-Length: 34\r\n\r\n'Sec-WebSocket-Version' is not 13\n"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	got = string(AppendError(nil, 400, "bad\r\nX-Injected: 1"))
	if strings.Contains(got, "\r\nX-Injected") {
		t.Fatalf("reason injected a header: %q", got)
	}
}

func TestServerResponseExact(t *testing.T) {
	res := Result{Subprotocol: "chat", Deflate: true, DeflateParams: DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}}
	got, err := AppendResponse([]byte("x"), []byte(rfcKey), &res, []Field{{"Set-Cookie", "a=b"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "xHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + rfcAccept +
		"\r\nSec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n" +
		"Set-Cookie: a=b\r\n\r\n"
	if string(got) != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestAppendResponseRefusesBadHeaders(t *testing.T) {
	for _, f := range []Field{
		{"X-A", "a\r\nX-Injected: 1"}, {"X-A", "a\nb"}, {"X-A", "a\x00"}, {"X-A", "a\x7f"},
		{"X A", "1"}, {"", "1"}, {"X-A\r\n", "1"},
		{"Upgrade", "websocket"}, {"sec-websocket-accept", "x"}, {"Sec-WebSocket-Protocol", "p"}, {"Sec-Websocket-Extensions", "x"}, {"connection", "close"},
	} {
		dst := []byte("keep")
		out, err := AppendResponse(dst, []byte(rfcKey), &Result{}, []Field{{"X-Ok", "1"}, f})
		if err != ErrResponseHeader || string(out) != "keep" {
			t.Errorf("%q: got %q, %v; want refusal with nothing written", f, out, err)
		}
	}
	if _, err := AppendResponse(nil, []byte(rfcKey), &Result{Subprotocol: "a b"}, nil); err != ErrResponseHeader {
		t.Errorf("subprotocol with a space: %v", err)
	}
}

func TestComputeAccept(t *testing.T) {
	var a [28]byte
	ComputeAccept(&a, []byte(rfcKey))
	if string(a[:]) != rfcAccept {
		t.Fatalf("got %s", a[:])
	}
	long := bytes.Repeat([]byte("k"), 100) // takes the hash.Hash path
	var b, c [28]byte
	ComputeAccept(&b, long)
	computeAccept(&c, string(long))
	if b != c || b == a {
		t.Fatalf("long key: %s vs %s", b[:], c[:])
	}
}

// TestServerKeepsPipelinedBytes sends a request and a first frame
// together, in one buffer and in pieces, and hands what Parse leaves to the
// frame parser, which must read the whole frame from it.
func TestServerKeepsPipelinedBytes(t *testing.T) {
	wire := frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}}, []byte("Hello"))
	data := reqWith(base...) + string(wire)
	for _, chunk := range []int{1, 2, 5, 64, len(data)} {
		var r Request
		var s Server
		var buf []byte
		st, n := NeedMore, 0
		for i := 0; i < len(data); i += chunk {
			buf = append(buf, data[i:min(i+chunk, len(data))]...)
			if st == NeedMore {
				st, n = s.Parse(&r, buf)
			}
		}
		if st != Done || n != len(data)-len(wire) || string(buf[n:]) != string(wire) {
			t.Fatalf("chunk %d: %v n=%d, leftover %q", chunk, st, n, buf[n:])
		}
		var p frame.Parser
		f, used, ok, err := p.Next(buf[n:])
		if err != nil || !ok || used != len(wire) || f.Opcode != frame.OpText || string(f.Payload) != "Hello" || !f.FrameEnd {
			t.Fatalf("chunk %d: frame parser read %+v %d %v %v from the leftover", chunk, f, used, ok, err)
		}
		if string(r.Path()) != "/chat" || string(r.Query()) != "room=1" || string(r.Host()) != "example.com" || string(r.Key()) != rfcKey {
			t.Fatalf("fields: %q %q %q %q", r.Path(), r.Query(), r.Host(), r.Key())
		}
		// Calling again after Done changes nothing.
		if st2, n2 := s.Parse(&r, buf); st2 != Done || n2 != n {
			t.Fatalf("repeat: %v %d", st2, n2)
		}
	}
}

// TestServerFailsEarly checks that a request fails as soon as the line that
// dooms it is complete, without waiting for the rest of the head.
func TestServerFailsEarly(t *testing.T) {
	cases := []struct {
		name   string
		srv    Server
		prefix string
		err    *Error
	}{
		{"method", Server{}, "POST / HTTP/1.1\r\n", ErrMethod},
		{"version", Server{}, "GET / HTTP/1.0\r\n", ErrHTTPVersion},
		{"malformed request line", Server{}, "GET /\r\n", ErrMalformed},
		{"request line over the limit", Server{}, "GET /" + strings.Repeat("a", DefaultMaxHeaderBytes), ErrHeaderTooLarge},
		{"header over the limit", Server{MaxHeaderBytes: 64}, "GET / HTTP/1.1\r\nX-A: " + strings.Repeat("a", 60), ErrHeaderTooLarge},
		{"too many headers", Server{MaxHeaders: 2}, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n", ErrTooManyHeaders},
		{"bad header", Server{}, "GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n", ErrMalformed},
		{"obs-fold", Server{}, "GET / HTTP/1.1\r\nHost: a\r\n continued\r\n", ErrObsFold},
		{"two Hosts", Server{}, "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n", ErrDuplicateHeader},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, chunk := range []int{1, len(c.prefix)} {
				var r Request
				if st, _, _ := feed(&c.srv, &r, c.prefix, chunk); st != Failed || r.Err() != c.err {
					t.Fatalf("chunk %d: %v %v, want Failed with %v", chunk, st, r.Err(), c.err)
				}
			}
		})
	}
}

// TestServerSizeLimitBoundary: a head of exactly MaxHeaderBytes passes, one
// byte more fails with 431, and bytes after the head do not count.
func TestServerSizeLimitBoundary(t *testing.T) {
	head := reqWith(base...)
	for _, chunk := range []int{1, len(head)} {
		s := Server{MaxHeaderBytes: len(head)}
		var r Request
		if st, n, _ := feed(&s, &r, head+strings.Repeat("\x00", 100), chunk); st != Done || n != len(head) {
			t.Fatalf("chunk %d: exact size: %v %d %v", chunk, st, n, r.Err())
		}
		s.MaxHeaderBytes--
		r.Reset()
		if st, _, _ := feed(&s, &r, head, chunk); st != Failed || r.Err() != ErrHeaderTooLarge {
			t.Fatalf("chunk %d: one byte over: %v %v", chunk, st, r.Err())
		}
	}
}

func TestRequestAccessors(t *testing.T) {
	data := variant(map[string]string{"GET": "GET http://example.com/a/b?x=1 HTTP/1.1"},
		"Origin: http://example.com", "X-Custom:  v1 ", "Sec-WebSocket-Protocol: a, b", "sec-websocket-protocol: c",
		"Sec-WebSocket-Extensions: foo", "Sec-WebSocket-Extensions: permessage-deflate", "x-custom: v2")
	var r Request
	var s Server
	if st, _, _ := feed(&s, &r, data, 3); st != Done {
		t.Fatal(st, r.Err())
	}
	if string(r.Path()) != "/a/b" || string(r.Query()) != "x=1" || string(r.RequestURI()) != "http://example.com/a/b?x=1" {
		t.Errorf("target: %q %q %q", r.Path(), r.Query(), r.RequestURI())
	}
	if string(r.Origin()) != "http://example.com" || string(r.Header("x-CUSTOM")) != "v1" || r.Header("missing") != nil {
		t.Errorf("headers: %q %q", r.Origin(), r.Header("x-custom"))
	}
	var protos []string
	for _, p := range r.Subprotocols(nil) {
		protos = append(protos, string(p))
	}
	if strings.Join(protos, "|") != "a|b|c" {
		t.Errorf("subprotocols %q", protos)
	}
	var exts []string
	for v := range r.Extensions() {
		exts = append(exts, string(v))
	}
	if strings.Join(exts, "|") != "foo|permessage-deflate" {
		t.Errorf("extensions %q", exts)
	}
	count := 0
	for range r.Headers() {
		count++
	}
	if count != 12 {
		t.Errorf("%d headers", count)
	}
	r.Reset()
	if r.Host() != nil || r.buf != nil {
		t.Error("Reset kept state")
	}
}

func TestParserMisuse(t *testing.T) {
	var r Request
	var s Server
	data := []byte(reqWith(base...))
	if st, _ := s.Parse(&r, data[:40]); st != NeedMore {
		t.Fatal(st)
	}
	if st, _ := s.Parse(&r, data[:10]); st != Failed || r.Err() != ErrBufferReused {
		t.Fatalf("shorter buffer: %v %v", st, r.Err())
	}
	if st, _ := s.Parse(&r, data); st != Failed {
		t.Fatal("Failed is not sticky")
	}
	var r2 Request
	if _, err := s.Accept(&r2); err == nil {
		t.Fatal("Accept before Done succeeded")
	}
}

// TestServerHTTP runs the same table through net/http and UpgradeHTTP.
func TestServerHTTP(t *testing.T) {
	var current *serverCase
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, _, err := current.srv.UpgradeHTTP(w, r, http.Header{"X-Extra": {"1"}})
		if err != nil {
			if e, ok := err.(*Error); !ok || current.err != nil && e != current.err {
				t.Errorf("%s: error %v, want %v", current.name, err, current.err)
			}
			return
		}
		rw.Flush()
		conn.Close()
	}))
	defer ts.Close()
	host := strings.TrimPrefix(ts.URL, "http://")
	for i := range serverCases {
		c := serverCases[i]
		if c.httpStatus < 0 {
			continue
		}
		current = &c
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, c.req); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.httpStatus != 0 {
				// net/http rejected the request itself.
				if resp.StatusCode != c.httpStatus {
					t.Fatalf("status %d, want %d", resp.StatusCode, c.httpStatus)
				}
				return
			}
			want := c.status
			checkResponse(t, c, resp, want, false)
			if want == 101 && resp.Header.Get("X-Extra") != "1" {
				t.Errorf("extra header missing")
			}
		})
	}
}

func TestUpgradeHTTPKeepsBufferedBytes(t *testing.T) {
	frame := "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"
	got := make(chan string, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := Server{CheckOriginHTTP: func(*http.Request) bool { return true }}
		conn, rw, _, err := s.UpgradeHTTP(w, r, nil)
		if err != nil {
			got <- err.Error()
			return
		}
		defer conn.Close()
		// The frame came in the request's write, so net/http's reader
		// already holds it: it must be handed over, not lost.
		if n := rw.Reader.Buffered(); n != len(frame) {
			got <- fmt.Sprintf("%d bytes buffered after the hijack, want %d", n, len(frame))
			return
		}
		b := make([]byte, len(frame))
		_, err = io.ReadFull(rw, b)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(b)
	}))
	defer ts.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	// Request and first frame in one write, so net/http buffers the frame.
	if _, err := io.WriteString(conn, reqWith(base...)+frame); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != rfcAccept {
		t.Fatalf("%v %v", resp, err)
	}
	select {
	case s := <-got:
		if s != frame {
			t.Fatalf("server read %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("timeout")
	}
}

func TestUpgradeHTTPNotHijacker(t *testing.T) {
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "http://example.com/", nil)
	for _, l := range base[2:] {
		k, v, _ := strings.Cut(l, ": ")
		r.Header.Add(k, v)
	}
	var s Server
	_, _, _, err := s.UpgradeHTTP(rec, r, nil)
	if err != ErrNotHijacker || rec.Code != 500 {
		t.Fatalf("%v %d", err, rec.Code)
	}
	rec = httptest.NewRecorder()
	_, _, _, err = s.UpgradeHTTP(rec, r, http.Header{"Bad": {"a\nb"}})
	if err != ErrResponseHeader || rec.Code != 500 {
		t.Fatalf("%v %d", err, rec.Code)
	}
	called := false
	s.HTTPError = func(w http.ResponseWriter, r *http.Request, e *Error) { called = e == ErrResponseHeader }
	s.UpgradeHTTP(httptest.NewRecorder(), r, http.Header{"Upgrade": {"x"}})
	if !called {
		t.Fatal("HTTPError hook not called")
	}
}

// TestUpgradeHTTPSameBytes: for the same request, UpgradeHTTP writes
// exactly what the raw path writes, extra headers sorted by name.
func TestUpgradeHTTPSameBytes(t *testing.T) {
	ln := newMemListener()
	extra := http.Header{"X-B": {"2"}, "Set-Cookie": {"a=1", "b=2"}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if conn, _, _, err := benchServer.UpgradeHTTP(w, r, extra); err == nil {
			conn.Close()
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	c := newMemConn(chromeRequest)
	ln.conns <- c
	<-c.done

	var r Request
	if st, _ := benchServer.Parse(&r, chromeRequest); st != Done {
		t.Fatal(st)
	}
	res, err := benchServer.Accept(&r)
	if err != nil {
		t.Fatal(err)
	}
	want, err := AppendResponse(nil, r.Key(), &res, []Field{{"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}, {"X-B", "2"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(c.out) != string(want) {
		t.Fatalf("net/http path wrote\n%q\nraw path\n%q", c.out, want)
	}
}
