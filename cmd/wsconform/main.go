// Command wsconform runs lull's conformance suite (package conformance:
// the Autobahn|Testsuite cases, judged more strictly) against a WebSocket
// server or client.
//
// Test an echo server:
//
//	wsconform -server ws://127.0.0.1:9001/
//
// Test a client: serve the Autobahn fuzzing-server protocol (/getCaseCount,
// /runCase?case=N&agent=A, /updateReports?agent=A) and wait until a client
// has run every case and called /updateReports:
//
//	wsconform -client 127.0.0.1:9002
//
// It prints a line per case that is not OK and a summary per group, and
// exits with status 1 unless every case is OK (or INFORMATIONAL; with
// -allow-unimplemented, also UNIMPLEMENTED), 2 on a usage error.
//
// -expect records a known deviation instead of hiding it: with
// -expect 6.4=NON-STRICT the cases 6.4.x must be exactly NON-STRICT (the
// run fails if they are worse, and also if they become OK, so that the
// expectation is removed), and the summary says so.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/lullws/lull/conformance"
)

func main() {
	server := flag.String("server", "", "test the echo server at this ws:// `URL`")
	client := flag.String("client", "", "serve the fuzzing-server protocol on this `address` and test the client that connects")
	cases := flag.String("cases", "", "comma-separated case numbers or prefixes to run (default: all), e.g. 1,2,6.4,9.7.1")
	full := flag.Bool("full", false, "run groups 9, 12 and 13 with Autobahn's full counts (1000 round trips per case)")
	rounds := flag.Int("rounds", 0, "round trips per case in 9.7, 9.8, 12 and 13 without -full (0: 100)")
	parallel := flag.Int("parallel", 1, "cases run at once against a server")
	verbose := flag.Bool("v", false, "print every case's result as it completes")
	allowUnimpl := flag.Bool("allow-unimplemented", false, "do not fail the run for UNIMPLEMENTED cases (a declined extension)")
	timeout := flag.Duration("timeout", 0, "give up after this long (0: no limit)")
	expectFlag := flag.String("expect", "", "known deviations, `CASES=STATUS`[,...]: the cases CASES (a number or prefix) must have exactly STATUS (e.g. 6.4=NON-STRICT)")
	flag.Parse()
	expect, err := parseExpect(*expectFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsconform: -expect:", err)
		os.Exit(2)
	}
	if (*server == "") == (*client == "") || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: wsconform -server ws://HOST:PORT/PATH | -client HOST:PORT [flags]")
		flag.PrintDefaults()
		os.Exit(2)
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	if *timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	var mu sync.Mutex
	opts := conformance.Options{Cases: *cases, Full: *full, RoundTrips: *rounds, Parallel: *parallel}
	opts.OnResult = func(r conformance.Result) {
		if _, known := expect.statusOf(r.Case); *verbose || !known && r.Status != conformance.OK && r.Status != conformance.Informational {
			mu.Lock()
			fmt.Println(r)
			mu.Unlock()
		}
	}

	var rep *conformance.Report
	if *server != "" {
		rep, err = conformance.CheckServer(ctx, *server, opts)
	} else {
		rep, err = serveClient(ctx, *client, opts)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsconform:", err)
		os.Exit(2)
	}
	fmt.Println()
	rep.WriteTable(os.Stdout)
	ok := true
	for _, r := range rep.Results {
		want, known := expect.statusOf(r.Case)
		switch {
		case known && r.Status != want:
			fmt.Printf("%s: %s, but -expect says %s\n", r.Case, r.Status, want)
			ok = false
		case known:
		case r.Status == conformance.OK, r.Status == conformance.Informational:
		case r.Status == conformance.Unimplemented && *allowUnimpl:
		default:
			ok = false
		}
	}
	for _, e := range expect {
		fmt.Printf("known deviation (-expect): cases %s.x are %s\n", e.pattern, e.status)
	}
	if !ok || len(rep.Results) == 0 {
		fmt.Println("FAIL: not every case is OK")
		os.Exit(1)
	}
	fmt.Println("PASS")
}

type expectation struct {
	pattern string
	status  conformance.Status
}

type expectations []expectation

func parseExpect(s string) (expectations, error) {
	var out expectations
	if s == "" {
		return nil, nil
	}
	names := map[string]conformance.Status{}
	for st := conformance.OK; st <= conformance.Failed; st++ {
		names[st.String()] = st
	}
	for _, item := range strings.Split(s, ",") {
		pat, name, ok := strings.Cut(strings.TrimSpace(item), "=")
		st, known := names[strings.ToUpper(name)]
		if !ok || pat == "" || !known {
			return nil, fmt.Errorf("%q: want CASES=STATUS, STATUS one of OK, INFORMATIONAL, UNIMPLEMENTED, NON-STRICT, FAILED", item)
		}
		out = append(out, expectation{pat, st})
	}
	return out, nil
}

func (es expectations) statusOf(id string) (conformance.Status, bool) {
	for _, e := range es {
		if id == e.pattern || strings.HasPrefix(id, e.pattern+".") {
			return e.status, true
		}
	}
	return 0, false
}

func serveClient(ctx context.Context, addr string, opts conformance.Options) (*conformance.Report, error) {
	fs, err := conformance.NewFuzzingServer(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	fmt.Printf("listening on %s\n", ln.Addr())
	go fs.Serve(ln)
	defer fs.Close()
	start := time.Now()
	select {
	case agent := <-fs.Done():
		rep := fs.Report(agent)
		rep.Wall = time.Since(start)
		return rep, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("no client finished its run: %v", ctx.Err())
	}
}
