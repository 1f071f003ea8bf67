package interop

import (
	"strconv"
	"testing"

	"github.com/lullws/lull/upgrade"
)

// A peer as client (against a lull server) and as server (for a lull
// client).
type peer struct {
	name   string
	client func(t *testing.T, url string, run clientRun) clientResult
	server func(t *testing.T) *server
	// deflateServer serves with permessage-deflate, allowing context
	// takeover if ctx; nil for a peer run without compression here.
	deflateServer func(t *testing.T, ctx bool) *server
}

var peers = []peer{
	{
		name: "node-ws",
		client: func(t *testing.T, url string, run clientRun) clientResult {
			var deflate any = false
			if run.Deflate {
				deflate = map[string]any{} // ws's default offer: context takeover allowed
			}
			return runNodeClient(t, url, run, deflate, "")
		},
		server: func(t *testing.T) *server {
			s, _ := startNodeServer(t, false, 0)
			return s
		},
		deflateServer: func(t *testing.T, ctx bool) *server {
			s, _ := startNodeServer(t, map[string]any{}, 0)
			return s
		},
	},
	{
		name: "gorilla", client: runGorillaClient,
		server:        func(t *testing.T) *server { return startGorillaServer(t, false) },
		deflateServer: func(t *testing.T, ctx bool) *server { return startGorillaServer(t, true) },
	},
	{
		name: "gobwas-ws",
		client: func(t *testing.T, url string, run clientRun) clientResult {
			if run.Deflate {
				return runGobwasFlateClient(t, url, run)
			}
			return runGobwasClient(t, url, run)
		},
		server: startGobwasServer,
		// wsflate's default parameters: no context takeover either way.
		deflateServer: func(t *testing.T, ctx bool) *server { return startGobwasFlateServer(t) },
	},
	{
		name: "coder-websocket", client: runCoderClient,
		server:        func(t *testing.T) *server { return startCoderServer(t, false, false) },
		deflateServer: func(t *testing.T, ctx bool) *server { return startCoderServer(t, true, ctx) },
	},
}

// A lull side: the server and the client a peer talks to.
type lullSide struct {
	name string
	// fragments: the client sends fragmented messages when a case asks
	// (the engine's WriteMessage sends one frame per message).
	fragments bool
	// deflate: the side negotiates permessage-deflate.
	deflate bool
	// minServerWindowBits: the smallest server_max_window_bits the side's
	// server honours (0: any, 8); offers below it are declined.
	minServerWindowBits int
	server              func(t *testing.T, ld lullDeflate) *server
	client              func(t *testing.T, url string, run clientRun, ld lullDeflate, offer []upgrade.DeflateParams) clientResult
}

var lullSides = []lullSide{
	{name: "engine", server: startLullServer, client: runLullClient, deflate: true},
	{
		name:   "engine+workers", // Config.Workers: handlers off the loops
		server: func(t *testing.T, ld lullDeflate) *server { return startLullServerWorkers(t, ld, 2) },
		client: func(t *testing.T, url string, run clientRun, ld lullDeflate, offer []upgrade.DeflateParams) clientResult {
			return runLullClientWorkers(t, url, run, ld, offer, 2)
		},
	},
	// compat compresses with compress/flate's 32 KiB window: it declines
	// offers of a smaller server window (Autobahn 13.3, 13.5).
	{name: "compat", server: startCompatServer, client: runCompatClient, fragments: true, deflate: true, minServerWindowBits: 15},
}

const (
	dirToLull   = "peer client → lull server"
	dirFromLull = "lull client → peer server"
)

// Two connections per direction: whole messages closed by the client with
// 4000, then fragmented messages closed by the server with 4001.
// A third: a ping and two small messages, then a close frame with no
// payload (1005 on both sides).
type clientRunSpec struct {
	name       string
	fragmented bool
	closeBy    string
	code       int
	ping       bool
}

var connRuns = []struct {
	name       string
	fragmented bool
	closeBy    string
	code       int
	ping       bool
}{
	{"whole/client-closes", false, "client", 4000, false},
	{"fragmented/server-closes", true, "server", 4001, false},
	{"ping/empty-close", false, "client", 1005, true},
}

func (r clientRunSpec) cases() []msgCase {
	if r.ping {
		return []msgCase{{Size: 5}, {Size: 200, Binary: true}}
	}
	return cases(r.fragmented)
}

func TestInterop(t *testing.T) {
	for _, side := range lullSides {
		for _, p := range peers {
			t.Run(side.name+"/"+p.name+"/to-lull-server", func(t *testing.T) {
				record(t, matrixKey{p.name, dirToLull, "off", side.name})
				srv := side.server(t, lullNoDeflate)
				defer srv.Stop()
				for _, cr := range connRuns {
					t.Run(cr.name, func(t *testing.T) {
						srv.forgetFailed(t)
						run := clientRun{Cases: clientRunSpec(cr).cases(), CloseBy: cr.closeBy, Code: cr.code, Ping: cr.ping}
						res := p.client(t, srv.URL, run)
						checkCloses(t, run, res, srv.nextClose(t), "lull server")
					})
				}
			})
			t.Run(side.name+"/"+p.name+"/from-lull-client", func(t *testing.T) {
				record(t, matrixKey{p.name, dirFromLull, "off", side.name})
				srv := p.server(t)
				defer srv.Stop()
				for _, cr := range connRuns {
					t.Run(cr.name, func(t *testing.T) {
						srv.forgetFailed(t)
						url := srv.URL
						if cr.fragmented {
							url += "?frag=" + strconv.Itoa(fragSize)
						}
						// The peer echoes in frames of fragSize; the
						// engine sends each message as one frame.
						spec := clientRunSpec(cr)
						spec.fragmented = spec.fragmented && side.fragments
						run := clientRun{Cases: spec.cases(), CloseBy: cr.closeBy, Code: cr.code, Ping: cr.ping}
						res := side.client(t, url, run, lullNoDeflate, nil)
						checkCloses(t, run, res, srv.nextClose(t), p.name+" server")
					})
				}
			})
		}
	}
}

// checkCloses checks both sides' views of the close handshake: each saw
// the code the closing side sent, and a clean close.
func checkCloses(t *testing.T, run clientRun, res clientResult, server closeEvent, serverName string) {
	t.Helper()
	want, client := run.Code, res.Close
	if res.CloseCode != 0 {
		want = res.CloseCode
	}
	if client.Code != want || !client.Clean {
		t.Errorf("client: close %d (clean %v), want %d clean: %s", client.Code, client.Clean, want, client.How)
	}
	if server.Code != want || !server.Clean {
		t.Errorf("%s: close %d (clean %v), want %d clean: %s", serverName, server.Code, server.Clean, want, server.How)
	}
}
