// Command coder is an echo server on coder/websocket v1.8.15 as its README
// writes one: websocket.Accept in a net/http handler, then Read and Write
// in a loop on the handler's goroutine. (Its examples/echo streams each
// message through Reader, Writer and io.Copy instead, which measured at
// less than half the round trips per second here, so the faster documented
// way is used.)
//
//	go run ./servers/coder -addr 127.0.0.1:9006
package main

import (
	"context"
	"flag"
	"log"
	"net/http"

	"github.com/coder/websocket"
	"github.com/lullws/lull/bench/internal/serve"
)

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	serve.Conns.Add(1)
	defer serve.Conns.Add(-1)
	defer c.CloseNow()
	ctx := context.Background()
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, b); err != nil {
			return
		}
	}
}

func main() {
	flag.Parse()
	lns := serve.Listen()
	errc := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errc <- http.Serve(ln, http.HandlerFunc(echo)) }()
	}
	log.Fatal(<-errc)
}
