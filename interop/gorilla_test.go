package interop

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// gorilla/websocket v1.5.3. Its writer makes a frame whenever its write
// buffer fills, so a client fragments messages at WriteBufferSize: the
// fragmented run uses a buffer of fragSize, the other one large enough for
// the largest message.

// gorillaAPI is the part of gorilla's *Conn the tests use; lull's compat
// package has the same, so the same code drives both.
type gorillaAPI interface {
	ReadMessage() (int, []byte, error)
	WriteMessage(int, []byte) error
	WriteControl(int, []byte, time.Time) error
	NextWriter(int) (io.WriteCloser, error)
	SetReadLimit(int64)
	SetReadDeadline(time.Time) error
	SetPongHandler(func(string) error)
	Close() error
}

func gorillaCloseEvent(err error) closeEvent {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return closeEvent{Code: ce.Code, Clean: true, How: err.Error()}
	}
	return closeEvent{Code: 1006, How: fmt.Sprint(err)}
}

func gorillaType(binary bool) int {
	if binary {
		return websocket.BinaryMessage
	}
	return websocket.TextMessage
}

func runGorillaClient(t *testing.T, url string, run clientRun) clientResult {
	t.Helper()
	buf := 17 << 20
	if run.Cases[0].Frags != nil {
		buf = fragSize
	}
	d := websocket.Dialer{HandshakeTimeout: waitLimit, WriteBufferSize: buf, EnableCompression: run.Deflate, Subprotocols: run.Subprotocols}
	c, resp, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	defer c.Close()
	res := gorillaClientRun(t, c, gorillaCloseEvent, run)
	res.Extensions = resp.Header.Get("Sec-WebSocket-Extensions")
	res.Subprotocol = c.Subprotocol()
	return res
}

// gorillaClientRun performs run on a gorilla-API connection; closeOf reads
// the package's close errors.
func gorillaClientRun(t *testing.T, c gorillaAPI, closeOf func(error) closeEvent, run clientRun) clientResult {
	t.Helper()
	var res clientResult
	c.SetReadLimit(64 << 20)
	var pong []byte
	pongs := 0
	c.SetPongHandler(func(s string) error { pong = []byte(s); pongs++; return nil })
	if run.Ping {
		if err := c.WriteControl(websocket.PingMessage, pingPayload, time.Now().Add(waitLimit)); err != nil {
			t.Fatalf("ping: %v", err)
		}
	}
	for i, mc := range run.Cases {
		p := message(mc, i)
		if err := c.WriteMessage(gorillaType(mc.Binary), p); err != nil {
			t.Fatalf("%v: write: %v", mc, err)
		}
		c.SetReadDeadline(time.Now().Add(waitLimit))
		typ, got, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("%v: read: %v", mc, err)
		}
		if err := compareEcho(mc, p, typ == websocket.BinaryMessage, got); err != nil {
			t.Fatal(err)
		}
		if run.Ping && (pongs != 1 || string(pong) != string(pingPayload)) {
			t.Fatalf("%d pongs, the last %q, for one ping %q", pongs, pong, pingPayload)
		}
	}
	if run.CloseBy == "client" {
		msg := websocket.FormatCloseMessage(run.Code, "client bye")
		if run.Code == websocket.CloseNoStatusReceived {
			msg = []byte{} // FormatCloseMessage would too, but say so
		}
		if err := c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(waitLimit)); err != nil {
			t.Fatalf("close: %v", err)
		}
	} else if err := c.WriteMessage(websocket.TextMessage, []byte("close:"+strconv.Itoa(run.Code))); err != nil {
		t.Fatalf("asking the server to close: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(waitLimit))
	_, got, err := c.ReadMessage()
	if err == nil {
		t.Fatalf("unexpected message of %d bytes while closing", len(got))
	}
	res.Close = closeOf(err)
	return res
}

// gorillaEcho serves one connection: echo, or close on "close:CODE".
func gorillaEcho(c gorillaAPI, frag int, closeOf func(error) closeEvent) closeEvent {
	defer c.Close()
	c.SetReadLimit(64 << 20)
	for {
		c.SetReadDeadline(time.Now().Add(waitLimit))
		typ, data, err := c.ReadMessage()
		if err != nil {
			return closeOf(err)
		}
		if typ == websocket.TextMessage && len(data) < 16 && strings.HasPrefix(string(data), "close:") {
			code, _ := strconv.Atoi(string(data[6:]))
			c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, "server bye"), time.Now().Add(waitLimit))
			continue // the peer's answer ends the loop
		}
		if frag == 0 {
			err = c.WriteMessage(typ, data)
		} else {
			err = gorillaWriteChunks(c, typ, data, frag)
		}
		if err != nil {
			return closeEvent{Code: 1006, How: "echo: " + err.Error()}
		}
	}
}

func gorillaWriteChunks(c gorillaAPI, typ int, data []byte, frag int) error {
	w, err := c.NextWriter(typ)
	if err != nil {
		return err
	}
	for off := 0; off < len(data); off += frag {
		if _, err := w.Write(data[off:min(off+frag, len(data))]); err != nil {
			return err
		}
	}
	return w.Close()
}

// startGorillaServer serves gorilla's echo on a loopback port; "?frag=N"
// echoes through a write buffer of N bytes, so in frames of N bytes.
func startGorillaServer(t *testing.T, deflate bool) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newServer("ws://"+ln.Addr().String()+"/echo", nil)
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		frag, _ := strconv.Atoi(r.URL.Query().Get("frag"))
		up := websocket.Upgrader{EnableCompression: deflate, Subprotocols: serverSubprotocols}
		if frag > 0 {
			up.WriteBufferSize = frag
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered
		}
		s.opened(c.Subprotocol())
		s.Closes <- gorillaEcho(c, frag, gorillaCloseEvent)
	})}
	go hs.Serve(ln)
	s.Stop = func() { hs.Close() }
	return s
}
