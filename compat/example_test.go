package websocket_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	websocket "github.com/lullws/lull/compat"
)

// An echo server in the usual style: one goroutine per connection reading
// with ReadMessage, and a client that dials it.
func Example() {
	upgrader := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered the client
		}
		go func() {
			defer c.Close()
			for {
				mt, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				if err := c.WriteMessage(mt, p); err != nil {
					return
				}
			}
		}()
	}))
	defer srv.Close()

	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	_, p, err := c.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", p)
	// Output: hello
}

// The same server in the evented style: no goroutine waits for the
// connection's messages, which are handed to OnMessage by lull's event
// loops.
func ExampleUpgrader_UpgradeEvented() {
	upgrader := websocket.Upgrader{}
	events := websocket.Events{
		OnMessage: func(c *websocket.Conn, mt int, data []byte) {
			c.WriteMessage(mt, data) // writes never wait for the peer here
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upgrader.UpgradeEvented(w, r, nil, events)
	}))
	defer srv.Close()

	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.WriteMessage(websocket.BinaryMessage, []byte("evented"))
	_, p, err := c.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", p)
	// Output: evented
}

// A close message from the peer comes back from the read methods as a
// *CloseError; IsUnexpectedCloseError tells a normal end from others.
func ExampleIsUnexpectedCloseError() {
	upgrader := websocket.Upgrader{}
	serverErr := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_, _, err = c.ReadMessage()
		serverErr <- err
	}))
	defer srv.Close()

	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye"))
	err = <-serverErr
	fmt.Println("server:", err)
	fmt.Println("unexpected:", websocket.IsUnexpectedCloseError(err, websocket.CloseGoingAway, websocket.CloseNormalClosure))
	_, _, err = c.ReadMessage() // the server's close reply
	fmt.Println("client:", err)
	// Output:
	// server: websocket: close 1001 (going away): bye
	// unexpected: false
	// client: websocket: close 1001 (going away)
}

// WriteControl may be called from any goroutine, for instance to ping the
// peer while another goroutine writes messages.
func ExampleConn_WriteControl() {
	upgrader := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.ReadMessage() // answers pings with pongs while it waits
	}))
	defer srv.Close()

	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	pong := make(chan string, 1)
	c.SetPongHandler(func(data string) error { pong <- data; return nil })
	go c.ReadMessage() // handlers run inside the read methods
	if err := c.WriteControl(websocket.PingMessage, []byte("are you there?"), time.Now().Add(time.Second)); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-pong)
	// Output: are you there?
}
