// Command gorilla is an echo server on gorilla/websocket v1.5.3, written the
// way gorilla documents it (its examples/echo): a net/http server, an
// Upgrader, and one goroutine per connection that calls ReadMessage and
// WriteMessage in a loop.
//
//	go run ./servers/gorilla -addr 127.0.0.1:9002
//
// It prints "listening on ADDR" once per address when ready, like lull's
// examples/echo, so that the benchmark driver treats both alike.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"

	"github.com/gorilla/websocket"
)

var upgrader = websocket.Upgrader{
	CheckOrigin: func(*http.Request) bool { return true },
}

var readLimit = flag.Int64("read-limit", 0, "largest message accepted, in `bytes` (0: no limit, gorilla's default)")

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	if *readLimit > 0 {
		c.SetReadLimit(*readLimit)
	}
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
	addrs := flag.String("addr", "127.0.0.1:9002", "comma-separated `addresses` to listen on")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("/", echo)
	var lns []net.Listener
	for _, a := range strings.Split(*addrs, ",") {
		ln, err := net.Listen("tcp", strings.TrimSpace(a))
		if err != nil {
			log.Fatal(err)
		}
		lns = append(lns, ln)
		fmt.Printf("listening on %s\n", ln.Addr())
	}
	errc := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errc <- http.Serve(ln, mux) }()
	}
	log.Fatal(<-errc)
}
