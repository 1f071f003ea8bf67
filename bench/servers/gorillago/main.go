// Command gorillago is an echo server on gorilla/websocket v1.5.3 in the
// shape of gorilla's chat example (examples/chat): the HTTP handler
// upgrades, starts the connection's read loop in a goroutine of its own and
// returns, so that net/http lets go of the request. The runner measures its
// idle memory beside gorilla's echo-example shape (servers/gorilla), where
// the handler's goroutine reads.
//
//	go run ./servers/gorillago -addr 127.0.0.1:9002
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

func serveWs(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	serve.Conns.Add(1)
	go echo(c)
}

func echo(c *websocket.Conn) {
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
	mux.HandleFunc("/", serveWs)
	serve.HTTP(mux)
}
