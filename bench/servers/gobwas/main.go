// Command gobwas is an echo server on gobwas/ws v1.5.0 in the style its
// README shows for a plain server: a TCP listener, the zero-copy ws.Upgrade
// on the raw connection, and one goroutine per connection reading with
// wsutil.ReadClientData and answering with wsutil.WriteServerMessage.
//
//	go run ./servers/gobwas -addr 127.0.0.1:9003
package main

import (
	"flag"
	"log"
	"net"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/lullws/lull/bench/internal/serve"
)

func handle(conn net.Conn) {
	defer conn.Close()
	if _, err := ws.Upgrade(conn); err != nil {
		return
	}
	serve.Conns.Add(1)
	defer serve.Conns.Add(-1)
	for {
		msg, op, err := wsutil.ReadClientData(conn)
		if err != nil {
			return
		}
		if err := wsutil.WriteServerMessage(conn, op, msg); err != nil {
			return
		}
	}
}

func main() {
	flag.Parse()
	lns := serve.Listen()
	errc := make(chan error, len(lns))
	for _, ln := range lns {
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					errc <- err
					return
				}
				go handle(conn)
			}
		}()
	}
	log.Fatal(<-errc)
}
