// Package serve holds what the benchmark's echo servers share, so that
// each server's file shows only its library's documented echo loop: the
// -addr and -meminfo flags, the "listening on ADDR" line the runner waits
// for, and the answers to "meminfo" requests on standard input, in the
// format of lull's examples/echo:
//
//	meminfo conns=N heap_inuse=B stack_inuse=B rss=B goroutines=N
//
// taken after runtime.GC and debug.FreeOSMemory, so that the runner can
// measure what an idle connection costs each server.
package serve

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
	"strings"
	"sync/atomic"
)

var (
	addrs   = flag.String("addr", "127.0.0.1:9002", "comma-separated `addresses` to listen on")
	memInfo = flag.Bool("meminfo", false, "answer each \"meminfo\" line on standard input with the memory in use after a GC; end of input stops the server")
)

// Conns counts open connections; servers add 1 when a connection opens and
// subtract 1 when it closes.
var Conns atomic.Int64

// Addrs returns the -addr list. Call after flag.Parse.
func Addrs() []string {
	var out []string
	for _, a := range strings.Split(*addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Listen opens a TCP listener on each -addr and prints "listening on ADDR"
// for each. It exits the program on error. Call after flag.Parse.
func Listen() []net.Listener {
	var lns []net.Listener
	for _, a := range Addrs() {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			log.Fatal(err)
		}
		lns = append(lns, ln)
	}
	for _, ln := range lns {
		Ready(ln.Addr().String())
	}
	return lns
}

// HTTP serves h with net/http on every -addr listener and exits the
// program when one of them fails. Call after flag.Parse.
func HTTP(h http.Handler) {
	lns := Listen()
	errc := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errc <- http.Serve(ln, h) }()
	}
	log.Fatal(<-errc)
}

// Ready prints the line the runner waits for, and starts answering
// "meminfo" on standard input if -meminfo is set.
func Ready(addr string) {
	fmt.Printf("listening on %s\n", addr)
	if *memInfo && !started.Swap(true) {
		go answer()
	}
}

var started atomic.Bool

func answer() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if strings.TrimSpace(in.Text()) == "meminfo" {
			runtime.GC()
			debug.FreeOSMemory()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Printf("meminfo conns=%d heap_inuse=%d stack_inuse=%d rss=%d goroutines=%d\n",
				Conns.Load(), ms.HeapInuse, ms.StackInuse, rss(), runtime.NumGoroutine())
		}
	}
	os.Exit(0) // the runner is gone
}

func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	var size, resident int64
	fmt.Sscan(string(b), &size, &resident)
	return resident * int64(os.Getpagesize())
}
