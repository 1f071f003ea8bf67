package interop

import (
	"flag"
	"fmt"
	"strings"
	"testing"
)

// The compression runs: Autobahn's groups 12 and 13 as round trips
// against real peers. Each (message size, autofrag) entry of those groups
// is sent -rounds times; a Node client cuts the compressed payload into
// frames of autofrag bytes itself, and the Node server does the same for
// its echoes when the URL asks (?autofrag=N).

var rounds = flag.Int("rounds", 3, "round trips per (size, autofrag) entry of the compression runs (Autobahn: 1000)")

// deflateEntry is a group of Autobahn's (size, autofrag) entries sharing an
// autofrag (0: the compressed payload in one frame).
type deflateEntry struct {
	autofrag int
	sizes    []int
}

var deflateEntries = []deflateEntry{
	{0, []int{16, 64, 256, 1 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10}},
	{256, []int{8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10}},
	{1 << 10, []int{128 << 10}},
	{4 << 10, []int{128 << 10}},
	{32 << 10, []int{128 << 10}},
}

const (
	offerBase = "permessage-deflate; client_no_context_takeover; client_max_window_bits"
	offer135  = offerBase + "; server_no_context_takeover; server_max_window_bits=9"
)

// deflateOffer is one sub-group of group 13: the exact offer Autobahn's
// fuzzer sends as a client, and the ws server options that answer a
// client's offer as Autobahn's fuzzer does as a server (nil: 13.7, whose
// server side falls back through 13.5, 13.2 and 13.1, all run already).
type deflateOffer struct {
	name     string
	header   string
	wsServer map[string]any
}

var deflateOffers = []deflateOffer{
	{"13.1", offerBase, map[string]any{}},
	{"13.2", offerBase + "; server_no_context_takeover", map[string]any{"clientNoContextTakeover": true}},
	{"13.3", offerBase + "; server_max_window_bits=9", map[string]any{"clientMaxWindowBits": 9}},
	{"13.4", offerBase + "; server_max_window_bits=15", map[string]any{"clientMaxWindowBits": 15}},
	{"13.5", offer135, map[string]any{"clientNoContextTakeover": true, "clientMaxWindowBits": 9}},
	{"13.6", offerBase + "; server_no_context_takeover; server_max_window_bits=15", map[string]any{"clientNoContextTakeover": true, "clientMaxWindowBits": 15}},
	{"13.7", offer135 + ", " + offerBase + "; server_no_context_takeover, " + offerBase, nil},
}

// deflateContent is a payload kind of the runs: group 12's five files with
// the default offer (13.1's), group 13's JSON with every offer.
type deflateContent struct {
	group  string
	kind   string
	binary bool
}

var group12 = []deflateContent{
	{"12.1", "json", false}, {"12.2", "bmp", true}, {"12.3", "faust", true}, {"12.4", "html", false}, {"12.5", "pdf", true},
}

// deflateCases lists a connection's messages: every entry (all entries if
// autofrag < 0, else those with that autofrag), -rounds times each. With
// nodeSends the Node client compresses and cuts them itself.
func deflateCases(content deflateContent, autofrag int, nodeSends bool, rounds int) []msgCase {
	var cs []msgCase
	for _, e := range deflateEntries {
		if autofrag >= 0 && e.autofrag != autofrag {
			continue
		}
		for _, size := range e.sizes {
			for range rounds {
				c := msgCase{Size: size, Binary: content.binary, Kind: content.kind}
				if nodeSends {
					c.Autofrag = &e.autofrag
				}
				cs = append(cs, c)
			}
		}
	}
	return cs
}

// deflateRuns are the (name, content, offer) triples: group 12 with 13.1's
// offer, group 13 with each.
func deflateRuns() (runs []struct {
	name    string
	content deflateContent
	offer   deflateOffer
}) {
	for _, c := range group12 {
		runs = append(runs, struct {
			name    string
			content deflateContent
			offer   deflateOffer
		}{c.group + "-" + c.kind, c, deflateOffers[0]})
	}
	for _, o := range deflateOffers {
		runs = append(runs, struct {
			name    string
			content deflateContent
			offer   deflateOffer
		}{o.name, deflateContent{"13", "json", false}, o})
	}
	return runs
}

// offeredWindow returns the server_max_window_bits of an offer or
// response, 0 if absent.
func offeredWindow(ext string) int {
	for _, p := range strings.Split(ext, ";") {
		name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if name == "server_max_window_bits" {
			var n int
			fmt.Sscan(strings.Trim(val, `"`), &n)
			return n
		}
	}
	return 0
}

// checkWindowAnswer checks RFC 7692 §7.1.2.1 on a response to an offer:
// an accepted offer with server_max_window_bits=N must be answered with
// server_max_window_bits at most N. (Autobahn does not check it; gorilla
// and coder have been seen to break it.)
func checkWindowAnswer(t *testing.T, offer, response string) {
	t.Helper()
	if response == "" {
		return // declined
	}
	first, _, _ := strings.Cut(offer, ",")
	if len(strings.Split(offer, ",")) > 1 {
		return // which offer was taken is the server's choice; checked per offer elsewhere
	}
	if want := offeredWindow(first); want > 0 {
		got := offeredWindow(response)
		if got == 0 || got > want {
			t.Errorf("offer %q answered %q: server_max_window_bits must be echoed at or below %d", offer, response, want)
		}
	}
}

// TestHarnessNodeDeflate checks the compression harness itself: the Node
// client, cutting its compressed payloads, against the Node server echoing
// with cut payloads, for every run. If this fails, the matrix's compression
// rows say nothing about lull.
func TestHarnessNodeDeflate(t *testing.T) {
	for _, autofrag := range []int{256} {
		srv, opens := startNodeServer(t, map[string]any{}, 0)
		for _, r := range deflateRuns() {
			t.Run(fmt.Sprintf("%s/echo-autofrag-%d", r.name, autofrag), func(t *testing.T) {
				run := clientRun{Cases: deflateCases(r.content, -1, true, 1), CloseBy: "client", Code: 1000}
				res := runNodeClient(t, fmt.Sprintf("%s?autofrag=%d", srv.URL, autofrag), run, map[string]any{}, r.offer.header)
				open := nextOpen(t, opens)
				if open.Offer != r.offer.header {
					t.Errorf("ws server received offer %q, want %q", open.Offer, r.offer.header)
				}
				if !strings.HasPrefix(res.Extensions, "permessage-deflate") {
					t.Errorf("negotiated %q", res.Extensions)
				}
				checkWindowAnswer(t, r.offer.header, res.Extensions)
				checkCloses(t, run, res, srv.nextClose(t), "ws server")
			})
		}
	}
}
