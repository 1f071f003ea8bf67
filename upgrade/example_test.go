package upgrade_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/lullws/lull/upgrade"
)

// The raw server path, as an event loop runs it: the request arrives in
// pieces, followed by the client's first frame; the server answers from a
// buffer of its own and hands the bytes after the request to the frame
// parser.
func ExampleServer_Parse() {
	srv := &upgrade.Server{
		Subprotocols: []string{"chat"},
		Deflate:      &upgrade.DeflatePolicy{}, // compress/flate: no context takeover, 15-bit windows
	}
	reads := []string{
		"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Up",
		"grade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
			"Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n" +
			"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", // a masked "Hello"
	}

	var req upgrade.Request // one per connection while it handshakes; zero value ready
	var buf []byte          // every byte received so far
	out := make([]byte, 0, 512)
	for _, read := range reads {
		buf = append(buf, read...)
		st, n := srv.Parse(&req, buf)
		switch st {
		case upgrade.NeedMore:
			fmt.Println("need more")
			continue
		case upgrade.Failed:
			e := req.Err()
			out = upgrade.AppendError(out, e.Status, e.Reason) // write it, then close
			return
		}
		res, err := srv.Accept(&req) // origin, subprotocol, permessage-deflate
		if err != nil {
			e := err.(*upgrade.Error)
			out = upgrade.AppendError(out, e.Status, e.Reason)
			return
		}
		out, err = upgrade.AppendResponse(out, req.Key(), &res, nil)
		if err != nil {
			panic(err)
		}
		fmt.Print(strings.ReplaceAll(string(out), "\r\n", "\n"))
		fmt.Printf("%d bytes for the frame parser\n", len(buf[n:]))
		req.Reset() // before reusing or releasing buf
	}
	// Output:
	// need more
	// HTTP/1.1 101 Switching Protocols
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
	// Sec-WebSocket-Protocol: chat
	// Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover
	//
	// 11 bytes for the frame parser
}

// A refused request gets a complete HTTP response to write before closing.
func ExampleAppendError() {
	var srv upgrade.Server
	var req upgrade.Request
	st, _ := srv.Parse(&req, []byte("GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"+
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"))
	fmt.Println(st)
	e := req.Err()
	fmt.Print(strings.ReplaceAll(string(upgrade.AppendError(nil, e.Status, e.Reason)), "\r\n", "\n"))
	// Output:
	// Failed
	// HTTP/1.1 426 Upgrade Required
	// Connection: close
	// Content-Type: text/plain; charset=utf-8
	// Sec-WebSocket-Version: 13
	// Content-Length: 34
	//
	// 'Sec-WebSocket-Version' is not 13
}

// The client side: build the request, then check the server's answer,
// which may arrive in pieces and be followed by frames.
func ExampleClient() {
	c := &upgrade.Client{
		Host:         "example.com",
		RequestURI:   "/chat?room=1",
		Subprotocols: []string{"chat"},
		// What compress/flate can honour: no client_max_window_bits.
		Deflate: []upgrade.DeflateParams{{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
	}
	// A real client takes a fresh key for every handshake:
	//
	//	var key [24]byte
	//	err := upgrade.NewKey(&key) // 16 bytes from crypto/rand
	//
	// This example uses RFC 6455's sample key so that its output is fixed.
	key := [24]byte([]byte("dGhlIHNhbXBsZSBub25jZQ=="))
	req, err := c.AppendRequest(nil, &key)
	if err != nil {
		panic(err)
	}
	fmt.Print(strings.ReplaceAll(string(req), "\r\n", "\n"))

	answer := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n\r\n" +
		"\x81\x02hi"
	var resp upgrade.Response
	var buf []byte
	for _, read := range []string{answer[:50], answer[50:]} {
		buf = append(buf, read...)
		st, n := c.ParseResponse(&resp, buf)
		if st == upgrade.NeedMore {
			continue
		}
		if st == upgrade.Failed {
			fmt.Println(resp.Err())
			return
		}
		res, err := c.Verify(&resp, &key)
		if err != nil {
			fmt.Println(err) // a *HandshakeError with the status and headers
			return
		}
		fmt.Printf("subprotocol %q, deflate %v %+v, %d bytes of frames\n", res.Subprotocol, res.Deflate, res.DeflateParams, len(buf[n:]))
	}
	// Output:
	// GET /chat?room=1 HTTP/1.1
	// Host: example.com
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
	// Sec-WebSocket-Version: 13
	// Sec-WebSocket-Protocol: chat
	// Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover
	//
	// subprotocol "chat", deflate true {ServerNoContextTakeover:true ClientNoContextTakeover:true ServerMaxWindowBits:0 ClientMaxWindowBits:0}, 4 bytes of frames
}

// A refusal keeps the server's status and headers.
func ExampleHandshakeError() {
	var c upgrade.Client
	var resp upgrade.Response
	c.ParseResponse(&resp, []byte("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"chat\"\r\nContent-Length: 0\r\n\r\n"))
	key := [24]byte([]byte("dGhlIHNhbXBsZSBub25jZQ=="))
	_, err := c.Verify(&resp, &key)
	he := err.(*upgrade.HandshakeError)
	fmt.Println(he.StatusCode, he.Header.Get("WWW-Authenticate"))
	fmt.Println(err)
	// Output:
	// 401 Basic realm="chat"
	// websocket: server did not answer 101 Switching Protocols (status 401)
}

// The net/http path: the same checks from an *http.Request, then Hijack.
// Bytes the client sent right behind its request are already in
// rw.Reader, so the WebSocket stream is read from there.
func ExampleServer_UpgradeHTTP() {
	srv := &upgrade.Server{Subprotocols: []string{"chat"}}
	done := make(chan string)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, res, err := srv.UpgradeHTTP(w, r, http.Header{"Set-Cookie": {"session=1"}})
		if err != nil {
			done <- err.Error() // the error response has been written
			return
		}
		defer conn.Close()
		frame := make([]byte, 7)
		if _, err := io.ReadFull(rw.Reader, frame); err != nil {
			done <- err.Error()
			return
		}
		done <- fmt.Sprintf("server: subprotocol %q, first frame % x", res.Subprotocol, frame)
	}))
	defer ts.Close()

	nc, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	// The request and a first frame in one write.
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: "+ts.Listener.Addr().String()+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n"+
		"\x81\x81\x00\x00\x00\x00!")
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Status, resp.Header.Get("Sec-WebSocket-Accept"), resp.Header.Get("Set-Cookie"))
	fmt.Println(<-done)
	// Output:
	// 101 Switching Protocols s3pPLMBiTxaQ9kYGzzhZRbK+xOo= session=1
	// server: subprotocol "chat", first frame 81 81 00 00 00 00 21
}

// Negotiation alone, as Autobahn's case 13.7 offers it: the default policy
// cannot honour the first offer (a 9-bit server window) and takes the
// second.
func ExampleNegotiateDeflate() {
	offers := "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9, " +
		"permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover, " +
		"permessage-deflate; client_no_context_takeover; client_max_window_bits"
	resp, ok := upgrade.NegotiateDeflate(&upgrade.DeflatePolicy{}, offers)
	fmt.Println(ok, string(resp.AppendExtension(nil, false)))

	// A compressor without back-references can keep to any window.
	resp, ok = upgrade.NegotiateDeflate(&upgrade.DeflatePolicy{MinServerWindowBits: 8}, offers)
	fmt.Println(ok, string(resp.AppendExtension(nil, false)))
	// Output:
	// true permessage-deflate; server_no_context_takeover; client_no_context_takeover
	// true permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9
}
