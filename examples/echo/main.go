// Command echo is a WebSocket echo server on lull's engine: every message a
// client sends comes back to it unchanged.
//
//	go run ./examples/echo -addr 127.0.0.1:9001
//
// -addr takes a comma-separated list of addresses and listens on each,
// printing "listening on ADDR" once per address when ready. SIGINT or
// SIGTERM shuts it down gracefully (close 1001 to every client).
//
// -deflate accepts permessage-deflate (RFC 7692) from clients that offer
// it, without context takeover (the default policy: nothing is kept per
// connection between messages); -deflate-level and -deflate-threshold set
// the level of the echoes and the size under which they are sent
// uncompressed; -deflate-takeover lets both sides keep their compression
// context, at a cost per connection (see engine.Compression).
//
// With -meminfo, each line "meminfo" read from standard input makes the
// server collect garbage and answer with one line on standard output:
//
//	meminfo conns=N heap_inuse=B stack_inuse=B rss=B goroutines=N
//
// which is how the idle-memory test and the benchmarks measure what a
// connection costs. rss is -1 where /proc/self/statm does not exist. A
// line "heapprofile FILE" writes a heap profile (after a GC) to FILE and
// answers "heapprofile done" or "heapprofile error: ...".
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

func main() {
	addrs := flag.String("addr", "127.0.0.1:9001", "comma-separated `addresses` to listen on")
	readLimit := flag.Int64("read-limit", 0, "largest message accepted, in `bytes` (0: the engine's default, 64 MiB; -1: no limit)")
	loops := flag.Int("loops", 0, "event loops (0: GOMAXPROCS)")
	reusePort := flag.Bool("reuseport", false, "one listening socket per loop (SO_REUSEPORT)")
	memInfo := flag.Bool("meminfo", false, "answer each \"meminfo\" line on standard input with the memory in use after a GC")
	deflate := flag.Bool("deflate", false, "accept permessage-deflate")
	deflateLevel := flag.Int("deflate-level", engine.DefaultCompressionLevel, "compression `level` of the echoes, -2 (Huffman only) to 9")
	deflateThreshold := flag.Int("deflate-threshold", engine.DefaultCompressionThreshold, "echoes shorter than this many `bytes` are sent uncompressed (-1: compress all)")
	deflateTakeover := flag.Bool("deflate-takeover", false, "with -deflate, let both sides keep their compression context between messages (costs memory per connection)")
	flag.Parse()
	if !frame.ValidCompressionLevel(*deflateLevel) {
		log.Fatalf("-deflate-level %d: want -2 to 9", *deflateLevel)
	}

	cfg := engine.Config{
		Loops:          *loops,
		ReusePort:      *reusePort,
		MaxMessageSize: *readLimit,
		Upgrade:        upgrade.Server{CheckOrigin: func(*upgrade.Request) bool { return true }},
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) {
			c.WriteMessage(op, data)
		},
	}
	if *deflate {
		cfg.Upgrade.Deflate = &upgrade.DeflatePolicy{
			ServerContextTakeover: *deflateTakeover,
			ClientContextTakeover: *deflateTakeover,
		}
		cfg.Compression = engine.Compression{Threshold: *deflateThreshold, ContextTakeover: *deflateTakeover}
		if *deflateThreshold == 0 {
			cfg.Compression.Threshold = 1 // 0 would mean the default
		}
		if *deflateLevel != 0 {
			cfg.Compression.Level = *deflateLevel
		} else {
			// Level 0 (stored blocks) is set per connection: the
			// Config's zero means the default.
			cfg.OnOpen = func(c *engine.Conn) { c.SetCompressionLevel(0) }
		}
	}
	e, err := engine.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range strings.Split(*addrs, ",") {
		bound, err := e.Listen("tcp", strings.TrimSpace(a))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("listening on %s\n", bound)
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	if *memInfo {
		go answerMemInfo(e, stop)
	}
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		log.Printf("shutdown: %v", err)
	}
	fmt.Println(e.Stats())
}

// answerMemInfo serves "meminfo" requests from standard input. End of
// input stops the server, so that a parent that dies takes it along.
func answerMemInfo(e *engine.Engine, stop chan<- os.Signal) {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(in.Text()), " ")
		switch cmd {
		case "meminfo":
			printMemory(e)
		case "heapprofile":
			if err := writeHeapProfile(arg); err != nil {
				fmt.Println("heapprofile error:", err)
			} else {
				fmt.Println("heapprofile done")
			}
		}
	}
	stop <- os.Interrupt
}

// printMemory reports the process's memory after a full GC, so that a load
// generator can measure the cost of idle connections.
func printMemory(e *engine.Engine) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("meminfo conns=%d heap_inuse=%d stack_inuse=%d rss=%d goroutines=%d\n",
		e.Stats().Open, ms.HeapInuse, ms.StackInuse, rss(), runtime.NumGoroutine())
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
