package interop

import (
	"strconv"
	"testing"
)

// A peer as client (against a lull server) and as server (for a lull
// client).
type peer struct {
	name   string
	client func(t *testing.T, url string, run clientRun) clientResult
	server func(t *testing.T) *server
}

var peers = []peer{
	{
		name: "node-ws",
		client: func(t *testing.T, url string, run clientRun) clientResult {
			return runNodeClient(t, url, run, false, "")
		},
		server: func(t *testing.T) *server {
			s, _ := startNodeServer(t, false, 0)
			return s
		},
	},
	{name: "gorilla", client: runGorillaClient, server: func(t *testing.T) *server { return startGorillaServer(t, false) }},
	{name: "gobwas-ws", client: runGobwasClient, server: startGobwasServer},
	{name: "coder-websocket", client: runCoderClient, server: func(t *testing.T) *server { return startCoderServer(t, false) }},
}

// A lull side: the server and the client a peer talks to.
type lullSide struct {
	name   string
	server func(t *testing.T) *server
	client func(t *testing.T, url string, run clientRun) clientResult
}

var lullSides = []lullSide{
	{name: "engine", server: startLullServer, client: runLullClient},
}

const (
	dirToLull   = "peer client → lull server"
	dirFromLull = "lull client → peer server"
)

// Two connections per direction: whole messages closed by the client with
// 4000, then fragmented messages closed by the server with 4001.
var connRuns = []struct {
	name       string
	fragmented bool
	closeBy    string
	code       int
}{
	{"whole/client-closes", false, "client", 4000},
	{"fragmented/server-closes", true, "server", 4001},
}

func TestInterop(t *testing.T) {
	for _, side := range lullSides {
		for _, p := range peers {
			t.Run(side.name+"/"+p.name+"/to-lull-server", func(t *testing.T) {
				record(t, matrixKey{p.name, dirToLull, "off", side.name})
				srv := side.server(t)
				defer srv.Stop()
				for _, cr := range connRuns {
					t.Run(cr.name, func(t *testing.T) {
						run := clientRun{Cases: cases(cr.fragmented), CloseBy: cr.closeBy, Code: cr.code}
						res := p.client(t, srv.URL, run)
						checkCloses(t, run, res.Close, srv.nextClose(t), "lull server")
					})
				}
			})
			t.Run(side.name+"/"+p.name+"/from-lull-client", func(t *testing.T) {
				record(t, matrixKey{p.name, dirFromLull, "off", side.name})
				srv := p.server(t)
				defer srv.Stop()
				for _, cr := range connRuns {
					t.Run(cr.name, func(t *testing.T) {
						url := srv.URL
						if cr.fragmented {
							url += "?frag=" + strconv.Itoa(fragSize)
						}
						// The engine sends each message as one frame; the
						// peer echoes in frames of fragSize.
						run := clientRun{Cases: cases(false), CloseBy: cr.closeBy, Code: cr.code}
						res := side.client(t, url, run)
						checkCloses(t, run, res.Close, srv.nextClose(t), p.name+" server")
					})
				}
			})
		}
	}
}

// checkCloses checks both sides' views of the close handshake: each saw
// the code the closing side sent, and a clean close.
func checkCloses(t *testing.T, run clientRun, client, server closeEvent, serverName string) {
	t.Helper()
	if client.Code != run.Code || !client.Clean {
		t.Errorf("client: close %d (clean %v), want %d clean: %s", client.Code, client.Clean, run.Code, client.How)
	}
	if server.Code != run.Code || !server.Clean {
		t.Errorf("%s: close %d (clean %v), want %d clean: %s", serverName, server.Code, server.Clean, run.Code, server.How)
	}
}
