package interop

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	compat "github.com/lullws/lull/compat"
	"github.com/lullws/lull/upgrade"
)

// lull's compat package (gorilla's API on lull) as a lull side: the same
// code as for gorilla drives it (gorillaAPI). Unlike the engine, its
// client sends fragmented messages: NextWriter makes a frame whenever the
// write buffer fills, so the fragmented runs dial with a buffer of
// fragSize.

func compatCloseEvent(err error) closeEvent {
	var ce *compat.CloseError
	if errors.As(err, &ce) {
		return closeEvent{Code: ce.Code, Clean: true, How: err.Error()}
	}
	return closeEvent{Code: 1006, How: fmt.Sprint(err)}
}

// startCompatServer serves compat's echo (an Upgrader in a net/http
// handler) on a loopback port.
func startCompatServer(t *testing.T, ld lullDeflate) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newServer("ws://"+ln.Addr().String()+"/echo", nil)
	up := compat.Upgrader{
		CheckOrigin:       func(*http.Request) bool { return true },
		EnableCompression: ld.policy != nil,
		Subprotocols:      serverSubprotocols,
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered
		}
		s.opened(c.Subprotocol())
		s.Closes <- gorillaEcho(c, 0, compatCloseEvent)
	})}
	go hs.Serve(ln)
	s.Stop = func() { hs.Close() }
	return s
}

// runCompatClient dials url with compat's Dialer and performs run.
func runCompatClient(t *testing.T, url string, run clientRun, ld lullDeflate, _ []upgrade.DeflateParams) clientResult {
	t.Helper()
	buf := 17 << 20
	if run.Cases[0].Frags != nil {
		buf = fragSize
	}
	d := compat.Dialer{HandshakeTimeout: waitLimit, WriteBufferSize: buf, EnableCompression: ld.policy != nil, Subprotocols: run.Subprotocols}
	c, resp, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	defer c.Close()
	res := gorillaClientRun(t, c, compatCloseEvent, run)
	res.Extensions = resp.Header.Get("Sec-WebSocket-Extensions")
	res.Subprotocol = c.Subprotocol()
	return res
}
