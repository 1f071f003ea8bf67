package websocket

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// TestCompression negotiates permessage-deflate between a compat server
// and a compat client, both with EnableCompression, and echoes messages
// (compressible and not, whole and streamed) through a blocking and an
// evented server.
func TestCompression(t *testing.T) {
	for _, evented := range []bool{false, true} {
		u := &Upgrader{EnableCompression: true}
		var s interface{ Close() }
		var url string
		if evented {
			hs, _ := eventedEchoServerWith(t, u)
			s, url = hs, wsURL(hs)
		} else {
			hs := newServer(t, u, echoStream)
			s, url = hs, wsURL(hs)
		}
		_ = s
		d := Dialer{EnableCompression: true}
		c, resp, err := d.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Header.Get("Sec-Websocket-Extensions"); got != "permessage-deflate; server_no_context_takeover; client_no_context_takeover" {
			t.Fatalf("evented=%v: extensions %q", evented, got)
		}
		if !c.deflate {
			t.Fatal("client did not enable deflate")
		}
		msgs := [][]byte{nil, []byte("hello"), bytes.Repeat([]byte("compress me "), 10000), payload(100000)}
		for i, m := range msgs {
			if i%2 == 1 {
				c.EnableWriteCompression(false)
			} else {
				c.EnableWriteCompression(true)
			}
			if err := c.WriteMessage(BinaryMessage, m); err != nil {
				t.Fatal(err)
			}
			if _, p, err := c.ReadMessage(); err != nil || !bytes.Equal(p, m) {
				t.Fatalf("evented=%v message %d: %d bytes, %v", evented, i, len(p), err)
			}
			w, _ := c.NextWriter(TextMessage)
			w.Write(m[:len(m)/2])
			w.Write(m[len(m)/2:])
			w.Close()
			if _, p, err := c.ReadMessage(); err != nil || !bytes.Equal(p, m) {
				t.Fatalf("evented=%v streamed message %d: %d bytes, %v", evented, i, len(p), err)
			}
		}
		c.Close()
	}
	// Without EnableCompression on the client, nothing is negotiated.
	hs := newServer(t, &Upgrader{EnableCompression: true}, echo)
	c, resp, err := DefaultDialer.Dial(wsURL(hs), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if resp.Header.Get("Sec-Websocket-Extensions") != "" || c.deflate {
		t.Fatal("compression negotiated without an offer")
	}
	_ = http.StatusOK
}

// TestCompressionNegotiation: the server answers the first offer it can
// honour as RFC 7692 asks: an offered server_max_window_bits is echoed
// (15, the window compat's compressor keeps) or, below 15, the offer is
// declined.
func TestCompressionNegotiation(t *testing.T) {
	s := newServer(t, &Upgrader{EnableCompression: true}, echo)
	const base = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	for _, tc := range []struct{ offer, want string }{
		{"permessage-deflate", base},
		{"permessage-deflate; client_max_window_bits", base},
		{"permessage-deflate; server_max_window_bits=15", base + "; server_max_window_bits=15"},
		{"permessage-deflate; server_max_window_bits=9", ""},
		{"permessage-deflate; server_max_window_bits=9, permessage-deflate", base},
		{"permessage-deflate; server_max_window_bits=9; server_no_context_takeover, permessage-deflate; server_max_window_bits=15", base + "; server_max_window_bits=15"},
		{"permessage-deflate; bogus_param", ""},
	} {
		got := offerExtensions(t, s.Listener.Addr().String(), tc.offer)
		if got != tc.want {
			t.Errorf("offer %q: answered %q, want %q", tc.offer, got, tc.want)
		}
	}
}

// offerExtensions makes a handshake offering offer (the Dialer refuses an
// extensions header from the application) and returns the server's
// Sec-WebSocket-Extensions.
func offerExtensions(t *testing.T, addr, offer string) string {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"+
		"Sec-WebSocket-Extensions: %s\r\n\r\n", addr, offer)
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("%q: %v", offer, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("%q: %s", offer, resp.Status)
	}
	return resp.Header.Get("Sec-Websocket-Extensions")
}

// TestCompressionClientWindow: the client offers client_max_window_bits,
// and a server that limits the client's window to 9 bits gets messages
// compressed with Huffman coding only (no back-references), whatever the
// compression level.
func TestCompressionClientWindow(t *testing.T) {
	for _, answer := range []string{"", "; client_max_window_bits=9"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		got := make(chan int, 1) // compressed size of the first message
		go func() {
			defer close(got)
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			defer nc.Close()
			br := bufio.NewReader(nc)
			req, err := http.ReadRequest(br)
			if err != nil {
				t.Error(err)
				return
			}
			if ext := req.Header.Get("Sec-Websocket-Extensions"); !strings.Contains(ext, "client_max_window_bits") {
				t.Errorf("offer %q: no client_max_window_bits", ext)
			}
			var accept [28]byte
			upgrade.ComputeAccept(&accept, []byte(req.Header.Get("Sec-Websocket-Key")))
			fmt.Fprintf(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"+
				"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover%s\r\n\r\n", accept[:], answer)
			var p frame.Parser
			p.Compression = true
			buf := make([]byte, 64<<10)
			size := 0
			for {
				n, err := br.Read(buf)
				if err != nil {
					t.Error(err)
					return
				}
				for b := buf[:n]; len(b) > 0; {
					f, m, ok, err := p.Next(b)
					if err != nil {
						t.Error(err)
						return
					}
					b = b[m:]
					if ok {
						if !f.Compressed {
							t.Error("message not compressed")
						}
						size += len(f.Payload)
						if f.End {
							got <- size
							return
						}
					}
				}
			}
		}()
		d := Dialer{EnableCompression: true}
		c, _, err := d.Dial("ws://"+ln.Addr().String()+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.SetCompressionLevel(9)
		msg := bytes.Repeat([]byte("abcdefgh"), 8192) // 64 KiB: LZ77 makes it tiny
		if err := c.WriteMessage(BinaryMessage, msg); err != nil {
			t.Fatal(err)
		}
		size := <-got
		c.Close()
		if huffman := size > len(msg)/8; huffman != (answer != "") {
			t.Errorf("answer %q: %d bytes compressed to %d (Huffman only: %v)", answer, len(msg), size, huffman)
		}
	}
}
