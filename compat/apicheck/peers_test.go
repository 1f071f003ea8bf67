package apicheck

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// peerDeviations lists where lull deliberately differs from the package it
// stands in for. The contract tests (compat/contract) are run against the
// real gorilla/websocket v1.5.3 (for compat) and btcsuite/websocket (for
// compat/btcsuite): exactly these tests must fail there, and every other
// must pass, which shows that each expectation the tests hold lull to is
// the peer's real behaviour, except here.
var peerDeviations = map[string]string{
	"TestS5_26_EOFAndCloseInsideMessage": "btcsuite's ReadMessage returns a truncated message and no error when " +
		"TCP ends inside a frame's payload; the contract (§5.26) and lull give close 1006 unexpected EOF",
	"TestS4b_LengthWithMSBSet":          "btcsuite accepts a 64-bit frame length with its top bit set",
	"TestS4b_LengthWithMSBSet/btcsuite": "(the same)",
	"TestS4b_InvalidCloseCodeOrReason": "the decision block: both packages validate received close frames as " +
		"RFC 6455 requires",
	"TestS4b_InvalidCloseCodeOrReason/compat": "gorilla reads a one-byte close payload as 1005; RFC 6455 §5.5.1 " +
		"(and Autobahn case 7.3.2) make it a protocol error",
	"TestS4b_InvalidCloseCodeOrReason/btcsuite": "btcsuite accepts invalid close codes and non-UTF-8 reasons",
}

// peerRaces are deviations that show only when a race goes a certain way:
// they may fail against the peer or pass.
var peerRaces = map[string]string{
	"TestS4b_ConcurrentWritersAreSerialised": "gorilla panics (best effort) on concurrent writers and btcsuite " +
		"interleaves their frames; lull serialises them (issue 5: be safe where gorilla panics)",
	"TestS4b_ConcurrentWritersAreSerialised/compat":   "(the same)",
	"TestS4b_ConcurrentWritersAreSerialised/btcsuite": "(the same)",
}

var failLine = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)

// TestContractExpectationsHoldForPeers compiles compat/contract's tests
// with their imports pointed at the real peers and runs each test in its
// own process (gorilla panics on concurrent writers, which ends a process).
func TestContractExpectationsHoldForPeers(t *testing.T) {
	src, err := filepath.Glob("../contract/*_test.go")
	if err != nil || len(src) == 0 {
		t.Fatalf("no contract tests found: %v", err)
	}
	dir := t.TempDir()
	mod := "module peerrun\n\ngo 1.24.0\n\nrequire (\n" +
		"\tgithub.com/btcsuite/websocket v0.0.0-20150119174127-31079b680792\n" +
		"\tgithub.com/gorilla/websocket v1.5.3\n)\n"
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", []byte(mod))
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	write("go.sum", sum)
	for _, f := range src {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), `btc "github.com/lullws/lull/compat/btcsuite"`, `btc "github.com/btcsuite/websocket"`)
		s = strings.ReplaceAll(s, `compat "github.com/lullws/lull/compat"`, `compat "github.com/gorilla/websocket"`)
		if strings.Contains(s, "github.com/lullws/lull") {
			t.Fatalf("%s imports a lull package the peers cannot stand in for", f)
		}
		write(filepath.Base(f), []byte(s))
	}
	bin := filepath.Join(dir, "contract.test")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the contract tests against the peers: %v\n%s", err, out)
	}
	list, err := exec.Command(bin, "-test.list", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]string{}
	var names []string
	for _, name := range strings.Fields(string(list)) {
		if !strings.HasPrefix(name, "Test") {
			continue
		}
		names = append(names, name)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		out, err := exec.CommandContext(ctx, bin, "-test.run", "^"+name+"$", "-test.v").CombinedOutput()
		cancel()
		if err == nil {
			continue
		}
		failed[name] = lastLines(string(out), 6)
		for _, m := range failLine.FindAllStringSubmatch(string(out), -1) {
			if m[1] != name {
				failed[m[1]] = "(subtest)"
			}
		}
	}
	if len(names) < 60 {
		t.Fatalf("only %d contract tests listed", len(names))
	}
	var keys []string
	for k := range failed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		_, listed := peerDeviations[k]
		_, racy := peerRaces[k]
		if !listed && !racy {
			t.Errorf("%s fails against the real peer, and is not a listed deviation: the test's expectation "+
				"is not the peer's behaviour\n%s", k, failed[k])
		}
	}
	for k, why := range peerDeviations {
		if _, ok := failed[k]; !ok {
			t.Errorf("%s passes against the real peer, but is listed as a deviation (%s): drop it from peerDeviations", k, why)
		}
	}
	t.Logf("%d contract tests run against the peers; %d failures, all listed deviations", len(names), len(failed))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
