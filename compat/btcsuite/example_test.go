package websocket_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	websocket "github.com/lullws/lull/compat/btcsuite"
)

// A btcd-style server and client: the handler upgrades with the package
// function and writes its own error response; it answers one message and
// then closes normally, which the client sees as io.EOF.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Upgrade(w, r, nil, 0, 0)
		if _, ok := err.(websocket.HandshakeError); ok {
			http.Error(w, "400 Bad Request.", http.StatusBadRequest)
			return
		} else if err != nil {
			return
		}
		defer conn.Close()
		mt, p, err := conn.ReadMessage()
		if err != nil {
			return
		}
		conn.WriteMessage(mt, []byte(strings.ToUpper(string(p))))
		conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		conn.ReadMessage() // until the client's close reply
	}))
	defer srv.Close()

	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	conn.WriteMessage(websocket.TextMessage, []byte("hello"))
	_, p, _ := conn.ReadMessage()
	fmt.Println(string(p))
	_, _, err = conn.ReadMessage()
	fmt.Println(err == io.EOF)
	// Output:
	// HELLO
	// true
}

// Dial returns ErrBadHandshake together with the response, so that the
// caller can read the status.
func ExampleDialer_Dial_badHandshake() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "who are you?", http.StatusUnauthorized)
	}))
	defer srv.Close()

	_, resp, err := (&websocket.Dialer{}).Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err == websocket.ErrBadHandshake && resp != nil {
		fmt.Println(resp.StatusCode)
	}
	// Output: 401
}

// A server whose Upgrader accepts every origin and echoes each message with
// NextReader, NextWriter and io.Copy.
func ExampleUpgrader() {
	upgrader := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	http.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered with an HTTP error
		}
		defer conn.Close()
		for {
			mt, r, err := conn.NextReader()
			if err != nil {
				return // io.EOF: the peer closed normally
			}
			w, err := conn.NextWriter(mt)
			if err != nil {
				return
			}
			if _, err := io.Copy(w, r); err != nil {
				return
			}
			if err := w.Close(); err != nil {
				return
			}
		}
	})
}
