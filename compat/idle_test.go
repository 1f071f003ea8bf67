//go:build linux

package websocket

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lullws/lull/engine"
)

// TestIdleMemory measures what an idle connection costs a compat server
// (internal/idleserver, built without the race detector and run in its own
// process) in each style: a goroutine per connection blocked in
// ReadMessage, as gorilla/websocket servers are written, the same in the
// HTTP handler's own goroutine, and ServeEvents; and, for comparison, what
// net/http alone costs when its handler blocks on a hijacked connection.
// It asks the server for its memory after a GC, opens n connections to it
// from this process with the engine's client, spread over four loopback
// addresses, waits until the server counts them, and asks again. The
// bounds are issue 5's: at most 4.0 KiB of resident memory per connection in
// the blocking style (gorilla/websocket needs 12.6 KiB here; see the bound
// below), at most 1.0 KiB evented, with no goroutine per evented
// connection.
//
// n is 15,000 by default (the server then holds 15,000 descriptors and this
// process as many, under the 20,000 per-process limit), 2,000 with -short,
// or LULL_IDLE_CONNS; below 15,000 the bounds allow for the server's fixed
// growth spread over fewer connections. LULL_IDLE_HEAPPROFILE=FILE has the server write heap
// profiles (FILE.MODE) with the connections open.
func TestIdleMemory(t *testing.T) {
	n := 15000
	if testing.Short() {
		n = 2000
	}
	if s := os.Getenv("LULL_IDLE_CONNS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			t.Fatalf("LULL_IDLE_CONNS=%q: want a positive count", s)
		}
	}
	bin := buildIdleServer(t)
	measured := map[string]float64{} // KiB of resident memory per connection, by mode
	for _, tc := range []struct {
		mode  string
		bound float64
	}{
		// Issue 5's 4.0 KiB. 3.91-3.97 is measured (a loaded machine
		// adds a few hundredths): 2.0 KiB is the goroutine's minimum
		// stack, 0.47 its g, 0.3 net's netFD and addresses, 0.6 the
		// runtime's poll descriptor and other off-heap metadata, 0.25
		// compat's Conn with its read state (see TestIdleLayout).
		{"blocking", 4.0},
		// No library: net/http's handler hijacks the connection, answers
		// the handshake itself and blocks in the connection's Read. This
		// is the floor of the next style for any library: 8.15-8.3 KiB
		// is measured (gorilla/websocket needs 16.82 KiB in the next
		// style here).
		{"hijack", 9.0},
		// Reading in the HTTP handler's goroutine, as gorilla's echo
		// example does: 8.39 KiB is measured, and at most
		// handlerOverHijack more than hijack's. Per connection: 4.0 KiB
		// of stack, which no library can halve: net/http's goroutine
		// grows to 4 KiB once it calls the handler (conn.serve's frame
		// alone is 1,112 bytes, and a 2 KiB stack has 1,120 above its
		// guard), and the runtime halves a parked goroutine's stack only
		// when less than a quarter of it, 800 bytes of guard included,
		// is in use: a 4 KiB stack under 224 bytes deep. Then about 3.4 KiB of heap, all of it but
		// compat's 256-byte Conn alive in net/http's frames until the
		// handler returns: 1.4 KiB the Request, its Header, URL and
		// response, 0.6 the contexts, 0.43 net/http's conn, 0.48 the g,
		// 0.28 net's netFD and addresses. The rest is off-heap (the
		// runtime's poll descriptor, GC metadata). The 8 KiB of net/http's
		// own buffers must not stay (12.66 KiB before Upgrade released
		// them).
		{"handler", 9.0},
		{"evented", 1.0},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			srv := startIdleServer(t, bin, tc.mode, "127.0.0.1:0,127.0.0.2:0,127.0.0.3:0,127.0.0.4:0")
			before := srv.meminfo(t)
			cli, err := engine.New(engine.Config{Loops: 2, HandshakeTimeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			var opened, failed atomic.Int64
			var firstErr atomic.Value
			start := time.Now()
			for i := 0; i < n; i++ {
				// At most 200 handshakes in flight: fewer net/http goroutines
				// at once, whose stacks would otherwise linger in the
				// server's stack spans and blur the measurement.
				for int64(i)-opened.Load()-failed.Load() >= 200 {
					if time.Since(start) > 2*time.Minute {
						t.Fatalf("dials stalled: %d opened, %d failed of %d", opened.Load(), failed.Load(), i)
					}
					time.Sleep(time.Millisecond)
				}
				url := "ws://" + srv.addrs[i%len(srv.addrs)] + "/"
				err := cli.DialAsync(url, nil, func(c *engine.Conn, err error) {
					if err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err)
						return
					}
					opened.Add(1)
				})
				if err != nil {
					t.Fatalf("dial %d: %v", i, err)
				}
			}
			for opened.Load()+failed.Load() < int64(n) {
				if time.Since(start) > 3*time.Minute {
					t.Fatalf("only %d of %d connections done", opened.Load()+failed.Load(), n)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if f := failed.Load(); f > 0 {
				t.Fatalf("%d of %d connections failed; first: %v", f, n, firstErr.Load())
			}
			var after idleSample
			for deadline := time.Now().Add(20 * time.Second); ; {
				after = srv.meminfo(t)
				if after.conns == int64(n) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the server counts %d connections, want %d", after.conns, n)
				}
				time.Sleep(100 * time.Millisecond)
			}
			// The steady state is the smallest of a few samples: each one
			// collects garbage and shrinks stacks again, and a sample taken
			// while the machine is busy can catch pages not yet returned.
			for i := 0; i < 3; i++ {
				time.Sleep(200 * time.Millisecond)
				if s := srv.meminfo(t); s.conns == int64(n) && s.rss < after.rss {
					after = s
				}
			}
			rssPer := float64(after.rss-before.rss) / float64(n) / 1024
			heapPer := float64(after.heap-before.heap) / float64(n) / 1024
			stackPer := float64(after.stack-before.stack) / float64(n) / 1024
			t.Logf("%s: %d idle connections (opened in %v): server RSS %.2f -> %.2f MiB, %.3f KiB per connection (heap %.3f KiB, stacks %.3f KiB); goroutines %d -> %d",
				tc.mode, n, time.Since(start).Round(time.Millisecond), float64(before.rss)/(1<<20), float64(after.rss)/(1<<20),
				rssPer, heapPer, stackPer, before.goroutines, after.goroutines)
			if path := os.Getenv("LULL_IDLE_HEAPPROFILE"); path != "" {
				io.WriteString(srv.in, "heapprofile "+path+"."+tc.mode+"\n")
				if line, err := srv.readLine(30 * time.Second); err != nil || line != "heapprofile done" {
					t.Errorf("heap profile: %q, %v", line, err)
				}
			}
			measured[tc.mode] = rssPer
			if floor, ok := measured["hijack"]; ok && tc.mode == "handler" && rssPer-floor > handlerOverHijack {
				t.Errorf("handler: %.3f KiB of resident memory per idle connection, %.3f more than net/http's own %.3f (hijack); want at most %.2f more",
					rssPer, rssPer-floor, floor, handlerOverHijack)
			}
			bound := tc.bound
			if n < 15000 {
				// Fewer connections share the server's fixed growth (the
				// runtime's tables, arenas and GC metadata, a few hundred
				// KiB to 1.5 MiB) among them: at -short's 2,000 it adds up
				// to 0.4-0.75 KiB per connection. The bounds hold
				// at 15,000.
				bound += 1500.0 / float64(n)
			}
			if rssPer > bound {
				t.Errorf("%s: %.3f KiB of resident memory per idle connection, want at most %.2f", tc.mode, rssPer, bound)
			}
			if tc.mode == "evented" && after.goroutines > before.goroutines+2 {
				t.Errorf("evented: server goroutines grew from %d to %d with %d connections", before.goroutines, after.goroutines, n)
			}
		})
	}
}

// handlerOverHijack is how much more than the hijack floor, in KiB per
// idle connection, the handler style may cost: compat's Conn is 0.25 KiB of
// it, and 0.1-0.25 KiB is measured in all.
const handlerOverHijack = 0.5

type idleSample struct {
	conns, heap, stack, rss, goroutines int64
}

type idleServer struct {
	cmd   *exec.Cmd
	addrs []string
	in    io.WriteCloser
	out   *bufio.Reader
}

func buildIdleServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "idleserver")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	if out, err := exec.Command(goTool, "build", "-o", bin, "./internal/idleserver").CombinedOutput(); err != nil {
		t.Fatalf("building internal/idleserver: %v\n%s", err, out)
	}
	return bin
}

// startIdleServer starts the server and ends it (by PID) when the test
// ends.
func startIdleServer(t *testing.T, bin, mode, addrs string) *idleServer {
	t.Helper()
	cmd := exec.Command(bin, "-addr", addrs, "-mode", mode)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &idleServer{cmd: cmd, in: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { io.Copy(io.Discard, p.out); cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	for range strings.Split(addrs, ",") {
		line, err := p.readLine(10 * time.Second)
		if err != nil || !strings.HasPrefix(line, "listening on ") {
			cmd.Process.Kill()
			t.Fatalf("idle server said %q, %v", line, err)
		}
		p.addrs = append(p.addrs, strings.TrimPrefix(line, "listening on "))
	}
	return p
}

func (p *idleServer) readLine(d time.Duration) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := p.out.ReadString('\n')
		ch <- result{strings.TrimSpace(line), err}
	}()
	select {
	case r := <-ch:
		return r.line, r.err
	case <-time.After(d):
		p.cmd.Process.Kill()
		r := <-ch
		return r.line, fmt.Errorf("no answer from the idle server within %v", d)
	}
}

func (p *idleServer) meminfo(t *testing.T) idleSample {
	t.Helper()
	if _, err := io.WriteString(p.in, "meminfo\n"); err != nil {
		t.Fatalf("asking for meminfo: %v", err)
	}
	line, err := p.readLine(30 * time.Second)
	if err != nil {
		t.Fatalf("reading meminfo: %v", err)
	}
	var s idleSample
	if _, err := fmt.Sscanf(line, "meminfo conns=%d heap_inuse=%d stack_inuse=%d rss=%d goroutines=%d",
		&s.conns, &s.heap, &s.stack, &s.rss, &s.goroutines); err != nil {
		t.Fatalf("parsing %q: %v", line, err)
	}
	return s
}
