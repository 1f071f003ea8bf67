package upgrade

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
)

var rfcKeyArr = func() (k [24]byte) { copy(k[:], rfcKey); return }()

// okResponse is a valid 101 answer to rfcKey, with extra header lines.
func okResponse(extra ...string) string {
	lines := append([]string{
		"HTTP/1.1 101 Switching Protocols",
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Accept: " + rfcAccept,
	}, extra...)
	return reqWith(lines...)
}

// feedResponse gives data to ParseResponse in chunks of the given size.
func feedResponse(c *Client, r *Response, data string, chunk int) (Status, int) {
	buf := make([]byte, 0, 1)
	st, n := NeedMore, 0
	for i := 0; i < len(data) && st == NeedMore; {
		j := min(i+chunk, len(data))
		buf = append(buf, data[i:j]...)
		i = j
		st, n = c.ParseResponse(r, buf)
	}
	return st, n
}

// verifyBoth parses data whole and byte by byte, verifies it against
// rfcKey, checks that both give the same outcome and returns it.
func verifyBoth(t *testing.T, c *Client, data string) (Result, error) {
	t.Helper()
	var out [2]struct {
		st  Status
		n   int
		res Result
		err error
	}
	for i, chunk := range []int{len(data), 1} {
		var r Response
		o := &out[i]
		o.st, o.n = feedResponse(c, &r, data, chunk)
		switch o.st {
		case NeedMore:
			t.Fatalf("chunk %d: still NeedMore after the whole response", chunk)
		case Failed:
			o.err = r.Err()
			if o.err == nil {
				t.Fatalf("chunk %d: Failed without an error", chunk)
			}
		case Done:
			o.res, o.err = c.Verify(&r, &rfcKeyArr)
		}
	}
	a, b := out[0], out[1]
	if a.st != b.st || a.n != b.n || a.res != b.res || errString(a.err) != errString(b.err) {
		t.Fatalf("whole and byte-by-byte differ:\n%+v\n%+v", a, b)
	}
	return a.res, a.err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func isHandshakeError(err, target error) bool {
	var he *HandshakeError
	return errors.As(err, &he) && he.Err == target && errors.Is(err, target)
}

func TestClientAppendRequestExact(t *testing.T) {
	c := Client{
		Host:         "example.com:8080",
		RequestURI:   "/chat?room=1&x=%20",
		Origin:       "http://example.com",
		Subprotocols: []string{"v2.chat", "chat"},
		Deflate:      []DeflateParams{{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, {}},
		Header:       []Field{{"Cookie", "a=b"}, {"User-Agent", "lull\ttest"}},
	}
	got, err := c.AppendRequest([]byte("x"), &rfcKeyArr)
	if err != nil {
		t.Fatal(err)
	}
	want := "xGET /chat?room=1&x=%20 HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + rfcKey + "\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n" +
		"Sec-WebSocket-Protocol: v2.chat, chat\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover, permessage-deflate\r\n" +
		"Cookie: a=b\r\nUser-Agent: lull\ttest\r\n\r\n"
	if string(got) != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}

	min := Client{Host: "[::1]:80"}
	got, err = min.AppendRequest(nil, &rfcKeyArr)
	want = "GET / HTTP/1.1\r\nHost: [::1]:80\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + rfcKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if err != nil || string(got) != want {
		t.Fatalf("got %q, %v\nwant %q", got, err, want)
	}
}

// TestClientRequestParsesOnServer sends AppendRequest's output through
// net/http's request parser and the raw server.
func TestClientRequestParsesOnServer(t *testing.T) {
	c := Client{Host: "example.com", RequestURI: "/a?b=c", Origin: "http://example.com", Subprotocols: []string{"p"}, Header: []Field{{"X-A", "1"}}}
	b, err := c.AppendRequest(nil, &rfcKeyArr)
	if err != nil {
		t.Fatal(err)
	}
	hr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	if hr.Host != "example.com" || hr.URL.RawQuery != "b=c" || hr.Header.Get("X-A") != "1" || hr.Header.Get("Sec-WebSocket-Key") != rfcKey {
		t.Fatalf("net/http read %+v", hr)
	}
	srv := Server{Subprotocols: []string{"p"}}
	var r Request
	if st, n := srv.Parse(&r, b); st != Done || n != len(b) {
		t.Fatalf("%v %d %v", st, n, r.Err())
	}
	if res, err := srv.Accept(&r); err != nil || res.Subprotocol != "p" {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestClientRequestRefusals(t *testing.T) {
	okKey := rfcKeyArr
	badKey := okKey
	badKey[3] = '*'
	cases := []struct {
		name  string
		c     Client
		key   *[24]byte
		field string
	}{
		{"no host", Client{}, &okKey, "Host"},
		{"host with space", Client{Host: "a b"}, &okKey, "Host"},
		{"host with CRLF", Client{Host: "a\r\nX: 1"}, &okKey, "Host"},
		{"host with path", Client{Host: "a/b"}, &okKey, "Host"},
		{"relative URI", Client{Host: "a", RequestURI: "chat"}, &okKey, "RequestURI"},
		{"URI with space", Client{Host: "a", RequestURI: "/a b"}, &okKey, "RequestURI"},
		{"URI with LF", Client{Host: "a", RequestURI: "/a\nb"}, &okKey, "RequestURI"},
		{"origin with CR", Client{Host: "a", Origin: "http://a\r"}, &okKey, "Origin"},
		{"bad key", Client{Host: "a"}, &badKey, "Sec-WebSocket-Key"},
		{"subprotocol with comma", Client{Host: "a", Subprotocols: []string{"a,b"}}, &okKey, "Subprotocols"},
		{"empty subprotocol", Client{Host: "a", Subprotocols: []string{""}}, &okKey, "Subprotocols"},
		{"window 16", Client{Host: "a", Deflate: []DeflateParams{{ServerMaxWindowBits: 16}}}, &okKey, "Deflate"},
		{"client window with flate", Client{Host: "a", Deflate: []DeflateParams{{ClientMaxWindowBits: 15}}}, &okKey, "Deflate"},
		{"client window, compressor floor 9", Client{Host: "a", DeflateMinWindowBits: 9, Deflate: []DeflateParams{{ClientMaxWindowBits: 12}}}, &okKey, "Deflate"},
		{"header name not a token", Client{Host: "a", Header: []Field{{"X A", "1"}}}, &okKey, "X A"},
		{"header value with LF", Client{Host: "a", Header: []Field{{"X-A", "1\nX-B: 2"}}}, &okKey, "X-A"},
		{"header value with NUL", Client{Host: "a", Header: []Field{{"X-A", "\x00"}}}, &okKey, "X-A"},
		{"Origin twice", Client{Host: "a", Origin: "http://a", Header: []Field{{"origin", "http://b"}}}, &okKey, "origin"},
	}
	for _, owned := range []string{"Host", "upgrade", "CONNECTION", "Sec-WebSocket-Key", "Sec-Websocket-Version", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Sec-WebSocket-Accept"} {
		cases = append(cases, struct {
			name  string
			c     Client
			key   *[24]byte
			field string
		}{"owned " + owned, Client{Host: "a", Header: []Field{{"X-Ok", "1"}, {owned, "x"}}}, &okKey, owned})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.c.AppendRequest([]byte("keep"), c.key)
			var re *RequestError
			if !errors.As(err, &re) || re.Field != c.field || string(out) != "keep" {
				t.Fatalf("got %q, %v; want a RequestError for %s and nothing written", out, err, c.field)
			}
			if strings.HasPrefix(c.name, "owned") && !strings.Contains(err.Error(), "duplicate header not allowed") {
				t.Errorf("error %q", err)
			}
		})
	}
	// What the compressor can keep to may be offered.
	c := Client{Host: "a", DeflateMinWindowBits: 8, Deflate: []DeflateParams{{ClientMaxWindowBits: 15}, {ClientMaxWindowBits: 9}}}
	if out, err := c.AppendRequest(nil, &okKey); err != nil || !bytes.Contains(out, []byte("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, permessage-deflate; client_max_window_bits=9\r\n")) {
		t.Fatalf("%q %v", out, err)
	}
	// Origin may come from Header when the Origin field is empty.
	c = Client{Host: "a", Header: []Field{{"Origin", "http://a"}}}
	if _, err := c.AppendRequest(nil, &okKey); err != nil {
		t.Fatal(err)
	}
}

func TestNewKey(t *testing.T) {
	var a, b [24]byte
	if err := NewKey(&a); err != nil {
		t.Fatal(err)
	}
	if err := NewKey(&b); err != nil {
		t.Fatal(err)
	}
	if !validKey(a[:]) || !validKey(b[:]) || a == b {
		t.Fatalf("%s %s", a[:], b[:])
	}
}

func TestClientVerify(t *testing.T) {
	withProtos := Client{Host: "example.com", Subprotocols: []string{"chat", "v2"}}
	cases := []struct {
		name   string
		c      Client
		resp   string
		err    error // the ErrResponse* value, nil for success
		failed bool  // ParseResponse fails (no status kept)
		status int
		proto  string
	}{
		{name: "ok", resp: okResponse(), status: 101},
		{name: "tokens in lists, any case", resp: reqWith("HTTP/1.1 101 Switching Protocols", "upgrade: h2c, WebSocket", "connection: keep-alive, UPGRADE", "sec-websocket-accept: "+rfcAccept), status: 101},
		{name: "no reason phrase", resp: reqWith("HTTP/1.1 101", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: "+rfcAccept), status: 101},
		{name: "bare LF", resp: strings.ReplaceAll(okResponse(), "\r\n", "\n"), status: 101},
		{name: "subprotocol chosen", c: withProtos, resp: okResponse("Sec-WebSocket-Protocol: v2"), status: 101, proto: "v2"},
		{name: "empty subprotocol reads as none", c: withProtos, resp: okResponse("Sec-WebSocket-Protocol: "), status: 101},
		{name: "subprotocol not offered", c: withProtos, resp: okResponse("Sec-WebSocket-Protocol: CHAT"), err: ErrResponseProtocol, status: 101},
		{name: "subprotocol when none offered", resp: okResponse("Sec-WebSocket-Protocol: chat"), err: ErrResponseProtocol, status: 101},
		{name: "subprotocol list", c: withProtos, resp: okResponse("Sec-WebSocket-Protocol: chat, v2"), err: ErrResponseProtocol, status: 101},
		{name: "two subprotocol lines", c: withProtos, resp: okResponse("Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: chat"), err: ErrResponseProtocol, status: 101},
		{name: "401 keeps status and headers", resp: reqWith("HTTP/1.1 401 Unauthorized", "WWW-Authenticate: Basic realm=\"x\"", "Content-Length: 0"), err: ErrResponseStatus, status: 401},
		{name: "200", resp: reqWith("HTTP/1.1 200 OK", "Content-Length: 0"), err: ErrResponseStatus, status: 200},
		{name: "101 over HTTP/1.0", resp: strings.Replace(okResponse(), "HTTP/1.1", "HTTP/1.0", 1), err: ErrResponseStatus, status: 101},
		{name: "missing Upgrade", resp: reqWith("HTTP/1.1 101 Switching Protocols", "Connection: Upgrade", "Sec-WebSocket-Accept: "+rfcAccept), err: ErrResponseUpgrade, status: 101},
		{name: "Upgrade h2c", resp: reqWith("HTTP/1.1 101 Switching Protocols", "Upgrade: h2c", "Connection: Upgrade", "Sec-WebSocket-Accept: "+rfcAccept), err: ErrResponseUpgrade, status: 101},
		{name: "missing Connection", resp: reqWith("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Sec-WebSocket-Accept: "+rfcAccept), err: ErrResponseConnection, status: 101},
		{name: "Connection keep-alive", resp: reqWith("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: keep-alive", "Sec-WebSocket-Accept: "+rfcAccept), err: ErrResponseConnection, status: 101},
		{name: "accept mismatch", resp: strings.Replace(okResponse(), rfcAccept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOq=", 1), err: ErrResponseAccept, status: 101},
		{name: "accept missing", resp: reqWith("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade"), err: ErrResponseAccept, status: 101},
		{name: "accept twice", resp: okResponse("Sec-WebSocket-Accept: " + rfcAccept), err: ErrResponseAccept, status: 101},
		{name: "extension not offered", resp: okResponse("Sec-WebSocket-Extensions: permessage-deflate"), err: ErrResponseExtension, status: 101},
		{name: "malformed status line", resp: reqWith("HTTP/1.1 10 Switching", "Upgrade: websocket"), err: ErrResponseMalformed, failed: true},
		{name: "status line HTTP/2", resp: reqWith("HTTP/2.0 101 Switching Protocols"), err: ErrResponseMalformed, failed: true},
		{name: "status line not HTTP", resp: reqWith("SSH-2.0-OpenSSH_9.6"), err: ErrResponseMalformed, failed: true},
		{name: "header without colon", resp: okResponse("Junk"), err: ErrResponseMalformed, failed: true},
		{name: "obs-fold", resp: okResponse("X-A: 1", " 2"), err: ErrResponseMalformed, failed: true},
		{name: "control byte", resp: okResponse("X-A: \x01"), err: ErrResponseMalformed, failed: true},
		{name: "too large", resp: okResponse("X-Big: " + strings.Repeat("a", 9000)), err: ErrResponseTooLarge, failed: true},
		{name: "too many headers", c: Client{MaxHeaders: 3}, resp: okResponse("X-A: 1"), err: ErrResponseTooLarge, failed: true},
		{name: "header limit exact", c: Client{MaxHeaders: 3}, resp: okResponse(), status: 101},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := verifyBoth(t, &c.c, c.resp)
			switch {
			case c.err == nil:
				if err != nil {
					t.Fatal(err)
				}
				if res.Subprotocol != c.proto {
					t.Fatalf("subprotocol %q, want %q", res.Subprotocol, c.proto)
				}
				return
			case c.failed:
				if err != c.err {
					t.Fatalf("error %v, want %v", err, c.err)
				}
				return
			}
			var he *HandshakeError
			if !errors.As(err, &he) || !errors.Is(err, c.err) {
				t.Fatalf("error %v, want a HandshakeError wrapping %v", err, c.err)
			}
			if he.StatusCode != c.status {
				t.Errorf("status %d, want %d", he.StatusCode, c.status)
			}
			// Every header of the response is kept, canonicalised.
			hr, perr := http.ReadResponse(bufio.NewReader(strings.NewReader(c.resp)), nil)
			if perr != nil {
				t.Fatal(perr)
			}
			for k, v := range hr.Header {
				if strings.Join(he.Header[k], "|") != strings.Join(v, "|") {
					t.Errorf("header %s = %q, want %q", k, he.Header[k], v)
				}
			}
			if len(he.Header) != len(hr.Header) {
				t.Errorf("headers %v, want %v", he.Header, hr.Header)
			}
			if !strings.Contains(err.Error(), c.err.Error()) {
				t.Errorf("message %q", err)
			}
		})
	}
}

func TestClientKeepsFramesAfterResponse(t *testing.T) {
	frame := "\x81\x05hello"
	data := okResponse() + frame
	var c Client
	for _, chunk := range []int{1, 3, len(data)} {
		var r Response
		buf := []byte(nil)
		st, n := NeedMore, 0
		for i := 0; i < len(data); i += chunk {
			buf = append(buf, data[i:min(i+chunk, len(data))]...)
			if st == NeedMore {
				st, n = c.ParseResponse(&r, buf)
			}
		}
		if st != Done || string(buf[n:]) != frame || r.HeadLen() != n {
			t.Fatalf("chunk %d: %v n=%d rest %q", chunk, st, n, buf[n:])
		}
		if _, err := c.Verify(&r, &rfcKeyArr); err != nil {
			t.Fatal(err)
		}
		if string(r.Header("sec-websocket-ACCEPT")) != rfcAccept || r.StatusCode() != 101 {
			t.Fatalf("accessors: %q %d", r.Header("sec-websocket-accept"), r.StatusCode())
		}
	}
}

func TestResponseMisuse(t *testing.T) {
	var c Client
	var r Response
	if _, err := c.Verify(&r, &rfcKeyArr); err != ErrResponseMalformed {
		t.Fatalf("Verify before Done: %v", err)
	}
	data := []byte(okResponse())
	if st, _ := c.ParseResponse(&r, data[:20]); st != NeedMore {
		t.Fatal(st)
	}
	if st, _ := c.ParseResponse(&r, data[:5]); st != Failed || r.Err() != ErrBufferReused {
		t.Fatalf("%v %v", st, r.Err())
	}
	r.Reset()
	if st, n := c.ParseResponse(&r, data); st != Done || n != len(data) {
		t.Fatalf("after Reset: %v %d", st, n)
	}
}

// TestRoundTrip runs the client and the raw server against each other.
func TestRoundTrip(t *testing.T) {
	srv := Server{Subprotocols: []string{"b", "a"}, Deflate: &DeflatePolicy{}}
	cl := Client{Host: "example.com", RequestURI: "/x", Origin: "http://example.com", Subprotocols: []string{"a", "b"},
		Deflate: []DeflateParams{{ServerMaxWindowBits: 10}, {ServerNoContextTakeover: true, ClientNoContextTakeover: true}}}
	var key [24]byte
	if err := NewKey(&key); err != nil {
		t.Fatal(err)
	}
	req, err := cl.AppendRequest(nil, &key)
	if err != nil {
		t.Fatal(err)
	}
	var r Request
	if st, _ := srv.Parse(&r, req); st != Done {
		t.Fatal(st, r.Err())
	}
	sres, err := srv.Accept(&r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := AppendResponse(nil, r.Key(), &sres, []Field{{"Set-Cookie", "id=1"}})
	if err != nil {
		t.Fatal(err)
	}
	var pr Response
	if st, _ := cl.ParseResponse(&pr, resp); st != Done {
		t.Fatal(st, pr.Err())
	}
	cres, err := cl.Verify(&pr, &key)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Subprotocol: "b", Deflate: true, DeflateParams: DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}}
	if sres != want || cres != want {
		t.Fatalf("server %+v, client %+v, want %+v", sres, cres, want)
	}
	if string(pr.Header("Set-Cookie")) != "id=1" {
		t.Fatal("extra header lost")
	}
}
