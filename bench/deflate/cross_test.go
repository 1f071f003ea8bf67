package deflate

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// crossSizes: under and over lull's threshold, and over a frame of 64 KiB.
var crossSizes = []int{0, 1, 100, 1 << 10, 16 << 10, 200 << 10}

// TestGorillaClientLullServer: gorilla's client with EnableCompression
// against lull's engine server, which must negotiate, inflate what
// gorilla compresses and send compressed echoes gorilla inflates.
func TestGorillaClientLullServer(t *testing.T) {
	srv, err := engine.New(engine.Config{
		Loops:   1,
		Upgrade: upgrade.Server{Deflate: &upgrade.DeflatePolicy{}, CheckOrigin: func(*upgrade.Request) bool { return true }},
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) {
			c.WriteMessage(op, data)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	addr, err := srv.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := websocket.Dialer{EnableCompression: true}
	c, resp, err := d.Dial("ws://"+addr.String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "permessage-deflate; server_no_context_takeover; client_no_context_takeover" {
		t.Fatalf("lull answered %q", ext)
	}
	for _, size := range crossSizes {
		msg := jsonPayload(size)
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		op, got, err := c.ReadMessage()
		if err != nil || op != websocket.TextMessage || !bytes.Equal(got, msg) {
			t.Fatalf("size %d: %v, %d bytes", size, err, len(got))
		}
	}
	// gorilla compresses every message, the empty one included; lull
	// compresses the echoes of 128 bytes or more.
	if s := srv.Stats(); s.CompressedIn != int64(len(crossSizes)) || s.CompressedOut != 3 {
		t.Errorf("stats %v: want %d compressed in, 3 out", s, len(crossSizes))
	}
}

// TestLullClientGorillaServer: lull's engine client offering
// engine.DeflateOffer against gorilla's server with EnableCompression.
func TestLullClientGorillaServer(t *testing.T) {
	up := websocket.Upgrader{EnableCompression: true}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			op, data, err := c.ReadMessage()
			if err != nil || c.WriteMessage(op, data) != nil {
				return
			}
		}
	}))
	defer hs.Close()
	got := make(chan []byte, 1)
	cli, err := engine.New(engine.Config{
		Loops:       1,
		Compression: engine.Compression{Threshold: -1, Level: 6},
		OnMessage:   func(c *engine.Conn, op frame.Opcode, data []byte) { got <- bytes.Clone(data) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := cli.Dial(ctx, "ws"+hs.URL[len("http"):], &engine.DialOptions{Deflate: engine.DeflateOffer})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Compressed() {
		t.Fatal("not negotiated with gorilla")
	}
	for _, size := range crossSizes {
		msg := jsonPayload(size)
		if err := c.WriteMessage(frame.OpBinary, msg); err != nil {
			t.Fatal(err)
		}
		select {
		case b := <-got:
			if !bytes.Equal(b, msg) {
				t.Fatalf("size %d: echo of %d bytes differs", size, len(b))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("size %d: no echo", size)
		}
	}
	if s := cli.Stats(); s.CompressedIn != int64(len(crossSizes)) || s.CompressedOut != int64(len(crossSizes)) {
		t.Errorf("stats %v: want every message compressed both ways", s)
	}
}
