// Command nethttp is no WebSocket library at all: what net/http alone
// costs per idle connection when a handler keeps its goroutine, as gorilla's
// echo example does. The handler hijacks the connection, lets net/http's
// buffers go (as lull's compat does), answers the opening handshake itself
// and blocks in the connection's Read. Any library served from that
// goroutine costs at least this much; the runner measures only its idle
// memory. It echoes nothing: the first byte a client sends ends the
// connection.
//
//	go run ./servers/nethttp -addr 127.0.0.1:9002
package main

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"flag"
	"net/http"

	"github.com/lullws/lull/bench/internal/serve"
)

// acceptGUID is RFC 6455's fixed GUID for Sec-WebSocket-Accept.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func hijack(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if key == "" {
		http.Error(w, "not a WebSocket handshake", http.StatusBadRequest)
		return
	}
	nc, brw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer nc.Close()
	*brw.Reader = bufio.Reader{}
	*brw.Writer = bufio.Writer{}
	sum := sha1.Sum([]byte(key + acceptGUID))
	head := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n"
	if _, err := nc.Write([]byte(head)); err != nil {
		return
	}
	serve.Conns.Add(1)
	defer serve.Conns.Add(-1)
	var b [1]byte
	nc.Read(b[:])
}

func main() {
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("/", hijack)
	serve.HTTP(mux)
}
