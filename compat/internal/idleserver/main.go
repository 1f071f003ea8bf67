// Command idleserver is the server of compat's idle-memory test: a compat
// echo server in one of three styles, which reports its memory on request.
//
//	idleserver -addr 127.0.0.1:0,127.0.0.2:0 -mode blocking|handler|evented|hijack
//
// It prints "listening on ADDR" for each address, then answers each
// "meminfo" line on standard input, after a GC, with
//
//	meminfo conns=N heap_inuse=B stack_inuse=B rss=B goroutines=N
//
// and exits at the end of its input. In blocking mode each connection has
// a goroutine blocked in ReadMessage, as gorilla/websocket servers are
// usually written (in handler mode, in the HTTP handler's own goroutine,
// as gorilla's echo example does); in evented mode the connection is handed to
// ServeEvents and has none. hijack mode uses no WebSocket library at all:
// the handler answers the handshake itself on the hijacked connection and
// blocks in its Read, which is the least any library reading in the HTTP
// handler's goroutine can cost (net/http's goroutine, its request and
// connection state, the net.Conn).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"

	websocket "github.com/lullws/lull/compat"
	"github.com/lullws/lull/upgrade"
)

var conns atomic.Int64

func main() {
	addrs := flag.String("addr", "127.0.0.1:0", "comma-separated listen addresses")
	mode := flag.String("mode", "blocking", "blocking (a goroutine per connection in ReadMessage), handler (the same, reading in the HTTP handler's goroutine), evented (ServeEvents) or hijack (no library: the handler blocks in the hijacked connection's Read)")
	flag.Parse()

	u := &websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	var handler http.HandlerFunc
	switch *mode {
	case "blocking":
		handler = func(w http.ResponseWriter, r *http.Request) {
			c, err := u.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Add(-1)
				defer c.Close()
				for {
					mt, p, err := c.ReadMessage()
					if err != nil {
						return
					}
					if err := c.WriteMessage(mt, p); err != nil {
						return
					}
				}
			}()
		}
	case "handler":
		handler = func(w http.ResponseWriter, r *http.Request) {
			c, err := u.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			conns.Add(1)
			defer conns.Add(-1)
			defer c.Close()
			for {
				mt, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				if err := c.WriteMessage(mt, p); err != nil {
					return
				}
			}
		}
	case "evented":
		events := websocket.Events{
			OnMessage: func(c *websocket.Conn, mt int, data []byte) { c.WriteMessage(mt, data) },
			OnClose:   func(c *websocket.Conn, err error) { conns.Add(-1) },
		}
		handler = func(w http.ResponseWriter, r *http.Request) {
			if _, err := u.UpgradeEvented(w, r, nil, events); err == nil {
				conns.Add(1)
			}
		}
	case "hijack":
		handler = func(w http.ResponseWriter, r *http.Request) {
			nc, brw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer nc.Close()
			// As compat's Upgrade does: net/http's hijacked buffers go.
			*brw.Reader = bufio.Reader{}
			*brw.Writer = bufio.Writer{}
			var accept [28]byte
			upgrade.ComputeAccept(&accept, []byte(r.Header.Get("Sec-Websocket-Key")))
			head := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
				string(accept[:]) + "\r\n\r\n"
			if _, err := nc.Write([]byte(head)); err != nil {
				return
			}
			conns.Add(1)
			defer conns.Add(-1)
			var b [1]byte
			nc.Read(b[:]) // until the peer sends something or goes
		}
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}
	for _, a := range strings.Split(*addrs, ",") {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("listening on", ln.Addr())
		srv := &http.Server{Handler: handler}
		go srv.Serve(ln)
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if path, ok := strings.CutPrefix(in.Text(), "heapprofile "); ok {
			f, err := os.Create(path)
			if err == nil {
				runtime.GC()
				pprof.WriteHeapProfile(f)
				f.Close()
			}
			fmt.Println("heapprofile done")
		}
		if in.Text() == "meminfo" {
			// Stacks shrink by half per GC while less than a quarter is
			// in use: a few cycles bring parked goroutines down to size.
			for i := 0; i < 3; i++ {
				runtime.GC()
			}
			debug.FreeOSMemory()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Printf("meminfo conns=%d heap_inuse=%d stack_inuse=%d rss=%d goroutines=%d\n",
				conns.Load(), ms.HeapInuse, ms.StackInuse, rss(), runtime.NumGoroutine())
		}
	}
}

// rss returns the process's resident set size in bytes, from /proc.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
