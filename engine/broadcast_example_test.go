package engine_test

import (
	"context"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// A server that pushes one message to all its clients: the message is
// framed once by NewPrepared and the same bytes go to every connection
// (compressed once per level, for the connections that negotiated
// permessage-deflate). Broadcast is safe from any goroutine; a
// connection that has closed or whose queue is full counts as failed and
// does not hold up the others.
func ExampleBroadcast() {
	var mu sync.Mutex
	var conns []*engine.Conn
	opened := make(chan struct{}, 3)
	srv, err := engine.New(engine.Config{
		Upgrade: upgrade.Server{CheckOrigin: func(*upgrade.Request) bool { return true }},
		OnOpen: func(c *engine.Conn) {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			opened <- struct{}{}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	addr, err := srv.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}

	// Three clients to receive it.
	got := make(chan string, 3)
	cli, err := engine.New(engine.Config{
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) { got <- string(data) },
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 3 {
		if _, err := cli.Dial(ctx, "ws://"+addr.String()+"/", nil); err != nil {
			log.Fatal(err)
		}
		<-opened
	}

	pm, err := engine.NewPrepared(frame.OpText, []byte("tick 1"))
	if err != nil {
		log.Fatal(err)
	}
	mu.Lock()
	failed := engine.Broadcast(conns, pm)
	mu.Unlock()
	fmt.Println("failed:", failed)
	for range 3 {
		fmt.Println(<-got)
	}

	cli.Shutdown(ctx)
	srv.Shutdown(ctx)
	// Output:
	// failed: 0
	// tick 1
	// tick 1
	// tick 1
}
