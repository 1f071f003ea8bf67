package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	websocket "github.com/lullws/lull/compat"
)

// TestMain lets a test run the command itself: the test binary started
// with LULL_RUN_MAIN=1 is the server.
func TestMain(m *testing.M) {
	if os.Getenv("LULL_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

var routes = []string{"/f", "/c", "/r", "/m", "/p"}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{EnableCompression: true, HandshakeTimeout: 10 * time.Second}
	c, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return c
}

func TestEchoOnEveryRoute(t *testing.T) {
	s := httptest.NewServer(Handler())
	defer s.Close()
	base := "ws" + strings.TrimPrefix(s.URL, "http")
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<13) // 128 KiB
	for _, route := range routes {
		c := dial(t, base+route)
		msgs := []struct {
			mt   int
			data []byte
		}{
			{websocket.TextMessage, []byte("héllo")},
			{websocket.BinaryMessage, []byte{0, 1, 2, 0xff}},
			{websocket.TextMessage, nil},
			{websocket.BinaryMessage, big},
		}
		for _, m := range msgs {
			if err := c.WriteMessage(m.mt, m.data); err != nil {
				t.Fatalf("%s: write: %v", route, err)
			}
			mt, p, err := c.ReadMessage()
			if err != nil || mt != m.mt || !bytes.Equal(p, m.data) {
				t.Fatalf("%s: echo of %d bytes: type %d, %d bytes, %v", route, len(m.data), mt, len(p), err)
			}
		}
		// A text message in many fragments, split inside a character.
		w, _ := c.NextWriter(websocket.TextMessage)
		text := strings.Repeat("€uro ", 3000)
		for i := 0; i < len(text); i += 1001 {
			w.Write([]byte(text[i:min(i+1001, len(text))]))
		}
		w.Close()
		if _, p, err := c.ReadMessage(); err != nil || string(p) != text {
			t.Fatalf("%s: fragmented text: %d bytes, %v", route, len(p), err)
		}
	}
}

// writeRaw sends one client frame as is: mask bit set with a zero key, so
// the payload goes unchanged.
func writeRaw(t *testing.T, c *websocket.Conn, fin bool, op byte, payload []byte) {
	t.Helper()
	b0 := op
	if fin {
		b0 |= 0x80
	}
	if len(payload) > 125 {
		t.Fatal("writeRaw: short frames only")
	}
	frame := append([]byte{b0, 0x80 | byte(len(payload)), 0, 0, 0, 0}, payload...)
	if _, err := c.NetConn().Write(frame); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidUTF8Fails1007AndCloses(t *testing.T) {
	s := httptest.NewServer(Handler())
	defer s.Close()
	base := "ws" + strings.TrimPrefix(s.URL, "http")
	for _, route := range routes {
		c := dial(t, base+route)
		if route == "/f" || route == "/c" {
			// Streaming routes fail fast: on the first fragment, before
			// the message ends.
			writeRaw(t, c, false, 1, []byte("ok \xff"))
		} else {
			writeRaw(t, c, true, 1, []byte("ok \xed\xa0\x80")) // a surrogate
		}
		_, _, err := c.ReadMessage()
		if !websocket.IsCloseError(err, websocket.CloseInvalidFramePayloadData) {
			t.Fatalf("%s: %v, want close 1007", route, err)
		}
		// The server closes TCP without waiting for the close handshake.
		c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, err := c.NetConn().Read(make([]byte, 16)); err == nil {
			t.Fatalf("%s: read %d more bytes, want the connection closed", route, n)
		}
	}
}

func TestPrintsListeningAddress(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "LULL_RUN_MAIN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- line
		io.Copy(io.Discard, out)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(10 * time.Second):
		t.Fatal("no output within 10s")
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		t.Fatalf("first line %q", line)
	}
	c := dial(t, "ws://"+addr+"/m")
	c.WriteMessage(websocket.TextMessage, []byte("up"))
	if _, p, err := c.ReadMessage(); err != nil || string(p) != "up" {
		t.Fatalf("echo from the command: %q %v", p, err)
	}
}
