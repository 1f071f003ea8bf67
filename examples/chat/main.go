// Command chat is a chat room in the browser, on lull's compat package
// (gorilla/websocket's API): every message one page sends is shown on every
// page connected.
//
//	go run ./examples/chat -addr 127.0.0.1:8080
//
// then open http://127.0.0.1:8080/ in two windows. The server prints
// "listening on ADDR" when ready.
//
// One goroutine, the room, owns the set of members and passes every
// message to each of them (room.go). Each member has a reading goroutine,
// which hands the page's messages to the room, and a writing goroutine,
// which sends the room's messages to the page and pings it so that dead
// connections are noticed (member.go). A member too slow to keep up is
// dropped rather than allowed to hold the room back.
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
)

//go:embed home.html
var homePage []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "`address` to listen on")
	flag.Parse()
	room := newRoom()
	go room.run()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, newMux(room)))
}

func newMux(room *room) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(homePage)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) { join(room, w, r) })
	return mux
}
