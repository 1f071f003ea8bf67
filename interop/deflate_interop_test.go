package interop

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/upgrade"
)

// lullDeflate is how a lull side compresses in a run: the server's policy,
// the client's offers and the engine's settings.
type lullDeflate struct {
	name   string // the matrix's compression column
	policy *upgrade.DeflatePolicy
	offer  []upgrade.DeflateParams
	comp   engine.Compression
	ctx    bool // context takeover allowed: peers are asked for it too
	// maxSize, if not 0, leaves out larger messages (to keep the run
	// short: the 16 MiB ones run in the other configuration).
	maxSize int
}

func (ld lullDeflate) trim(cs []msgCase) []msgCase {
	if ld.maxSize == 0 {
		return cs
	}
	var out []msgCase
	for _, c := range cs {
		if c.Size <= ld.maxSize {
			out = append(out, c)
		}
	}
	return out
}

var lullNoDeflate = lullDeflate{name: "off"}

// The two compressed configurations: lull's defaults (no context takeover
// either way), with every message compressed (Threshold -1) and windows
// under 15 bits honoured (HuffmanOnly); and context takeover allowed both
// ways.
var lullDeflates = []lullDeflate{
	{
		name:   "deflate",
		policy: &upgrade.DeflatePolicy{MinServerWindowBits: 8},
		offer:  engine.DeflateOffer,
		comp:   engine.Compression{Threshold: -1},
	},
	{
		name:    "deflate+ctx",
		policy:  &upgrade.DeflatePolicy{MinServerWindowBits: 8, ServerContextTakeover: true, ClientContextTakeover: true},
		offer:   []upgrade.DeflateParams{{}},
		comp:    engine.Compression{Threshold: -1, ContextTakeover: true},
		ctx:     true,
		maxSize: 1 << 20,
	},
}

// autobahnClientOffer is the lull client's offer against ws servers set up
// as Autobahn's fuzzer in server mode: it allows every answer of 13.1-13.6.
var autobahnClientOffer = []upgrade.DeflateParams{{ClientNoContextTakeover: true, ClientMaxWindowBits: 15}}

// TestInteropDeflate is TestInterop with permessage-deflate: every peer
// that compresses, both directions, in both of lull's configurations, the
// same messages (0 B to 16 MiB, whole and fragmented, ping, closes); each
// run checks that compression was negotiated.
func TestInteropDeflate(t *testing.T) {
	for _, side := range lullSides {
		if !side.deflate {
			continue
		}
		for _, ld := range lullDeflates {
			for _, p := range peers {
				t.Run(side.name+"/"+ld.name+"/"+p.name+"/to-lull-server", func(t *testing.T) {
					record(t, matrixKey{p.name, dirToLull, ld.name, side.name})
					srv := side.server(t, ld)
					defer srv.Stop()
					for _, cr := range connRuns {
						t.Run(cr.name, func(t *testing.T) {
							srv.forgetFailed(t)
							run := clientRun{Cases: ld.trim(clientRunSpec(cr).cases()), CloseBy: cr.closeBy, Code: cr.code, Ping: cr.ping,
								Deflate: true, ContextTakeover: ld.ctx}
							res := p.client(t, srv.URL, run)
							if !strings.HasPrefix(res.Extensions, "permessage-deflate") {
								t.Errorf("negotiated %q, want permessage-deflate", res.Extensions)
							}
							checkCloses(t, run, res, srv.nextClose(t), "lull server")
						})
					}
				})
				t.Run(side.name+"/"+ld.name+"/"+p.name+"/from-lull-client", func(t *testing.T) {
					record(t, matrixKey{p.name, dirFromLull, ld.name, side.name})
					srv := p.deflateServer(t, ld.ctx)
					defer srv.Stop()
					for _, cr := range connRuns {
						t.Run(cr.name, func(t *testing.T) {
							srv.forgetFailed(t)
							url := srv.URL
							if cr.fragmented {
								url += fmt.Sprintf("?frag=%d", fragSize)
							}
							spec := clientRunSpec(cr)
							spec.fragmented = spec.fragmented && side.fragments
							run := clientRun{Cases: ld.trim(spec.cases()), CloseBy: cr.closeBy, Code: cr.code, Ping: cr.ping}
							res := side.client(t, url, run, ld, ld.offer)
							if res.Extensions == "" {
								t.Errorf("%s server: permessage-deflate not negotiated", p.name)
							}
							checkCloses(t, run, res, srv.nextClose(t), p.name+" server")
						})
					}
				})
			}
		}
	}
}

// TestAutobahnDeflateNode runs Autobahn's groups 12 and 13 as round trips
// between lull and Node's ws, both directions: every (size, autofrag)
// entry, the compressed payloads cut into frames of autofrag bytes by the
// Node side, with 13.1-13.7's offers sent verbatim to the lull server, and
// a ws server answering the lull client as Autobahn's fuzzer does for
// 13.1-13.6 (13.7's answer is one of 13.5's, 13.2's or 13.1's).
func TestAutobahnDeflateNode(t *testing.T) {
	ld := lullDeflates[0]
	for _, side := range lullSides {
		if !side.deflate {
			continue
		}
		t.Run(side.name+"/node-ws/to-lull-server", func(t *testing.T) {
			record(t, matrixKey{"node-ws", dirToLull, "deflate 12+13", side.name})
			srv := side.server(t, ld)
			defer srv.Stop()
			for _, r := range deflateRuns() {
				t.Run(r.name, func(t *testing.T) {
					srv.forgetFailed(t)
					run := clientRun{Cases: deflateCases(r.content, -1, true, *rounds), CloseBy: "client", Code: 1000}
					res := runNodeClient(t, srv.URL, run, map[string]any{}, r.offer.header)
					first, _, _ := strings.Cut(r.offer.header, ",")
					if w := offeredWindow(first); w != 0 && w < side.minServerWindowBits && !strings.Contains(r.offer.header, ",") {
						if res.Extensions != "" {
							t.Errorf("offer %q answered %q: %s cannot keep to that window and must decline", r.offer.header, res.Extensions, side.name)
						}
					} else if !strings.HasPrefix(res.Extensions, "permessage-deflate") {
						t.Errorf("offer %q answered %q: lull declined an offer it can honour", r.offer.header, res.Extensions)
					}
					checkWindowAnswer(t, r.offer.header, res.Extensions)
					if want := 9; r.offer.name == "13.7" && side.minServerWindowBits > 9 {
						if offeredWindow(res.Extensions) != 0 {
							t.Errorf("13.7: answered %q, want the second offer (no server_max_window_bits) accepted", res.Extensions)
						}
					} else if r.offer.name == "13.7" && offeredWindow(res.Extensions) != want {
						t.Errorf("13.7: answered %q, want the first offer (server_max_window_bits=9) accepted", res.Extensions)
					}
					t.Logf("offer %q → %q", r.offer.header, res.Extensions)
					checkCloses(t, run, res, srv.nextClose(t), "lull server")
				})
			}
		})
		t.Run(side.name+"/node-ws/from-lull-client", func(t *testing.T) {
			record(t, matrixKey{"node-ws", dirFromLull, "deflate 12+13", side.name})
			for _, r := range deflateRuns() {
				if r.offer.wsServer == nil {
					continue // 13.7: see above
				}
				t.Run(r.name, func(t *testing.T) {
					srv, opens := startNodeServer(t, r.offer.wsServer, 0)
					for _, e := range deflateEntries {
						t.Run(fmt.Sprintf("autofrag-%d", e.autofrag), func(t *testing.T) {
							srv.forgetFailed(t)
							run := clientRun{Cases: deflateCases(r.content, e.autofrag, false, *rounds), CloseBy: "client", Code: 1000}
							res := side.client(t, fmt.Sprintf("%s?autofrag=%d", srv.URL, e.autofrag), run, ld, autobahnClientOffer)
							open := nextOpen(t, opens)
							if !strings.HasPrefix(open.Extensions, "permessage-deflate") || res.Extensions == "" {
								t.Errorf("ws server (%v) answered %q to lull's offer %q", r.offer.wsServer, open.Extensions, open.Offer)
							}
							t.Logf("offer %q → %q", open.Offer, open.Extensions)
							checkCloses(t, run, res, srv.nextClose(t), "ws server")
						})
					}
				})
			}
		})
	}
}
