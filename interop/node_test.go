package interop

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Node peer: node/peer.js on the `ws` package, installed in
// node_modules by `npm ci --ignore-scripts` (see package-lock.json).

// nodeEvent is one line peer.js prints.
type nodeEvent struct {
	Event      string `json:"event"`
	Port       int    `json:"port"`
	Offer      string `json:"offer"`
	Extensions string `json:"extensions"`
	Protocol   string `json:"protocol"`
	Index      int    `json:"index"`
	OK         bool   `json:"ok"`
	Error      string `json:"error"`
	Code       int    `json:"code"`
	Reason     string `json:"reason"`
	WasClean   bool   `json:"wasClean"`
}

// checkNode fails t with what to do when node or the ws package is missing.
func checkNode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed: the Node peer needs Node.js (apt-get install nodejs)")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "ws", "package.json")); err != nil {
		t.Fatal("the ws package is missing: run `npm ci --ignore-scripts` in interop/ first")
	}
}

// startNode starts peer.js with args; its events arrive on the returned
// channel, closed when its output ends. The process is killed by its PID
// when the test ends.
func startNode(t *testing.T, opts nodeOptions, args ...string) <-chan nodeEvent {
	t.Helper()
	checkNode(t)
	cmd := exec.Command("node", append([]string{filepath.Join("node", "peer.js")}, args...)...)
	cmd.Stderr = os.Stderr
	cmd.Stdin = strings.NewReader(jsonArg(opts))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node: %v", err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		cmd.Process.Kill() // by PID; harmless if it has exited
		cmd.Wait()
	})
	events := make(chan nodeEvent, 256)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev nodeEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = nodeEvent{Event: "error", Error: fmt.Sprintf("node (pid %d) printed %q", pid, sc.Text())}
			}
			events <- ev
		}
	}()
	return events
}

func nextNodeEvent(t *testing.T, events <-chan nodeEvent) nodeEvent {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the node peer exited early")
		}
		return ev
	case <-time.After(waitLimit):
		t.Fatalf("no word from the node peer in %v", waitLimit)
	}
	return nodeEvent{}
}

// nodeOptions is peer.js's JSON argument.
type nodeOptions struct {
	Deflate any       `json:"deflate"`
	Offer   string    `json:"offer,omitempty"`
	Cases   []msgCase `json:"cases,omitempty"`
	Close   *struct {
		By   string `json:"by"`
		Code int    `json:"code"`
	} `json:"close,omitempty"`
	Frag      int      `json:"frag,omitempty"`
	Protocols []string `json:"protocols,omitempty"`
	Ping      []byte   `json:"ping,omitempty"`
}

func jsonArg(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// startNodeServer starts ws's echo server. deflate is ws's perMessageDeflate
// option (false: off); frag > 0 echoes in frames of that size.
func startNodeServer(t *testing.T, deflate any, frag int) (*server, <-chan nodeEvent) {
	t.Helper()
	events := startNode(t, nodeOptions{Deflate: deflate, Frag: frag, Protocols: serverSubprotocols}, "server")
	ev := nextNodeEvent(t, events)
	if ev.Event != "listening" {
		t.Fatalf("node server: %+v", ev)
	}
	s := newServer("ws://127.0.0.1:"+strconv.Itoa(ev.Port)+"/echo", func() {})
	opens := make(chan nodeEvent, 16)
	go func() {
		for ev := range events {
			switch ev.Event {
			case "open":
				s.opened(ev.Protocol)
				opens <- ev
			case "close":
				s.Closes <- closeEvent{Code: ev.Code, Clean: ev.WasClean, How: fmt.Sprintf("ws close event %+v", ev)}
			case "error":
				t.Errorf("node server: %s", ev.Error)
			}
		}
	}()
	return s, opens
}

// nextOpen returns the next connection the Node server reports.
func nextOpen(t *testing.T, opens <-chan nodeEvent) nodeEvent {
	t.Helper()
	select {
	case ev := <-opens:
		return ev
	case <-time.After(waitLimit):
		t.Fatalf("the node server reported no connection in %v", waitLimit)
	}
	return nodeEvent{}
}

// runNodeClient runs peer.js as the client of run against url.
func runNodeClient(t *testing.T, url string, run clientRun, deflate any, offer string) clientResult {
	t.Helper()
	opts := nodeOptions{Deflate: deflate, Offer: offer, Cases: run.Cases, Protocols: run.Subprotocols}
	if run.Ping {
		opts.Ping = pingPayload
	}
	opts.Close = &struct {
		By   string `json:"by"`
		Code int    `json:"code"`
	}{run.CloseBy, run.Code}
	events := startNode(t, opts, "client", url)
	var res clientResult
	echoes, pongs := 0, 0
	for {
		ev := nextNodeEvent(t, events)
		switch ev.Event {
		case "open":
			res.Extensions, res.Subprotocol = ev.Extensions, ev.Protocol
		case "pong":
			if !ev.OK {
				t.Fatal("node client: the pong's payload differs from the ping's")
			}
			pongs++
		case "echo":
			if !ev.OK {
				t.Fatalf("%v: %s", run.Cases[ev.Index], ev.Error)
			}
			echoes++
		case "error":
			t.Fatalf("node client: %s", ev.Error)
		case "close":
			if echoes != len(run.Cases) {
				t.Fatalf("node client: connection closed (%d) after %d of %d echoes", ev.Code, echoes, len(run.Cases))
			}
			if run.Ping && pongs != 1 {
				t.Fatalf("node client: %d pongs for one ping", pongs)
			}
			res.Close = closeEvent{Code: ev.Code, Clean: ev.WasClean, How: fmt.Sprintf("ws close event %+v", ev)}
			return res
		}
	}
}
