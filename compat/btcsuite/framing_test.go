package websocket_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	websocket "github.com/lullws/lull/compat/btcsuite"
)

// TestFraming sends messages of sizes around every length-encoding
// boundary, written with io.Copy (the writer's ReadFrom) or plain Writes,
// from the client and from the server, and reads them back through readers
// that return one byte, half the buffer or all of it at a time.
func TestFraming(t *testing.T) {
	sizes := []int{0, 1, 2, 124, 125, 126, 127, 128, 129, 65534, 65535, 65536, 65537}
	readers := map[string]func(io.Reader) io.Reader{
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"as is":    func(r io.Reader) io.Reader { return r },
	}
	writers := map[string]func(w io.Writer, p []byte) error{
		"io.Copy": func(w io.Writer, p []byte) error { _, err := io.Copy(w, bytes.NewReader(p)); return err },
		"Write":   func(w io.Writer, p []byte) error { _, err := w.Write(p); return err },
	}
	// The server echoes with NextReader, NextWriter and io.Copy; the
	// client checks each message both ways (its write, the echo's read).
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, rd, err := c.NextReader()
			if err != nil {
				return
			}
			wr, err := c.NextWriter(mt)
			if err != nil {
				return
			}
			if _, err := io.Copy(wr, iotest.HalfReader(rd)); err != nil {
				return
			}
			wr.Close()
		}
	}))
	defer srv.Close()
	c, _, err := (&websocket.Dialer{ReadBufferSize: 1024, WriteBufferSize: 1024}).Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for _, n := range sizes {
		for wname, write := range writers {
			for rname, wrap := range readers {
				p := make([]byte, n)
				for i := range p {
					p[i] = byte(i * 7)
				}
				w, err := c.NextWriter(websocket.BinaryMessage)
				if err != nil {
					t.Fatal(err)
				}
				if err := write(w, p); err != nil {
					t.Fatalf("%d bytes, %s: %v", n, wname, err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				mt, r, err := c.NextReader()
				if err != nil {
					t.Fatalf("%d bytes, %s, %s: %v", n, wname, rname, err)
				}
				got, err := io.ReadAll(wrap(r))
				if err != nil || mt != websocket.BinaryMessage || !bytes.Equal(got, p) {
					t.Fatalf("%d bytes, %s, %s: type %d, got %d bytes, %v", n, wname, rname, mt, len(got), err)
				}
			}
		}
	}
}
