package conformance

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// testRoundTrips keeps groups 9, 12 and 13 short in go test (CI runs the
// suite's full counts from cmd/wsconform).
const testRoundTrips = 10

// engineOptions are the options of the runs against lull's engine. Under
// the race detector, which slows everything down many times (on a machine
// shared with other work), the largest messages of group 9 are left to CI's
// run of cmd/wsconform, and time limits are stretched.
func engineOptions() Options {
	o := Options{RoundTrips: testRoundTrips}
	if raceEnabled {
		o.Cases = "1,2,3,4,5,6,7,9.1.1,9.1.2,9.1.3,9.2.1,9.2.2,9.2.3,9.3.6,9.4.6,9.5.6,9.6.6,9.7,9.8,10,12,13"
		o.TimeScale = 3
	}
	return o
}

func TestCatalogueMatchesAutobahn(t *testing.T) {
	want := map[int]int{1: 16, 2: 11, 3: 7, 4: 10, 5: 20, 6: 145, 7: 37, 9: 54, 10: 1, 12: 90, 13: 126}
	got := map[int]int{}
	seen := map[string]bool{}
	all := Catalogue()
	for _, c := range all {
		if seen[c.ID] {
			t.Errorf("case %s appears twice", c.ID)
		}
		seen[c.ID] = true
		got[groupOf(c.ID)]++
		if c.Desc == "" || c.run == nil {
			t.Errorf("case %s has no description or no script", c.ID)
		}
		if (groupOf(c.ID) >= 12) != (c.offers != nil) {
			t.Errorf("case %s: offers %v", c.ID, c.offers)
		}
	}
	for g, n := range want {
		if got[g] != n {
			t.Errorf("group %d: %d cases, want %d", g, got[g], n)
		}
	}
	if len(all) != 517 || len(got) != len(want) {
		t.Errorf("%d cases in %d groups, want 517 in %d", len(all), len(got), len(want))
	}
	// Catalogue §3.6: 6.5-6.23 hold 132 vectors, 63 valid and 69 invalid.
	valid, invalid := 0, 0
	for _, sub := range utf8Vectors() {
		for _, v := range sub {
			if utf8.Valid(v) {
				valid++
			} else {
				invalid++
			}
		}
	}
	if valid != 63 || invalid != 69 {
		t.Errorf("UTF-8 vectors: %d valid, %d invalid; want 63 and 69", valid, invalid)
	}
	// Spot checks of numbering against the catalogue.
	for id, desc := range map[string]string{"1.1.8": "997-byte chops", "2.5": "126 bytes", "5.19": "1 s pause", "6.4.4": "chops of one frame",
		"7.9.9": "close 2999", "7.13.2": "close 65535", "9.3.1": "frames of 64 B", "9.7.6": "4096-byte", "10.1.1": "1300-byte",
		"12.3.18": "German text", "13.7.18": "server_max_window_bits=9, permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover, permessage-deflate; client_no_context_takeover; client_max_window_bits"} {
		c := find(all, id)
		if c == nil || !strings.Contains(c.Desc, desc) {
			t.Errorf("case %s: %+v, want a description mentioning %q", id, c, desc)
		}
	}
	if _, err := Select("1,6.4,99"); err == nil {
		t.Error("Select accepted a pattern that selects nothing")
	}
	if cs, _ := Select("1,6.4"); len(cs) != 20 {
		t.Errorf("Select(1,6.4): %d cases, want 20", len(cs))
	}
}

func find(cs []*Case, id string) *Case {
	for _, c := range cs {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// startEngineEcho serves the engine's echo handler (as examples/echo does)
// on a loopback port.
func startEngineEcho(t *testing.T, tweak func(*engine.Config)) string {
	cfg := engine.Config{
		Loops:   2,
		Upgrade: upgrade.Server{CheckOrigin: func(*upgrade.Request) bool { return true }},
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) {
			c.WriteMessage(op, data)
		},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := e.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	})
	return "ws://" + addr.String() + "/"
}

func checkAll(t *testing.T, rep *Report, expect func(id string) Status) {
	t.Helper()
	bad := 0
	for _, r := range rep.Results {
		if want := expect(r.Case); r.Status != want {
			bad++
			t.Errorf("case %s: %v, want %v (%s)", r.Case, r.Status, want, r.Detail)
		}
	}
	if bad > 0 || testing.Verbose() {
		var b bytes.Buffer
		rep.WriteTable(&b)
		t.Log("\n" + b.String())
	}
}

// withoutDeflate is what a testee that does not implement permessage-deflate
// gets: UNIMPLEMENTED for groups 12 and 13, except the offers of
// server_max_window_bits=9, where declining is right.
func withoutDeflate(id string) Status {
	switch {
	case strings.HasPrefix(id, "13.3.") || strings.HasPrefix(id, "13.5."):
		return OK
	case groupOf(id) >= 12:
		return Unimplemented
	}
	return OK
}

func TestEngineServer(t *testing.T) {
	t.Parallel()
	url := startEngineEcho(t, nil)
	opts := engineOptions()
	opts.Parallel = 4
	rep, err := CheckServer(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := Select(opts.Cases); len(rep.Results) != len(want) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(want))
	}
	checkAll(t, rep, withoutDeflate)
}

// runEngineClient drives a fuzzing server at addr with the engine's
// client, echoing every message, the way examples/autobahn-engine-client
// does. Connections run one at a time.
func runEngineClient(ctx context.Context, addr, agent string, deflate []upgrade.DeflateParams, comp engine.Compression) error {
	var counting atomic.Bool // the connection open is /getCaseCount's
	var count atomic.Value
	closed := make(chan struct{}, 1)
	e, err := engine.New(engine.Config{
		Loops: 1,
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) {
			if counting.Load() {
				count.Store(string(data))
				return
			}
			c.WriteMessage(op, data)
		},
		OnClose:     func(*engine.Conn, error) { closed <- struct{}{} },
		Compression: comp,
	})
	if err != nil {
		return err
	}
	defer e.Close()
	run := func(path string) error {
		if _, err := e.Dial(ctx, "ws://"+addr+path, &engine.DialOptions{Deflate: deflate}); err != nil {
			return err
		}
		select {
		case <-closed:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	counting.Store(true)
	if err := run("/getCaseCount"); err != nil {
		return err
	}
	counting.Store(false)
	var n int
	s, _ := count.Load().(string)
	if _, err := fmt.Sscan(s, &n); err != nil {
		return fmt.Errorf("case count %q: %v", s, err)
	}
	for i := 1; i <= n; i++ {
		if err := run(fmt.Sprintf("/runCase?case=%d&agent=%s", i, agent)); err != nil {
			return fmt.Errorf("case %d: %v", i, err)
		}
	}
	return run("/updateReports?agent=" + agent)
}

func startFuzzingServer(t *testing.T, opts Options) (*FuzzingServer, string) {
	fs, err := NewFuzzingServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go fs.Serve(ln)
	t.Cleanup(func() { ln.Close(); fs.Close() })
	return fs, ln.Addr().String()
}

func TestEngineClient(t *testing.T) {
	t.Parallel()
	fs, addr := startFuzzingServer(t, engineOptions())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := runEngineClient(ctx, addr, "lull-engine", nil, engine.Compression{}); err != nil {
		t.Fatal(err)
	}
	select {
	case agent := <-fs.Done():
		if agent != "lull-engine" {
			t.Fatalf("agent %q reported, want lull-engine", agent)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no /updateReports")
	}
	rep := fs.Report("lull-engine")
	checkAll(t, rep, func(id string) Status {
		if groupOf(id) >= 12 {
			return Unimplemented // the engine client offers no compression
		}
		return OK
	})
}

// TestToyPasses checks the toy peer of the broken-server tests: without a
// knob set it passes what it claims to (so that the failures below come
// from the knobs), including compressed round trips.
func TestToyPasses(t *testing.T) {
	t.Parallel()
	url := startToy(t, &toy{deflate: true})
	rep, err := CheckServer(context.Background(), url, Options{Cases: "1,2,3,4,5,6.1,6.2,6.3,6.5,6.6,7,9.7,10,12.1.1,12.2.10,12.3.15,12.4.16,12.5.18,13.1.1,13.2.4,13.3.1,13.4.11,13.5.1,13.6.9,13.7.16,13.7.18", RoundTrips: 3, Parallel: 4})
	if err != nil {
		t.Fatal(err)
	}
	checkAll(t, rep, func(string) Status { return OK })
}

// TestSuiteCanFail runs the suite against servers broken on purpose, one
// rule each, and checks that exactly the right cases fail, and how.
func TestSuiteCanFail(t *testing.T) {
	for _, tc := range []struct {
		name  string
		toy   toy
		cases string
		want  map[string]Status // cases not listed must be OK
		why   map[string]string // substrings of the failure detail
	}{
		{"no UTF-8 validation", toy{skipUTF8: true}, "6.2.1,6.3,6.5.1,6.6.1,6.6.2,6.20.1,6.22.1",
			map[string]Status{"6.3.1": Failed, "6.3.2": Failed, "6.6.1": Failed, "6.20.1": Failed},
			map[string]string{"6.3.1": "not valid UTF-8", "6.20.1": "not valid UTF-8"}},
		{"no fail-fast", toy{lateUTF8: true}, "6.3.1,6.4",
			map[string]Status{"6.4.1": NonStrict, "6.4.2": NonStrict, "6.4.3": NonStrict, "6.4.4": NonStrict},
			map[string]string{"6.4.2": "only after the third part"}},
		{"echo after close", toy{echoAfterClose: true}, "7.1.1,7.1.3,7.1.4,7.1.5",
			map[string]Status{"7.1.4": Failed}, map[string]string{"7.1.4": "after the close frame"}},
		{"drop TCP instead of close 1002", toy{dropOnError: true}, "2.4,2.5,3.1,4.1.1,5.1",
			map[string]Status{"2.5": Failed, "3.1": Failed, "4.1.1": Failed, "5.1": Failed},
			map[string]string{"2.5": "without a close frame"}},
		{"TCP kept open after the close handshake", toy{linger: true}, "1.1.1,2.1",
			map[string]Status{"1.1.1": Failed, "2.1": Failed}, map[string]string{"1.1.1": "did not close TCP within 1s"}},
		{"echo with the right length but wrong bytes", toy{corruptLarge: true}, "1.1.5,1.1.7,9.2.1",
			map[string]Status{"1.1.7": Failed, "9.2.1": Failed}, map[string]string{"1.1.7": "got text message of 65536 bytes"}},
		{"pongs coalesced", toy{coalescePongs: true}, "2.2,2.10", map[string]Status{"2.10": Failed}, nil},
		{"server_max_window_bits=9 accepted silently", toy{deflate: true, ignoreBits: true}, "13.1.1,13.3.1,13.5.1,13.7.1",
			map[string]Status{"13.3.1": Failed, "13.5.1": Failed},
			map[string]string{"13.3.1": "RFC 7692 §7.1.2.1"}},
		{"server_max_window_bits=9 answered, a 32 KiB window used", toy{deflate: true, wideWindow: true}, "13.3.1,13.3.10,13.5.10,13.4.10",
			map[string]Status{"13.3.10": Failed, "13.5.10": Failed}, map[string]string{"13.3.10": "beyond the agreed window of 512 bytes"}},
		{"no permessage-deflate", toy{}, "12.1.1,13.1.1,13.3.1", map[string]Status{"12.1.1": Unimplemented, "13.1.1": Unimplemented}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := startToy(t, &tc.toy)
			rep, err := CheckServer(context.Background(), url, Options{Cases: tc.cases, RoundTrips: 2, Parallel: 4})
			if err != nil {
				t.Fatal(err)
			}
			checkAll(t, rep, func(id string) Status {
				if st, ok := tc.want[id]; ok {
					return st
				}
				return OK
			})
			for _, r := range rep.Results {
				if why, ok := tc.why[r.Case]; ok && !strings.Contains(r.Detail, why) {
					t.Errorf("case %s: detail %q, want it to mention %q", r.Case, r.Detail, why)
				}
			}
		})
	}
}

// TestFuzzingServerCanFail runs clients broken on purpose through the
// fuzzing server.
func TestFuzzingServerCanFail(t *testing.T) {
	for _, tc := range []struct {
		name  string
		toy   toy
		cases string
		want  map[string]Status
	}{
		{"correct", toy{}, "1.1,2,5.19,6.3,6.6,7.1,7.9", nil},
		{"no UTF-8 validation", toy{skipUTF8: true}, "6.2.1,6.3,6.6.1,6.6.2", map[string]Status{"6.3.1": Failed, "6.3.2": Failed, "6.6.1": Failed}},
		{"unmasked frames", toy{noMask: true}, "1.1.1,2.1", map[string]Status{"1.1.1": Failed, "2.1": Failed}},
		{"drop TCP instead of close 1002", toy{dropOnError: true}, "1.1.1,3.1", map[string]Status{"3.1": Failed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, addr := startFuzzingServer(t, Options{Cases: tc.cases})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := runToyClient(ctx, addr, "toy", &tc.toy); err != nil {
				t.Fatal(err)
			}
			<-fs.Done()
			checkAll(t, fs.Report("toy"), func(id string) Status {
				if st, ok := tc.want[id]; ok {
					return st
				}
				return OK
			})
		})
	}
}

// deflateOptions select groups 12 and 13; under the race detector, the
// (size, fragment) entries given of each sub-group, with 2 round trips
// each (CI runs all of them without it, through cmd/wsconform).
func deflateOptions(entries ...int) Options {
	if !raceEnabled {
		return Options{Cases: "12,13", RoundTrips: testRoundTrips}
	}
	var sel []string
	for _, g := range [][2]int{{12, 5}, {13, 7}} {
		for sub := 1; sub <= g[1]; sub++ {
			for _, entry := range entries {
				sel = append(sel, fmt.Sprintf("%d.%d.%d", g[0], sub, entry))
			}
		}
	}
	return Options{Cases: strings.Join(sel, ","), RoundTrips: 2, TimeScale: 3}
}

// TestEngineServerDeflate runs groups 12 and 13 against the engine's echo
// server with permessage-deflate, in each way it can be configured.
func TestEngineServerDeflate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		tweak func(*engine.Config)
		want  func(id string) Status
	}{
		{"no context takeover", func(c *engine.Config) {
			c.Upgrade.Deflate = &upgrade.DeflatePolicy{}
			c.Compression = engine.Compression{Threshold: -1}
		}, func(string) Status { return OK }},
		{"context takeover", func(c *engine.Config) {
			c.Upgrade.Deflate = &upgrade.DeflatePolicy{ServerContextTakeover: true, ClientContextTakeover: true}
			c.Compression = engine.Compression{Threshold: -1, ContextTakeover: true}
		}, func(string) Status { return OK }},
		{"small windows honoured (Huffman only)", func(c *engine.Config) {
			c.Upgrade.Deflate = &upgrade.DeflatePolicy{MinServerWindowBits: 8}
			c.Compression = engine.Compression{Threshold: -1, Level: frame.HuffmanOnly}
		}, func(string) Status { return OK }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := startEngineEcho(t, tc.tweak)
			opts := deflateOptions(1, 4, 9, 11, 16)
			opts.Parallel = 2
			rep, err := CheckServer(context.Background(), url, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkAll(t, rep, tc.want)
			if strings.Contains(tc.name, "small windows") {
				for _, r := range rep.Results {
					if strings.Contains(r.Detail, "declined") {
						t.Errorf("case %s: %s; want server_max_window_bits=9 honoured", r.Case, r.Detail)
					}
				}
			}
		})
	}
}

// TestEngineClientDeflate runs groups 12 and 13 against the engine's
// client offering permessage-deflate with every parameter the fuzzing
// server may need (client_no_context_takeover in a second offer, so that
// the first one lets the client keep its context).
func TestEngineClientDeflate(t *testing.T) {
	t.Parallel()
	opts := deflateOptions(1, 9, 16)
	fs, addr := startFuzzingServer(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	offers := []upgrade.DeflateParams{{ClientMaxWindowBits: 15}, {ClientNoContextTakeover: true, ClientMaxWindowBits: 15}}
	if err := runEngineClient(ctx, addr, "lull-engine-deflate", offers, engine.Compression{Threshold: -1, ContextTakeover: true}); err != nil {
		t.Fatal(err)
	}
	<-fs.Done()
	checkAll(t, fs.Report("lull-engine-deflate"), func(string) Status { return OK })
}

// TestNoLeaks: a testee that floods the suite with frames it did not ask
// for fails the case, and leaves no goroutine of the suite behind.
func TestNoLeaks(t *testing.T) {
	url := startToy(t, &toy{flood: true})
	before := runtime.NumGoroutine()
	rep, err := CheckServer(context.Background(), url, Options{Cases: "1.1,2.1", Parallel: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Status != Failed || !strings.Contains(r.Detail, "pong") {
			t.Errorf("case %s: %v (%s), want FAILED for the unsolicited pongs", r.Case, r.Status, r.Detail)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after the run, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
