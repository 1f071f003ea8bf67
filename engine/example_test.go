package engine_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// A WebSocket echo server: every message comes back to its sender. The
// handler runs on the connection's event loop, so it must not block; the
// payload is valid only during the call, and WriteMessage copies what the
// socket does not take at once.
func Example_server() {
	srv, err := engine.New(engine.Config{
		Upgrade: upgrade.Server{CheckOrigin: func(*upgrade.Request) bool { return true }},
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) {
			if err := c.WriteMessage(op, data); err == engine.ErrWriteQueueFull {
				c.Close(frame.ClosePolicyViolation, "read your messages")
			}
		},
	})
	if err != nil {
		log.Fatal(err) // poller.ErrNotSupported on systems without epoll or kqueue
	}
	addr, err := srv.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}

	// A client to show it working.
	got := make(chan string, 1)
	cli, err := engine.New(engine.Config{
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) { got <- string(data) },
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := cli.Dial(ctx, "ws://"+addr.String()+"/echo", nil)
	if err != nil {
		log.Fatal(err)
	}
	c.WriteMessage(frame.OpText, []byte("hello"))
	fmt.Println(<-got)

	cli.Shutdown(ctx)
	srv.Shutdown(ctx) // close 1001 to every client, then wait for the handshakes
	// Output: hello
}

// A client that dials a server, sends a message, waits for the answer and
// closes the connection with the close handshake. OnClose reports how the
// connection ended.
func Example_client() {
	// An echo server to talk to.
	srv, _ := engine.New(engine.Config{
		Upgrade:   upgrade.Server{CheckOrigin: func(*upgrade.Request) bool { return true }},
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) { c.WriteMessage(op, data) },
	})
	addr, _ := srv.Listen("tcp", "127.0.0.1:0")
	defer srv.Close()

	answers := make(chan string, 1)
	closed := make(chan error, 1)
	cli, err := engine.New(engine.Config{
		Loops: 1,
		OnOpen: func(c *engine.Conn) {
			fmt.Println("open; subprotocol:", c.Subprotocol() == "")
		},
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) {
			answers <- string(data) // copied: data is reused after the call
		},
		OnClose: func(c *engine.Conn, err error) { closed <- err },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := cli.Dial(ctx, "ws://"+addr.String()+"/", &engine.DialOptions{Origin: "http://example.com"})
	if err != nil {
		log.Fatal(err)
	}
	if err := c.WriteMessage(frame.OpBinary, []byte{1, 2, 3}); err != nil {
		log.Fatal(err)
	}
	fmt.Println([]byte(<-answers))
	c.Close(frame.CloseNormal, "done")
	fmt.Println(<-closed)
	// Output:
	// open; subprotocol: true
	// [1 2 3]
	// engine: close sent: 1000 (normal closure): done
}

// A large message sent in pieces as it is produced: the server streams
// rows as fragments of one text message, and the client, like any
// WebSocket peer, receives them as one message.
func ExampleConn_WriteFragment() {
	srv, _ := engine.New(engine.Config{
		Upgrade: upgrade.Server{CheckOrigin: func(*upgrade.Request) bool { return true }},
		OnOpen: func(c *engine.Conn) {
			rows := []string{`[{"id":1}`, `,{"id":2}`, `,{"id":3}]`}
			for i, row := range rows {
				op := frame.OpContinuation
				if i == 0 {
					op = frame.OpText
				}
				if err := c.WriteFragment(op, []byte(row), i == len(rows)-1); err != nil {
					c.Abort() // the message cannot be finished
					return
				}
			}
		},
	})
	addr, _ := srv.Listen("tcp", "127.0.0.1:0")
	defer srv.Close()

	got := make(chan string, 1)
	cli, _ := engine.New(engine.Config{
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) { got <- string(data) },
	})
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Dial(ctx, "ws://"+addr.String()+"/", nil); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-got)
	// Output: [{"id":1},{"id":2},{"id":3}]
}
