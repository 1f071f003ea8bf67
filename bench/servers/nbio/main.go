// Command nbio is an echo server on lesismal/nbio v1.6.9 in the
// non-blocking mode its README recommends for many connections: nbhttp's
// event-loop HTTP server (IOModNonBlocking) with a websocket.Upgrader whose
// OnMessage writes the message back, and payloads released to nbio's pool
// after each call (ReleaseWebsocketPayload).
//
//	go run ./servers/nbio -addr 127.0.0.1:9005
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
	"github.com/lullws/lull/bench/internal/serve"
)

func newUpgrader() *websocket.Upgrader {
	u := websocket.NewUpgrader()
	u.CheckOrigin = func(*http.Request) bool { return true }
	u.OnOpen(func(*websocket.Conn) { serve.Conns.Add(1) })
	u.OnClose(func(*websocket.Conn, error) { serve.Conns.Add(-1) })
	u.OnMessage(func(c *websocket.Conn, mt websocket.MessageType, data []byte) {
		c.WriteMessage(mt, data)
	})
	return u
}

func main() {
	flag.Parse()
	upgrader := newUpgrader()
	mux := &http.ServeMux{}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		upgrader.Upgrade(w, r, nil)
	})
	engine := nbhttp.NewEngine(nbhttp.Config{
		Network:                 "tcp",
		Addrs:                   serve.Addrs(),
		Handler:                 mux,
		IOMod:                   nbhttp.IOModNonBlocking,
		ReleaseWebsocketPayload: true,
	})
	if err := engine.Start(); err != nil {
		log.Fatal(err)
	}
	for _, a := range serve.Addrs() {
		serve.Ready(a)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	<-stop
	engine.Stop()
}
