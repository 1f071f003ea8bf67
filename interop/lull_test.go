package interop

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// lullCloseEvent turns the error an engine connection ended with into a
// closeEvent. The engine reports the first close frame of the handshake,
// sent or received.
func lullCloseEvent(err error) closeEvent {
	var ce *engine.CloseError
	if errors.As(err, &ce) {
		return closeEvent{Code: int(ce.Code), Clean: true, How: err.Error()}
	}
	return closeEvent{Code: 1006, How: fmt.Sprint(err)}
}

// echoServerConfig is lull's echo server: every message back with its
// type; "close:CODE" starts the close handshake.
func echoServerConfig(s *server, ld lullDeflate) engine.Config {
	return engine.Config{
		Loops: 2,
		Upgrade: upgrade.Server{
			CheckOrigin:  func(*upgrade.Request) bool { return true },
			Deflate:      ld.policy,
			Subprotocols: serverSubprotocols,
		},
		OnOpen:      func(c *engine.Conn) { s.opened(c.Subprotocol()) },
		Compression: ld.comp,
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) {
			if op == frame.OpText && len(data) < 16 && strings.HasPrefix(string(data), "close:") {
				code, _ := strconv.Atoi(string(data[6:]))
				if err := c.Close(frame.CloseCode(code), "server bye"); err != nil {
					c.Close(frame.CloseInternalError, err.Error())
				}
				return
			}
			if err := c.WriteMessage(op, data); err != nil {
				c.Close(frame.CloseInternalError, "echo: "+err.Error())
			}
		},
		OnClose: func(c *engine.Conn, err error) { s.Closes <- lullCloseEvent(err) },
	}
}

// startLullServer starts the engine's echo server on a loopback port,
// compressing as ld says.
func startLullServer(t *testing.T, ld lullDeflate) *server {
	return startLullServerWorkers(t, ld, 0)
}

// startLullServerWorkers is startLullServer with the handlers on that
// many worker goroutines (Config.Workers), the engine's other path: each
// payload is copied into a pooled buffer for the handler.
func startLullServerWorkers(t *testing.T, ld lullDeflate, workers int) *server {
	t.Helper()
	s := newServer("", nil)
	cfg := echoServerConfig(s, ld)
	cfg.Workers = workers
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := e.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	s.URL = "ws://" + addr.String() + "/echo"
	s.Stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	}
	return s
}

type lullMsg struct {
	op   frame.Opcode
	data []byte
}

// runLullClient dials url with the engine and performs run, offering
// offer (none if nil) and compressing as ld says.
func runLullClient(t *testing.T, url string, run clientRun, ld lullDeflate, offer []upgrade.DeflateParams) clientResult {
	t.Helper()
	return runLullClientWorkers(t, url, run, ld, offer, 0)
}

// runLullClientWorkers is runLullClient with Config.Workers.
func runLullClientWorkers(t *testing.T, url string, run clientRun, ld lullDeflate, offer []upgrade.DeflateParams, workers int) clientResult {
	t.Helper()
	msgs := make(chan lullMsg, 1)
	pongs := make(chan []byte, 1)
	closed := make(chan error, 1)
	e, err := engine.New(engine.Config{
		Loops:       1,
		Workers:     workers,
		Compression: ld.comp,
		OnPong:      func(c *engine.Conn, data []byte) { pongs <- append([]byte(nil), data...) },
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) {
			msgs <- lullMsg{op, append([]byte(nil), data...)}
		},
		OnClose: func(c *engine.Conn, err error) { closed <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	c, err := e.Dial(ctx, url, &engine.DialOptions{Deflate: offer, Subprotocols: run.Subprotocols})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	res := clientResult{Subprotocol: c.Subprotocol()}
	if c.Compressed() {
		res.Extensions = "permessage-deflate"
	}
	if run.Ping {
		if err := c.Ping(pingPayload); err != nil {
			t.Fatalf("ping: %v", err)
		}
		select {
		case p := <-pongs:
			if string(p) != string(pingPayload) {
				t.Fatalf("pong %q for ping %q", p, pingPayload)
			}
		case <-time.After(waitLimit):
			t.Fatalf("no pong in %v", waitLimit)
		}
	}
	for i, mc := range run.Cases {
		p := message(mc, i)
		op := frame.OpText
		if mc.Binary {
			op = frame.OpBinary
		}
		if err := c.WriteMessage(op, p); err != nil {
			t.Fatalf("%v: write: %v", mc, err)
		}
		select {
		case m := <-msgs:
			if err := compareEcho(mc, p, m.op == frame.OpBinary, m.data); err != nil {
				t.Fatal(err)
			}
		case err := <-closed:
			t.Fatalf("%v: connection ended before the echo: %v", mc, err)
		case <-time.After(waitLimit):
			t.Fatalf("%v: no echo in %v", mc, waitLimit)
		}
	}
	if run.CloseBy == "client" {
		reason := "client bye"
		if run.Code == int(frame.CloseNoStatus) {
			reason = ""
		}
		if err := c.Close(frame.CloseCode(run.Code), reason); err != nil {
			t.Fatalf("close: %v", err)
		}
	} else if err := c.WriteMessage(frame.OpText, []byte("close:"+strconv.Itoa(run.Code))); err != nil {
		t.Fatalf("asking the server to close: %v", err)
	}
	select {
	case err := <-closed:
		res.Close = lullCloseEvent(err)
		return res
	case m := <-msgs:
		t.Fatalf("unexpected message of %d bytes while closing", len(m.data))
	case <-time.After(waitLimit):
		t.Fatalf("connection not closed in %v", waitLimit)
	}
	return clientResult{}
}
