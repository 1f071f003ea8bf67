package interop

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// coder/websocket: Write sends a message as one frame; Writer sends a frame
// per Write call (and an empty final frame on Close), so it fragments as a
// case asks, plus that empty frame. Its default read limit is 32 KiB.

func coderType(binary bool) websocket.MessageType {
	if binary {
		return websocket.MessageBinary
	}
	return websocket.MessageText
}

func coderMode(deflate, ctx bool) websocket.CompressionMode {
	switch {
	case deflate && ctx:
		return websocket.CompressionContextTakeover
	case deflate:
		return websocket.CompressionNoContextTakeover
	}
	return websocket.CompressionDisabled
}

func coderWrite(ctx context.Context, c *websocket.Conn, typ websocket.MessageType, data []byte, frags []int) error {
	if frags == nil {
		return c.Write(ctx, typ, data)
	}
	w, err := c.Writer(ctx, typ)
	if err != nil {
		return err
	}
	off := 0
	for _, n := range frags {
		if _, err := w.Write(data[off : off+n]); err != nil {
			return err
		}
		off += n
	}
	return w.Close()
}

func coderCloseEvent(err error) closeEvent {
	if code := websocket.CloseStatus(err); code != -1 {
		return closeEvent{Code: int(code), Clean: true, How: err.Error()}
	}
	return closeEvent{Code: 1006, How: fmt.Sprint(err)}
}

func runCoderClient(t *testing.T, url string, run clientRun) clientResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		CompressionMode: coderMode(run.Deflate, run.ContextTakeover),
		Subprotocols:    run.Subprotocols,
	})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	defer c.CloseNow()
	res := clientResult{Extensions: resp.Header.Get("Sec-WebSocket-Extensions"), Subprotocol: c.Subprotocol()}
	c.SetReadLimit(64 << 20)
	// coder's Ping waits for the pong, which only a concurrent Read sees:
	// the first echo's.
	pinged := make(chan error, 1)
	if run.Ping {
		go func(ctx context.Context) { pinged <- c.Ping(ctx) }(ctx)
	}
	for i, mc := range run.Cases {
		p := message(mc, i)
		mctx, mcancel := context.WithTimeout(context.Background(), waitLimit)
		defer mcancel()
		if err := coderWrite(mctx, c, coderType(mc.Binary), p, mc.Frags); err != nil {
			t.Fatalf("%v: write: %v", mc, err)
		}
		typ, got, err := c.Read(mctx)
		if err != nil {
			t.Fatalf("%v: read: %v", mc, err)
		}
		if err := compareEcho(mc, p, typ == websocket.MessageBinary, got); err != nil {
			t.Fatal(err)
		}
	}
	// A fresh bound for the rest: the messages may have taken long.
	ctx, cancel2 := context.WithTimeout(context.Background(), waitLimit)
	defer cancel2()
	for run.Ping {
		// Until Ping returns, echo small messages: the pong, if not
		// read yet, arrives before their echo.
		select {
		case err := <-pinged:
			if err != nil {
				t.Fatalf("ping: %v", err)
			}
			run.Ping = false
			continue
		default:
		}
		if err := c.Write(ctx, websocket.MessageText, []byte("x")); err != nil {
			t.Fatalf("write: %v", err)
		}
		if _, got, err := c.Read(ctx); err != nil || string(got) != "x" {
			t.Fatalf("echo %q, %v", got, err)
		}
	}
	if run.CloseBy == "client" && run.Code == int(websocket.StatusNoStatusRcvd) {
		// coder cannot send an empty close payload: CloseNow sends none
		// at all. Close with 1000 instead, and say so in the result.
		t.Log("coder cannot send an empty close frame; closing with 1000")
		run.Code = int(websocket.StatusNormalClosure)
		res.CloseCode = run.Code
	}
	if run.CloseBy == "client" {
		// Close returns once the server's close frame has arrived.
		if err := c.Close(websocket.StatusCode(run.Code), "client bye"); err != nil {
			res.Close = closeEvent{Code: 1006, How: "close: " + err.Error()}
		} else {
			res.Close = closeEvent{Code: run.Code, Clean: true, How: "Close returned nil"}
		}
		return res
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("close:"+strconv.Itoa(run.Code))); err != nil {
		t.Fatalf("asking the server to close: %v", err)
	}
	_, got, err := c.Read(ctx)
	if err == nil {
		t.Fatalf("unexpected message of %d bytes while closing", len(got))
	}
	res.Close = coderCloseEvent(err)
	return res
}

// startCoderServer serves coder's echo on a loopback port; "?frag=N"
// echoes in frames of N bytes.
func startCoderServer(t *testing.T, deflate, ctx bool) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newServer("ws://"+ln.Addr().String()+"/echo", nil)
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		frag, _ := strconv.Atoi(r.URL.Query().Get("frag"))
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			CompressionMode: coderMode(deflate, ctx),
			Subprotocols:    serverSubprotocols,
		})
		if err != nil {
			return
		}
		s.opened(c.Subprotocol())
		s.Closes <- coderEcho(c, frag)
	})}
	go hs.Serve(ln)
	s.Stop = func() { hs.Close() }
	return s
}

func coderEcho(c *websocket.Conn, frag int) closeEvent {
	defer c.CloseNow()
	c.SetReadLimit(64 << 20)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		typ, data, err := c.Read(ctx)
		if err != nil {
			return coderCloseEvent(err)
		}
		if typ == websocket.MessageText && len(data) < 16 && strings.HasPrefix(string(data), "close:") {
			code, _ := strconv.Atoi(string(data[6:]))
			if err := c.Close(websocket.StatusCode(code), "server bye"); err != nil {
				return closeEvent{Code: 1006, How: "close: " + err.Error()}
			}
			return closeEvent{Code: code, Clean: true, How: "Close returned"}
		}
		var frags []int
		if frag > 0 && len(data) > frag {
			for off := 0; off < len(data); off += frag {
				frags = append(frags, min(frag, len(data)-off))
			}
		}
		if err := coderWrite(ctx, c, typ, data, frags); err != nil {
			return closeEvent{Code: 1006, How: "echo: " + err.Error()}
		}
	}
}
