package interop

import (
	"slices"
	"testing"
	"time"
)

func nextSubprotocol(t *testing.T, s *server) string {
	t.Helper()
	select {
	case p := <-s.Subprotocols:
		return p
	case <-time.After(waitLimit):
		t.Fatalf("the server reported no connection in %v", waitLimit)
	}
	return ""
}

// TestSubprotocols: subprotocol negotiation (Sec-WebSocket-Protocol) with
// every peer, both directions. A lull server selects by its own preference
// (serverSubprotocols: lull.v2 first); peer servers by theirs (gobwas
// takes the client's order). Both sides must agree on the selection.
func TestSubprotocols(t *testing.T) {
	small := []msgCase{{Size: 5}, {Size: 200, Binary: true}}
	for _, side := range lullSides {
		for _, p := range peers {
			t.Run(side.name+"/"+p.name+"/to-lull-server", func(t *testing.T) {
				srv := side.server(t, lullNoDeflate)
				defer srv.Stop()
				run := clientRun{Cases: small, CloseBy: "client", Code: 1000, Subprotocols: []string{"other", "lull.v1", "lull.v2"}}
				res := p.client(t, srv.URL, run)
				got := nextSubprotocol(t, srv)
				if got != "lull.v2" || res.Subprotocol != got {
					t.Errorf("lull server selected %q, %s client saw %q; want lull.v2 on both", got, p.name, res.Subprotocol)
				}
				checkCloses(t, run, res, srv.nextClose(t), "lull server")
			})
			t.Run(side.name+"/"+p.name+"/from-lull-client", func(t *testing.T) {
				srv := p.server(t)
				defer srv.Stop()
				run := clientRun{Cases: small, CloseBy: "client", Code: 1000, Subprotocols: []string{"lull.v1", "lull.v2", "other"}}
				res := side.client(t, srv.URL, run, lullNoDeflate, nil)
				got := nextSubprotocol(t, srv)
				if !slices.Contains(serverSubprotocols, got) || res.Subprotocol != got {
					t.Errorf("%s server selected %q, lull client saw %q; want the same, one of %q", p.name, got, res.Subprotocol, serverSubprotocols)
				}
				t.Logf("%s server selected %q", p.name, got)
				checkCloses(t, run, res, srv.nextClose(t), p.name+" server")
			})
		}
	}
}
