// Command autobahn-engine-client drives an Autobahn-style fuzzing server
// (Autobahn's own wstest -m fuzzingserver, or cmd/wsconform -client) with
// lull's engine client: it asks for the number of cases, runs each one on
// a connection of its own, echoing every message with its type, and asks
// the server to update its reports.
//
//	go run ./cmd/wsconform -client 127.0.0.1:9002 &
//	go run ./examples/autobahn-engine-client -url ws://127.0.0.1:9002 -agent lull-engine
//
// With -deflate it offers permessage-deflate twice: first letting both
// sides keep their compression context, then with client_no_context_takeover,
// both with client_max_window_bits (the engine keeps to any window the
// server asks for), so that every case of groups 12 and 13 can run.
//
// Cases run one at a time. It exits with status 1 if a connection cannot
// be made.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

func main() {
	base := flag.String("url", "ws://127.0.0.1:9001", "the fuzzing server's `URL`")
	agent := flag.String("agent", "lull-engine", "the agent name the reports use")
	caseTimeout := flag.Duration("case-timeout", 10*time.Minute, "give up on a case after this long")
	deflate := flag.Bool("deflate", false, "offer permessage-deflate")
	flag.Parse()

	var opts engine.DialOptions
	var comp engine.Compression
	if *deflate {
		opts.Deflate = []upgrade.DeflateParams{{ClientMaxWindowBits: 15}, {ClientNoContextTakeover: true, ClientMaxWindowBits: 15}}
		comp = engine.Compression{Threshold: -1, ContextTakeover: true}
	}

	var counting atomic.Bool // the open connection is /getCaseCount's
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
		log.Fatal(err)
	}
	defer e.Close()

	run := func(path string) {
		ctx, cancel := context.WithTimeout(context.Background(), *caseTimeout)
		defer cancel()
		if _, err := e.Dial(ctx, *base+path, &opts); err != nil {
			log.Fatalf("%s: %v", path, err)
		}
		select {
		case <-closed:
		case <-ctx.Done():
			log.Fatalf("%s: the server did not end the connection within %v", path, *caseTimeout)
		}
	}

	counting.Store(true)
	run("/getCaseCount")
	counting.Store(false)
	var n int
	s, _ := count.Load().(string)
	if _, err := fmt.Sscan(s, &n); err != nil {
		log.Fatalf("case count %q: %v", s, err)
	}
	a := url.QueryEscape(*agent)
	for i := 1; i <= n; i++ {
		run(fmt.Sprintf("/runCase?case=%d&agent=%s", i, a))
	}
	run("/updateReports?agent=" + a)
	fmt.Printf("ran %d cases\n", n)
}
