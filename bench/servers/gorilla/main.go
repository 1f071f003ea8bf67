// Command gorilla is an echo server on gorilla/websocket v1.5.3, written the
// way gorilla documents it (its examples/echo): a net/http server, an
// Upgrader, and one goroutine per connection that calls ReadMessage and
// WriteMessage in a loop.
//
//	go run ./servers/gorilla -addr 127.0.0.1:9002
package main

import (
	"flag"
	"net/http"

	"github.com/gorilla/websocket"
	"github.com/lullws/lull/bench/internal/serve"
)

var upgrader = websocket.Upgrader{
	CheckOrigin: func(*http.Request) bool { return true },
}

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	serve.Conns.Add(1)
	defer serve.Conns.Add(-1)
	defer c.Close()
	for {
		mt, message, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(mt, message); err != nil {
			return
		}
	}
}

func main() {
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("/", echo)
	serve.HTTP(mux)
}
