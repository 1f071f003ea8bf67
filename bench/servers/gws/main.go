// Command gws is an echo server on lxzan/gws v1.8.9 as its README's quick
// start builds one: gws.NewServer with an event handler whose OnMessage
// writes the message back and releases it (message.Close), one goroutine
// per connection driving gws's read loop.
//
//	go run ./servers/gws -addr 127.0.0.1:9004
package main

import (
	"flag"
	"log"

	"github.com/lullws/lull/bench/internal/serve"
	"github.com/lxzan/gws"
)

type handler struct{ gws.BuiltinEventHandler }

func (handler) OnOpen(*gws.Conn) { serve.Conns.Add(1) }

func (handler) OnClose(*gws.Conn, error) { serve.Conns.Add(-1) }

func (handler) OnMessage(socket *gws.Conn, message *gws.Message) {
	defer message.Close()
	socket.WriteMessage(message.Opcode, message.Bytes())
}

func main() {
	flag.Parse()
	srv := gws.NewServer(handler{}, nil)
	lns := serve.Listen()
	errc := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errc <- srv.RunListener(ln) }()
	}
	log.Fatal(<-errc)
}
