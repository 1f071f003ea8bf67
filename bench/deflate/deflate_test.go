// Package deflate compares lull's permessage-deflate with gorilla/websocket's
// in the same run:
//
//	cd bench && go test -run '^$' -bench . -benchmem ./deflate
//
// BenchmarkWrite compresses and frames a message as a server sends it,
// into a connection that discards; BenchmarkRead parses and inflates a
// client's masked, compressed message from memory; BenchmarkEcho makes
// round trips over loopback between a client and an echo server of the
// same library, both compressing. Both libraries use compress/flate at
// level 1 without context takeover, as negotiated by default.
package deflate

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

var sizes = []int{1 << 10, 16 << 10}

// jsonPayload is size bytes of JSON, as an API sends.
func jsonPayload(size int) []byte {
	var b []byte
	for i := 0; len(b) < size; i++ {
		b = fmt.Appendf(b, `{"id":%d,"user":"user-%d","event":"update","tags":["a","bb"],"score":%d.%d},`, i, i*7919%1000, i*31%100, i%10)
	}
	return b[:size]
}

// fakeConn is a net.Conn that discards what is written and reads an
// endless repetition of a stream.
type fakeConn struct {
	stream []byte
	pos    int
}

func (c *fakeConn) Read(p []byte) (int, error) {
	if len(c.stream) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.stream[c.pos:])
	c.pos = (c.pos + n) % len(c.stream)
	return n, nil
}
func (c *fakeConn) Write(p []byte) (int, error)        { return len(p), nil }
func (c *fakeConn) Close() error                       { return nil }
func (c *fakeConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (c *fakeConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *fakeConn) SetDeadline(t time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(t time.Time) error { return nil }

// hijacker upgrades a gorilla server connection over a fakeConn.
type hijacker struct {
	http.ResponseWriter
	conn net.Conn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.conn, bufio.NewReadWriter(bufio.NewReader(h.conn), bufio.NewWriter(h.conn)), nil
}

func gorillaServerConn(b *testing.B, stream []byte) *websocket.Conn {
	req := httptest.NewRequest("GET", "http://localhost/", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Extensions", "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
	up := websocket.Upgrader{EnableCompression: true, CheckOrigin: func(*http.Request) bool { return true }}
	c, err := up.Upgrade(&hijacker{httptest.NewRecorder(), &fakeConn{stream: stream}}, req, nil)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// clientStream is a client's compressed, masked message, as both
// libraries read it.
func clientStream(msg []byte) []byte {
	comp, _ := frame.AppendDeflate(nil, msg, 1)
	return frame.AppendFrame(nil, frame.Header{Fin: true, Rsv: frame.Rsv1, Opcode: frame.OpText, Masked: true, Key: [4]byte{1, 2, 3, 4}}, comp)
}

func BenchmarkWrite(b *testing.B) {
	for _, size := range sizes {
		msg := jsonPayload(size)
		b.Run(fmt.Sprintf("lull/size=%d", size), func(b *testing.B) {
			// What engine.Conn.WriteMessage does on a compressed server
			// connection: compress after headroom, header in front, write.
			var w io.Writer = &fakeConn{}
			buf := make([]byte, 0, 2*size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				buf = append(buf[:0], make([]byte, frame.MaxHeaderSize)...)
				buf, _ = frame.AppendDeflate(buf, msg, 1)
				h := frame.Header{Fin: true, Rsv: frame.Rsv1, Opcode: frame.OpText, Length: int64(len(buf) - frame.MaxHeaderSize)}
				start := frame.MaxHeaderSize - h.Size()
				frame.PutHeader(buf[start:], h)
				w.Write(buf[start:])
			}
		})
		b.Run(fmt.Sprintf("gorilla/size=%d", size), func(b *testing.B) {
			c := gorillaServerConn(b, nil)
			c.EnableWriteCompression(true)
			c.SetCompressionLevel(1)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRead(b *testing.B) {
	for _, size := range sizes {
		msg := jsonPayload(size)
		one := clientStream(msg)
		stream := bytes.Repeat(one, 64)
		b.Run(fmt.Sprintf("lull/size=%d", size), func(b *testing.B) {
			// What the engine does with a compressed message read whole:
			// parse and unmask in place, inflate, validate the text.
			work := make([]byte, len(one))
			out := make([]byte, 0, 2*size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				copy(work, one) // the socket read; unmasking is in place
				p := frame.Parser{Compression: true}
				f, _, ok, err := p.Next(work)
				if err != nil || !ok || !f.End {
					b.Fatal("parse", err)
				}
				out, err = frame.AppendInflate(out[:0], f.Payload, 0)
				if err != nil || len(out) != size || !frame.ValidUTF8(out) {
					b.Fatal("inflate", err)
				}
			}
		})
		b.Run(fmt.Sprintf("gorilla/size=%d", size), func(b *testing.B) {
			c := gorillaServerConn(b, stream)
			out := make([]byte, 2*size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				_, r, err := c.NextReader()
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.ReadFull(r, out[:size])
				if err != nil || n != size {
					b.Fatal(err)
				}
				if m, _ := r.Read(out[size:]); m != 0 {
					b.Fatal("message longer than sent")
				}
			}
		})
	}
}

func BenchmarkEcho(b *testing.B) {
	for _, compress := range []bool{true, false} {
		for _, size := range sizes {
			msg := jsonPayload(size)
			name := "deflate"
			if !compress {
				name = "plain"
			}
			b.Run(fmt.Sprintf("%s/lull/size=%d", name, size), func(b *testing.B) { lullEcho(b, msg, compress) })
			b.Run(fmt.Sprintf("%s/gorilla/size=%d", name, size), func(b *testing.B) { gorillaEcho(b, msg, compress) })
		}
	}
}

func lullEcho(b *testing.B, msg []byte, compress bool) {
	srv, err := engine.New(engine.Config{
		Loops:   1,
		Upgrade: upgrade.Server{Deflate: &upgrade.DeflatePolicy{}, CheckOrigin: func(*upgrade.Request) bool { return true }},
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) {
			c.WriteMessage(op, data)
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	addr, err := srv.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{}, 1)
	var left int
	var bad bool
	cli, err := engine.New(engine.Config{
		Loops: 1,
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) {
			if !bytes.Equal(data, msg) {
				bad = true
			}
			if left--; left > 0 {
				c.WriteMessage(frame.OpText, msg)
			} else {
				done <- struct{}{}
			}
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts := &engine.DialOptions{}
	if compress {
		opts.Deflate = engine.DeflateOffer
	}
	c, err := cli.Dial(ctx, "ws://"+addr.String()+"/", opts)
	if err != nil || c.Compressed() != compress {
		b.Fatal("dial", err)
	}
	run := func(n int) {
		left = n
		c.WriteMessage(frame.OpText, msg)
		<-done
	}
	run(100)
	b.SetBytes(int64(2 * len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	run(b.N)
	b.StopTimer()
	if bad {
		b.Fatal("echo differs")
	}
	if s := srv.Stats(); compress && (s.CompressedIn == 0 || s.CompressedOut == 0) {
		b.Fatal("not compressed", s)
	}
}

func gorillaEcho(b *testing.B, msg []byte, compress bool) {
	up := websocket.Upgrader{EnableCompression: compress, CheckOrigin: func(*http.Request) bool { return true }}
	var wg sync.WaitGroup
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer c.Close()
		for {
			op, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			if c.WriteMessage(op, data) != nil {
				return
			}
		}
	}))
	defer hs.Close()
	d := websocket.Dialer{EnableCompression: compress}
	c, _, err := d.Dial("ws"+hs.URL[len("http"):], nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	run := func(n int) {
		for i := 0; i < n; i++ {
			if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
				b.Fatal(err)
			}
			_, data, err := c.ReadMessage()
			if err != nil || !bytes.Equal(data, msg) {
				b.Fatal("echo", err)
			}
		}
	}
	run(100)
	b.SetBytes(int64(2 * len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	run(b.N)
}
