package websocket

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEchoSizes(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 4095, 4096, 4097, 65535, 65536, 65537, 200000}
	for _, pair := range pairs {
		for _, streamed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/streamed=%v", pair.name, streamed), func(t *testing.T) {
				srv, cli := pair.make(t)
				if streamed {
					go echoStream(srv)
				} else {
					go echo(srv)
				}
				for _, n := range sizes {
					for _, mt := range []int{TextMessage, BinaryMessage} {
						p := payload(n)
						errc := make(chan error, 1)
						go func() { errc <- cli.WriteMessage(mt, p) }()
						gt, got, err := cli.ReadMessage()
						if err != nil {
							t.Fatalf("size %d: ReadMessage: %v", n, err)
						}
						if err := <-errc; err != nil {
							t.Fatalf("size %d: WriteMessage: %v", n, err)
						}
						if gt != mt || !equalBytes(got, p) {
							t.Fatalf("size %d type %d: got type %d, %d bytes", n, mt, gt, len(got))
						}
					}
				}
			})
		}
	}
}

// TestFraming writes messages through NextWriter in pieces (split into
// several frames) and reads them with NextReader in small reads.
func TestFraming(t *testing.T) {
	for _, pair := range pairs {
		t.Run(pair.name, func(t *testing.T) {
			srv, cli := pair.make(t)
			for _, n := range []int{0, 1, 100, 4096, 10000, 70000} {
				p := payload(n)
				errc := make(chan error, 1)
				go func() {
					w, err := cli.NextWriter(BinaryMessage)
					if err != nil {
						errc <- err
						return
					}
					for i := 0; i < len(p); i += 777 {
						if _, err := w.Write(p[i:min(len(p), i+777)]); err != nil {
							errc <- err
							return
						}
					}
					errc <- w.Close()
				}()
				mt, r, err := srv.NextReader()
				if err != nil {
					t.Fatal(err)
				}
				var got []byte
				buf := make([]byte, 33)
				for {
					n, err := r.Read(buf)
					got = append(got, buf[:n]...)
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
				if mt != BinaryMessage || !equalBytes(got, p) {
					t.Fatalf("size %d: got %d bytes, type %d", n, len(got), mt)
				}
				// The reader is finished: it keeps returning io.EOF.
				if n, err := r.Read(buf); n != 0 || err != io.EOF {
					t.Fatalf("Read after end = %d, %v", n, err)
				}
			}
		})
	}
}

func TestNextReaderDiscardsAndStaleReaderEOF(t *testing.T) {
	srv, cli := pipePair(t)
	go func() {
		cli.WriteMessage(TextMessage, []byte("first message"))
		cli.WriteMessage(TextMessage, []byte("second"))
	}()
	_, r1, err := srv.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 5)
	if n, _ := r1.Read(b); string(b[:n]) != "first" {
		t.Fatalf("got %q", b[:n])
	}
	_, r2, err := srv.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r1.Read(b); n != 0 || err != io.EOF {
		t.Fatalf("stale reader: %d, %v", n, err)
	}
	got, _ := io.ReadAll(r2)
	if string(got) != "second" {
		t.Fatalf("got %q", got)
	}
}

func TestCloseHandshake(t *testing.T) {
	for _, pair := range pairs {
		t.Run(pair.name, func(t *testing.T) {
			srv, cli := pair.make(t)
			cliErr := readErrs(cli)
			go func() {
				cli.WriteControl(CloseMessage, FormatCloseMessage(4000, "app"), deadline())
			}()
			_, _, err := srv.ReadMessage()
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != 4000 || ce.Text != "app" {
				t.Fatalf("server got %v", err)
			}
			if err.Error() != "websocket: close 4000: app" {
				t.Fatalf("text %q", err.Error())
			}
			// The server echoed the code.
			if err := <-cliErr; !IsCloseError(err, 4000) {
				t.Fatalf("client got %v", err)
			}
			// Reads stay failed; writes after the close return ErrCloseSent.
			if _, _, err2 := srv.ReadMessage(); err2 != err && err2.Error() != "websocket: close 4000: app" {
				t.Fatalf("second read: %v", err2)
			}
			if err := srv.WriteMessage(TextMessage, []byte("x")); err != ErrCloseSent {
				t.Fatalf("write after close: %v", err)
			}
		})
	}
}

func TestCloseErrorTexts(t *testing.T) {
	cases := []struct {
		err  *CloseError
		want string
	}{
		{&CloseError{1000, ""}, "websocket: close 1000 (normal)"},
		{&CloseError{1001, "bye"}, "websocket: close 1001 (going away): bye"},
		{&CloseError{1005, ""}, "websocket: close 1005 (no status)"},
		{&CloseError{1006, "unexpected EOF"}, "websocket: close 1006 (abnormal closure): unexpected EOF"},
		{&CloseError{3000, ""}, "websocket: close 3000"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%v: got %q want %q", *c.err, got, c.want)
		}
	}
	if !IsUnexpectedCloseError(&CloseError{Code: 1006}, 1000, 1001) || IsUnexpectedCloseError(&CloseError{Code: 1000}, 1000) || IsUnexpectedCloseError(io.EOF) {
		t.Error("IsUnexpectedCloseError")
	}
	if len(FormatCloseMessage(CloseNoStatusReceived, "x")) != 0 || FormatCloseMessage(CloseNoStatusReceived, "") == nil {
		t.Error("FormatCloseMessage(1005)")
	}
}

func TestEOFIsAbnormalClosure(t *testing.T) {
	for _, pair := range pairs {
		t.Run(pair.name, func(t *testing.T) {
			srv, cli := pair.make(t)
			cli.Close()
			_, _, err := srv.ReadMessage()
			if err != errUnexpectedEOF || err.Error() != "websocket: close 1006 (abnormal closure): unexpected EOF" {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestPingPongHandlers(t *testing.T) {
	for _, pair := range pairs {
		t.Run(pair.name, func(t *testing.T) {
			srv, cli := pair.make(t)
			go echo(srv)
			pongs := make(chan string, 1)
			cli.SetPongHandler(func(s string) error { pongs <- s; return nil })
			if err := cli.WriteControl(PingMessage, []byte("hello"), deadline()); err != nil {
				t.Fatal(err)
			}
			if err := cli.WriteMessage(TextMessage, []byte("after")); err != nil {
				t.Fatal(err)
			}
			_, p, err := cli.ReadMessage()
			if err != nil || string(p) != "after" {
				t.Fatalf("%q %v", p, err)
			}
			if s := <-pongs; s != "hello" {
				t.Fatalf("pong %q", s)
			}
		})
	}
}

func TestHandlerErrorIsSticky(t *testing.T) {
	srv, cli := pipePair(t)
	boom := errors.New("boom")
	srv.SetPingHandler(func(string) error { return boom })
	go cli.WriteControl(PingMessage, nil, deadline())
	if _, _, err := srv.ReadMessage(); err != boom {
		t.Fatalf("got %v", err)
	}
	if _, _, err := srv.NextReader(); err != boom {
		t.Fatalf("second: %v", err)
	}
	srv.SetPingHandler(nil)
	if srv.PingHandler() == nil || srv.PongHandler() == nil || srv.CloseHandler() == nil {
		t.Fatal("nil default handler")
	}
}

func TestReadLimit(t *testing.T) {
	for _, pair := range pairs {
		t.Run(pair.name, func(t *testing.T) {
			srv, cli := pair.make(t)
			srv.SetReadLimit(512)
			var cliErr <-chan error
			go func() {
				cli.WriteMessage(BinaryMessage, payload(512))
				w, _ := cli.NextWriter(BinaryMessage)
				w.Write(payload(500))
				w.(interface{ flushForTest() error }).flushForTest()
				w.Write(payload(13))
				w.Close()
			}()
			cliErr = readErrs(cli)
			if _, p, err := srv.ReadMessage(); err != nil || len(p) != 512 {
				t.Fatalf("512 bytes: %d, %v", len(p), err)
			}
			_, r, err := srv.NextReader()
			if err != nil {
				t.Fatalf("NextReader: %v", err)
			}
			if _, err := io.ReadAll(r); err != ErrReadLimit {
				t.Fatalf("got %v", err)
			}
			// The server sent close 1009.
			if err := <-cliErr; !IsCloseError(err, CloseMessageTooBig) {
				t.Fatalf("client got %v", err)
			}
			if _, _, err := srv.NextReader(); err != ErrReadLimit {
				t.Fatalf("sticky: %v", err)
			}
		})
	}
}

func TestProtocolError(t *testing.T) {
	srv, cli := pipePair(t)
	// An unmasked frame from a client is a protocol violation.
	go cli.conn.Write([]byte{0x81, 0x01, 'x'})
	_, _, err := srv.ReadMessage()
	if err == nil || !strings.HasPrefix(err.Error(), "websocket: ") {
		t.Fatalf("got %v", err)
	}
}

func TestWriteErrors(t *testing.T) {
	srv, cli := pipePair(t)
	go func() {
		for {
			if _, _, err := cli.ReadMessage(); err != nil {
				return
			}
		}
	}()
	if err := srv.WriteMessage(42, nil); err != errBadWriteOpCode {
		t.Fatal(err)
	}
	if _, err := srv.NextWriter(42); err != errBadWriteOpCode {
		t.Fatal(err)
	}
	if err := srv.WriteMessage(PingMessage, payload(126)); err != errInvalidControlFrame {
		t.Fatal(err)
	}
	if err := srv.WriteControl(TextMessage, nil, time.Time{}); err != errBadWriteOpCode {
		t.Fatal(err)
	}
	if err := srv.WriteControl(PingMessage, nil, time.Now().Add(-time.Second)); err != errWriteTimeout {
		t.Fatal(err)
	}
	var ne net.Error
	if !errors.As(errWriteTimeout, &ne) || !ne.Timeout() {
		t.Fatal("errWriteTimeout is not a timeout")
	}
	w, _ := srv.NextWriter(TextMessage)
	w.Write([]byte("a"))
	w.Close()
	if _, err := w.Write([]byte("b")); err != errWriteClosed {
		t.Fatal(err)
	}
	if err := w.Close(); err != errWriteClosed {
		t.Fatal(err)
	}
	if err := srv.WriteMessage(CloseMessage, FormatCloseMessage(1000, "")); err != nil {
		t.Fatal(err)
	}
	if err := srv.WriteMessage(TextMessage, nil); err != ErrCloseSent {
		t.Fatal(err)
	}
	if _, err := srv.NextWriter(TextMessage); err != ErrCloseSent {
		t.Fatal(err)
	}
}

// TestConcurrentWriters checks that writers racing on one connection
// (which gorilla/websocket forbids) still put whole messages on the wire.
func TestConcurrentWriters(t *testing.T) {
	for _, pair := range pairs {
		t.Run(pair.name, func(t *testing.T) {
			srv, cli := pair.make(t)
			const writers, each = 8, 200
			var wg sync.WaitGroup
			for i := 0; i < writers; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := 0; j < each; j++ {
						msg := fmt.Appendf(nil, "writer %d message %d %s", i, j, payload(j*7))
						if j%3 == 0 {
							w, err := cli.NextWriter(TextMessage)
							if err != nil {
								t.Error(err)
								return
							}
							w.Write(msg[:len(msg)/2])
							w.Write(msg[len(msg)/2:])
							w.Close()
						} else if err := cli.WriteMessage(TextMessage, msg); err != nil {
							t.Error(err)
							return
						}
						if j%10 == 0 {
							cli.WriteControl(PingMessage, []byte("p"), deadline())
						}
					}
				}()
			}
			got := 0
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			for got < writers*each {
				_, p, err := srv.ReadMessage()
				if err != nil {
					// A writer's message may have been closed by another
					// writer's NextWriter: it then ends early, but whole.
					t.Fatalf("after %d messages: %v", got, err)
				}
				if len(p) > 0 && !strings.HasPrefix(string(p), "writer ") {
					t.Fatalf("corrupt message %q", p)
				}
				got++
			}
			<-done
		})
	}
}
