// Command compat is gorilla's echo server (servers/gorilla) with one line
// changed: the import of github.com/gorilla/websocket becomes lull's
// drop-in github.com/lullws/lull/compat: the blocking, goroutine-per-
// connection style that gorilla's users have today.
//
//	go run ./servers/compat -addr 127.0.0.1:9008
package main

import (
	"flag"
	"net/http"

	"github.com/lullws/lull/bench/internal/serve"
	websocket "github.com/lullws/lull/compat"
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
