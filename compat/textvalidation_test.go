package websocket

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lullws/lull/frame"
)

var invalidText = []byte("hello \xff world")

// Off by default, as in gorilla: invalid UTF-8 text is delivered as it came.
func TestTextValidationOffByDefault(t *testing.T) {
	for _, pair := range pairs {
		t.Run(pair.name, func(t *testing.T) {
			srv, cli := pair.make(t)
			go cli.WriteMessage(TextMessage, invalidText)
			mt, p, err := srv.ReadMessage()
			if err != nil || mt != TextMessage || !equalBytes(p, invalidText) {
				t.Fatalf("got %d %q %v", mt, p, err)
			}
		})
	}
}

// openInvalidText sends, as a text message left open (no final frame),
// "hello" and then a byte that is never valid UTF-8: a reader that fails
// fast reports it without the rest of the message.
func openInvalidText(t *testing.T, cli *Conn) {
	w, err := cli.NextWriter(TextMessage)
	if err != nil {
		t.Error(err)
		return
	}
	w.Write([]byte("hello"))
	w.(interface{ flushForTest() error }).flushForTest()
	w.Write([]byte{0xff, 'x'})
	w.(interface{ flushForTest() error }).flushForTest()
}

func TestTextValidationFailsFast(t *testing.T) {
	for _, pair := range pairs {
		for _, streaming := range []bool{false, true} {
			name := pair.name + "/ReadMessage"
			if streaming {
				name = pair.name + "/NextReader"
			}
			t.Run(name, func(t *testing.T) {
				srv, cli := pair.make(t)
				srv.EnableTextValidation(true)
				go func() {
					// Valid text, a character split across frames included.
					cli.WriteMessage(TextMessage, []byte("héllo"))
					w, _ := cli.NextWriter(TextMessage)
					w.Write([]byte("h\xc3"))
					w.(interface{ flushForTest() error }).flushForTest()
					w.Write([]byte("\xa9"))
					w.Close()
					openInvalidText(t, cli)
				}()
				cliErr := readErrs(cli)
				for _, want := range []string{"héllo", "h\u00e9"} {
					if mt, p, err := srv.ReadMessage(); err != nil || mt != TextMessage || string(p) != want {
						t.Fatalf("valid text: %q %v", p, err)
					}
				}
				var err error
				if streaming {
					var r io.Reader
					_, r, err = srv.NextReader()
					if err != nil {
						t.Fatalf("NextReader: %v", err)
					}
					var p []byte
					p, err = io.ReadAll(r)
					if string(p) != "hello" {
						t.Fatalf("read %q before the error", p)
					}
				} else {
					_, _, err = srv.ReadMessage()
				}
				if !errors.Is(err, frame.ErrInvalidUTF8) {
					t.Fatalf("got %v, want invalid UTF-8", err)
				}
				if err := <-cliErr; !IsCloseError(err, CloseInvalidFramePayloadData) {
					t.Fatalf("client got %v, want close 1007", err)
				}
				if _, _, err2 := srv.NextReader(); err2 != err {
					t.Fatalf("sticky: %v", err2)
				}
			})
		}
	}
}

// A text message ending inside a character is invalid too.
func TestTextValidationIncompleteCharacter(t *testing.T) {
	srv, cli := tcpPair(t)
	srv.EnableTextValidation(true)
	go cli.WriteMessage(TextMessage, []byte("ab\xc3"))
	if _, _, err := srv.ReadMessage(); !errors.Is(err, frame.ErrInvalidUTF8) {
		t.Fatalf("got %v", err)
	}
	srv, cli = tcpPair(t)
	srv.EnableTextValidation(true)
	srv.EnableTextValidation(false) // and it can be turned off again
	go cli.WriteMessage(TextMessage, []byte("ab\xc3"))
	if _, p, err := srv.ReadMessage(); err != nil || string(p) != "ab\xc3" {
		t.Fatalf("off again: %q %v", p, err)
	}
	// Binary messages are never checked.
	srv, cli = tcpPair(t)
	srv.EnableTextValidation(true)
	go cli.WriteMessage(BinaryMessage, invalidText)
	if _, p, err := srv.ReadMessage(); err != nil || !equalBytes(p, invalidText) {
		t.Fatalf("binary: %q %v", p, err)
	}
}

// Compressed text is validated once inflated.
func TestTextValidationCompressed(t *testing.T) {
	for _, enable := range []bool{false, true} {
		errs := make(chan error, 1)
		s := newServer(t, &Upgrader{EnableCompression: true}, func(c *Conn) {
			c.EnableTextValidation(enable)
			for {
				mt, p, err := c.ReadMessage()
				if err != nil {
					errs <- err
					return
				}
				c.WriteMessage(mt, p)
			}
		})
		d := Dialer{EnableCompression: true}
		c, _, err := d.Dial(wsURL(s), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if !c.deflate {
			t.Fatal("permessage-deflate not negotiated")
		}
		c.WriteMessage(TextMessage, []byte("héllo héllo héllo"))
		if _, p, err := c.ReadMessage(); err != nil || string(p) != "héllo héllo héllo" {
			t.Fatalf("valid text: %q %v", p, err)
		}
		c.WriteMessage(TextMessage, invalidText)
		_, p, err := c.ReadMessage()
		if !enable {
			if err != nil || !equalBytes(p, invalidText) {
				t.Fatalf("off: %q %v", p, err)
			}
			continue
		}
		if !IsCloseError(err, CloseInvalidFramePayloadData) {
			t.Fatalf("client got %v, want close 1007", err)
		}
		select {
		case err := <-errs:
			if err == nil || IsCloseError(err) {
				t.Fatalf("server got %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("server read no error")
		}
	}
}

// Evented connections keep the setting, compressed or not.
func TestTextValidationEvented(t *testing.T) {
	for _, compress := range []bool{false, true} {
		for _, enable := range []bool{false, true} {
			closed := make(chan error, 1)
			u := &Upgrader{EnableCompression: compress}
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := u.Upgrade(w, r, nil)
				if err != nil {
					return
				}
				c.EnableTextValidation(enable)
				err = c.ServeEvents(Events{
					OnMessage: func(c *Conn, mt int, data []byte) { c.WriteMessage(mt, data) },
					OnClose:   func(c *Conn, err error) { closed <- err },
				})
				if err != nil {
					t.Errorf("ServeEvents: %v", err)
				}
			}))
			t.Cleanup(s.Close)
			d := Dialer{EnableCompression: compress}
			c, _, err := d.Dial(wsURL(s), nil)
			if err != nil {
				t.Fatal(err)
			}
			c.WriteMessage(TextMessage, []byte("héllo"))
			if _, p, err := c.ReadMessage(); err != nil || string(p) != "héllo" {
				t.Fatalf("valid text: %q %v", p, err)
			}
			if compress || !enable {
				c.WriteMessage(TextMessage, invalidText)
			} else {
				openInvalidText(t, c) // fails fast, before the message's end
			}
			_, p, err := c.ReadMessage()
			c.Close()
			if !enable {
				if err != nil || !equalBytes(p, invalidText) {
					t.Fatalf("compress %v, off: %q %v", compress, p, err)
				}
				<-closed
				continue
			}
			if !IsCloseError(err, CloseInvalidFramePayloadData) {
				t.Fatalf("compress %v: client got %v, want close 1007", compress, err)
			}
			select {
			case err := <-closed:
				if err == nil {
					t.Fatal("OnClose(nil)")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no OnClose")
			}
		}
	}
}
