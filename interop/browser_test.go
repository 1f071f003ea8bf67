package interop

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	compat "github.com/lullws/lull/compat"
	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

var chromiumPath = flag.String("chromium", "/usr/bin/chromium", "the Chromium `binary` for TestChromium (Debian's package chromium)")

// browserPage opens a WebSocket to the page's server, echoes a short text,
// 1 MiB of text and 1 MiB of binary, closes with 1000 and posts what it
// saw to /result.
const browserPage = `<!doctype html>
<meta charset="utf-8">
<title>lull interop</title>
<script>
const result = {steps: []};
function report() {
  fetch('/result', {method: 'POST', body: JSON.stringify(result)});
}
function bytesOf(n, seed) {
  const b = new Uint8Array(n);
  let x = (seed * 2654435761 + 1) >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}
const short = 'hello, lull: é€😀';
const bigText = 'aé€😀'.repeat((1 << 20) / 10) + 'z'.repeat((1 << 20) % 10);
const bigBinary = bytesOf(1 << 20, 7);
const sends = [short, bigText, bigBinary];
let i = 0;
try {
  const ws = new WebSocket('ws://' + location.host + '/ws');
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => { result.extensions = ws.extensions; ws.send(sends[0]); };
  ws.onmessage = (ev) => {
    const want = sends[i];
    let ok;
    if (typeof want === 'string') {
      ok = typeof ev.data === 'string' && ev.data === want;
    } else {
      const got = ev.data instanceof ArrayBuffer ? new Uint8Array(ev.data) : null;
      ok = got !== null && got.length === want.length && got.every((v, k) => v === want[k]);
    }
    result.steps.push({index: i, ok: ok, size: typeof want === 'string' ? new TextEncoder().encode(want).length : want.length});
    i++;
    if (i < sends.length) ws.send(sends[i]);
    else ws.close(1000, 'done');
  };
  ws.onerror = () => { result.error = 'error event'; };
  ws.onclose = (ev) => {
    result.code = ev.code; result.reason = ev.reason; result.wasClean = ev.wasClean;
    report();
  };
} catch (e) {
  result.error = String(e);
  report();
}
</script>
`

type browserResult struct {
	Extensions string `json:"extensions"`
	Steps      []struct {
		Index int  `json:"index"`
		OK    bool `json:"ok"`
		Size  int  `json:"size"`
	} `json:"steps"`
	Code     int    `json:"code"`
	Reason   string `json:"reason"`
	WasClean bool   `json:"wasClean"`
	Error    string `json:"error"`
}

// TestChromium: headless Chromium loads a page from a net/http server whose
// /ws route upgrades with package upgrade and hands the connection to the
// engine (Adopt); the page echoes through lull and posts its verdict back.
//
// It runs without compression and with lull's default deflate policy
// (Chromium always offers permessage-deflate): negotiated or not as the
// server wants.
//
// With compat as the lull side, the /ws route is compat's Upgrader and the
// echo loop gorilla-style code, without and with compression.
func TestChromium(t *testing.T) {
	for _, ld := range append([]lullDeflate{lullNoDeflate}, lullDeflates...) {
		t.Run("engine/"+ld.name, func(t *testing.T) { testChromium(t, "engine", ld) })
	}
	t.Run("compat/off", func(t *testing.T) { testChromium(t, "compat", lullNoDeflate) })
	t.Run("compat/deflate", func(t *testing.T) { testChromium(t, "compat", lullDeflates[0]) })
}

func testChromium(t *testing.T, side string, ld lullDeflate) {
	record(t, matrixKey{"chromium", dirToLull, ld.name, side})
	if _, err := os.Stat(*chromiumPath); err != nil {
		t.Fatalf("Chromium not found (%v): apt-get install chromium, or point -chromium at it", err)
	}

	var mu sync.Mutex
	var offer string
	closes := make(chan closeEvent, 1)
	results := make(chan browserResult, 1)
	e, err := engine.New(engine.Config{
		Loops:       1,
		Compression: ld.comp,
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) {
			if err := c.WriteMessage(op, data); err != nil {
				c.Close(frame.CloseInternalError, err.Error())
			}
		},
		OnClose: func(c *engine.Conn, err error) { closes <- lullCloseEvent(err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	up := &upgrade.Server{Deflate: ld.policy} // same-origin page: the default origin policy applies
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, browserPage)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		offer = r.Header.Get("Sec-WebSocket-Extensions")
		mu.Unlock()
		if side == "compat" {
			up := compat.Upgrader{EnableCompression: ld.policy != nil}
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				t.Errorf("upgrade: %v", err)
				return
			}
			closes <- gorillaEcho(c, 0, compatCloseEvent)
			return
		}
		nc, rw, res, err := up.UpgradeHTTP(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		buffered, _ := rw.Reader.Peek(rw.Reader.Buffered())
		if _, err := e.Adopt(nc, buffered, res); err != nil {
			t.Errorf("adopt: %v", err)
		}
	})
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		var res browserResult
		if err := json.NewDecoder(r.Body).Decode(&res); err != nil {
			t.Errorf("result: %v", err)
		}
		select {
		case results <- res:
		default:
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	defer hs.Close()

	var out bytes.Buffer
	cmd := exec.Command(*chromiumPath, chromiumArgs(t.TempDir(), "http://"+ln.Addr().String()+"/")...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, led by its PID
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group of the PID we started
		cmd.Wait()
	}()

	var res browserResult
	select {
	case res = <-results:
	case <-time.After(waitLimit):
		t.Fatalf("no result from the page in %v; chromium said:\n%s", waitLimit, out.String())
	}
	t.Logf("chromium offered %q, negotiated %q; steps %+v; close %d %q clean %v",
		offer, res.Extensions, res.Steps, res.Code, res.Reason, res.WasClean)
	if res.Error != "" {
		t.Errorf("page: %s", res.Error)
	}
	if len(res.Steps) != 3 {
		t.Errorf("page got %d echoes, want 3", len(res.Steps))
	}
	for _, s := range res.Steps {
		if !s.OK {
			t.Errorf("echo %d (%d bytes) differs", s.Index, s.Size)
		}
	}
	if res.Code != 1000 || !res.WasClean {
		t.Errorf("page saw close %d, wasClean %v; want 1000, true", res.Code, res.WasClean)
	}
	mu.Lock()
	defer mu.Unlock()
	if !upgradeOffers(offer, "permessage-deflate") {
		t.Errorf("Chromium offered %q, expected permessage-deflate among the offers", offer)
	}
	switch {
	case ld.policy == nil && res.Extensions != "":
		t.Errorf("negotiated %q though this lull server has no extensions", res.Extensions)
	case ld.policy != nil && !strings.HasPrefix(res.Extensions, "permessage-deflate"):
		t.Errorf("negotiated %q, want permessage-deflate", res.Extensions)
	}
	select {
	case ev := <-closes:
		if ev.Code != 1000 || !ev.Clean {
			t.Errorf("lull server: close %d (clean %v), want 1000: %s", ev.Code, ev.Clean, ev.How)
		}
	case <-time.After(waitLimit):
		t.Errorf("lull server saw no end of the connection in %v", waitLimit)
	}
}

// chromiumArgs are the flags for headless Chromium on these machines: no
// sandbox as root, nothing that reaches for the network, a fresh profile.
func chromiumArgs(profile, url string) []string {
	args := []string{
		"--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile,
	}
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox")
	}
	return append(args, url)
}

func upgradeOffers(header, ext string) bool {
	for _, f := range bytes.Split([]byte(header), []byte(",")) {
		name, _, _ := bytes.Cut(f, []byte(";"))
		if string(bytes.TrimSpace(name)) == ext {
			return true
		}
	}
	return false
}
