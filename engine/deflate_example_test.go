package engine_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// An echo server with permessage-deflate: the zero DeflatePolicy accepts
// the offers compress/flate can honour, without context takeover, so
// nothing is kept per connection between messages. The client offers
// engine.DeflateOffer.
func Example_compression() {
	srv, err := engine.New(engine.Config{
		Upgrade: upgrade.Server{
			CheckOrigin: func(*upgrade.Request) bool { return true },
			Deflate:     &upgrade.DeflatePolicy{},
		},
		Compression:    engine.Compression{Level: 1, Threshold: 128},
		MaxMessageSize: 1 << 20, // of the inflated message
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) {
			c.WriteMessage(op, data) // compressed: 128 bytes or more
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	addr, err := srv.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}

	got := make(chan int, 1)
	cli, err := engine.New(engine.Config{
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) { got <- len(data) },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := cli.Dial(ctx, "ws://"+addr.String()+"/", &engine.DialOptions{Deflate: engine.DeflateOffer})
	if err != nil {
		log.Fatal(err)
	}
	c.WriteMessage(frame.OpText, []byte(strings.Repeat("hello, compressed world. ", 100)))
	fmt.Println(c.Compressed(), <-got)
	s := srv.Stats()
	fmt.Println(s.CompressedIn, s.CompressedOut)
	// Output:
	// true 2500
	// 1 1
}
