// Command server is the Autobahn test suite's target for lull's compat
// package (gorilla/websocket's API): a WebSocket echo server with one route
// per way of reading and writing a message, so the suite's fuzzing client
// exercises each path of the package.
//
//	go run ./examples/autobahn/server -addr 127.0.0.1:9000
//
// It prints "listening on ADDR" (the address actually bound, so -addr
// 127.0.0.1:0 works) once it accepts connections. Routes:
//
//	/f  NextReader → NextWriter, io.Copy (the writer's ReadFrom)
//	/c  the same, with ReadFrom hidden: io.Copy's buffered Write path
//	/r  ReadMessage → NextWriter, one Write, Close
//	/m  ReadMessage → WriteMessage
//	/p  ReadMessage → NewPreparedMessage → WritePreparedMessage
//
// permessage-deflate is offered to clients. compat leaves UTF-8 checking
// of text to the application by default, as gorilla does; every route
// turns on compat's own check (Conn.EnableTextValidation, a lull
// addition), so a text message that is not UTF-8 fails the connection with
// close 1007 as soon as the offending byte arrives, even on the routes
// that read whole messages. The streaming routes also check text
// themselves, as gorilla's Autobahn example does, answering with close
// 1007. Either way the TCP connection is closed at once, without waiting
// for the client's close.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	websocket "github.com/lullws/lull/compat"
	"github.com/lullws/lull/frame"
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:    4096,
	WriteBufferSize:   4096,
	EnableCompression: true,
	CheckOrigin:       func(*http.Request) bool { return true },
}

var verbose bool

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "`address` to listen on")
	flag.BoolVar(&verbose, "v", false, "log every connection's end that is not a normal close")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, Handler()))
}

// Handler returns the server's routes.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/f", func(w http.ResponseWriter, r *http.Request) { echoCopy(w, r, false) })
	mux.HandleFunc("/c", func(w http.ResponseWriter, r *http.Request) { echoCopy(w, r, true) })
	mux.HandleFunc("/r", func(w http.ResponseWriter, r *http.Request) { echoReadAll(w, r, false, false) })
	mux.HandleFunc("/m", func(w http.ResponseWriter, r *http.Request) { echoReadAll(w, r, true, false) })
	mux.HandleFunc("/p", func(w http.ResponseWriter, r *http.Request) { echoReadAll(w, r, true, true) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "lull compat echo server: routes /f /c /r /m /p\n")
	})
	return mux
}

var errInvalidUTF8 = errors.New("invalid UTF-8 in a text message")

// utf8Reader passes a text message through, failing with errInvalidUTF8 at
// the first read that contains a byte making the text invalid, or at the
// end of a message that stops inside a character.
type utf8Reader struct {
	r io.Reader
	v frame.UTF8Validator
}

func (u *utf8Reader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if _, ok := u.v.Validate(p[:n]); !ok {
		return 0, errInvalidUTF8
	}
	if err == io.EOF && !u.v.Complete() {
		return 0, errInvalidUTF8
	}
	return n, err
}

// failInvalidUTF8 sends close 1007; the caller then closes the connection.
func failInvalidUTF8(conn *websocket.Conn) {
	conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, ""), time.Now().Add(time.Second))
}

func logEnd(route string, err error) {
	if verbose && websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
		log.Printf("%s: %v", route, err)
	}
}

func echoCopy(w http.ResponseWriter, r *http.Request, writerOnly bool) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has sent the HTTP error
	}
	defer conn.Close()
	conn.EnableTextValidation(true)
	for {
		mt, rd, err := conn.NextReader()
		if err != nil {
			logEnd(r.URL.Path, err)
			return
		}
		if mt == websocket.TextMessage {
			rd = &utf8Reader{r: rd}
		}
		wr, err := conn.NextWriter(mt)
		if err != nil {
			logEnd(r.URL.Path, err)
			return
		}
		if writerOnly {
			_, err = io.Copy(struct{ io.Writer }{wr}, rd)
		} else {
			_, err = io.Copy(wr, rd)
		}
		if err == errInvalidUTF8 {
			failInvalidUTF8(conn)
			return
		}
		if err != nil {
			logEnd(r.URL.Path, err)
			return
		}
		if err := wr.Close(); err != nil {
			logEnd(r.URL.Path, err)
			return
		}
	}
}

func echoReadAll(w http.ResponseWriter, r *http.Request, writeMessage, prepared bool) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.EnableTextValidation(true) // ReadMessage fails at the first invalid byte
	for {
		mt, b, err := conn.ReadMessage()
		if err != nil {
			logEnd(r.URL.Path, err)
			return
		}
		switch {
		case prepared:
			var pm *websocket.PreparedMessage
			if pm, err = websocket.NewPreparedMessage(mt, b); err == nil {
				err = conn.WritePreparedMessage(pm)
			}
		case writeMessage:
			err = conn.WriteMessage(mt, b)
		default:
			var wr io.WriteCloser
			if wr, err = conn.NextWriter(mt); err == nil {
				if _, err = wr.Write(b); err == nil {
					err = wr.Close()
				}
			}
		}
		if err != nil {
			logEnd(r.URL.Path, err)
			return
		}
	}
}
