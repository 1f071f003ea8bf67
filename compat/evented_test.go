package websocket

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// eventedEchoServer upgrades every request with UpgradeEvented and echoes
// messages from OnMessage; the errors OnClose reports go to closed.
func eventedEchoServer(t *testing.T, limit int64) (*httptest.Server, chan error) {
	closed := make(chan error, 16)
	u := &Upgrader{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c.SetReadLimit(limit)
		err = c.ServeEvents(Events{
			OnMessage: func(c *Conn, mt int, data []byte) {
				if err := c.WriteMessage(mt, data); err != nil {
					t.Errorf("echo: %v", err)
				}
			},
			OnClose: func(c *Conn, err error) { closed <- err },
		})
		if err != nil {
			t.Errorf("ServeEvents: %v", err)
		}
	}))
	t.Cleanup(s.Close)
	return s, closed
}

func TestEventedServer(t *testing.T) {
	s, closed := eventedEchoServer(t, 0)
	c := dial(t, s)
	pongs := make(chan string, 1)
	c.SetPongHandler(func(s string) error { pongs <- s; return nil })
	for _, n := range []int{0, 1, 125, 4096, 70000, 300000} {
		p := payload(n)
		p = append(p, 0xff) // not UTF-8: delivered as it is, as gorilla does
		if err := c.WriteMessage(TextMessage, p); err != nil {
			t.Fatal(err)
		}
		mt, got, err := c.ReadMessage()
		if err != nil || mt != TextMessage || !equalBytes(got, p) {
			t.Fatalf("size %d: %d bytes, %v", n, len(got), err)
		}
	}
	// A fragmented message, with a ping between its frames.
	w, _ := c.NextWriter(BinaryMessage)
	w.Write(payload(5000))
	w.(interface{ flushForTest() error }).flushForTest()
	c.WriteControl(PingMessage, []byte("ping"), deadline())
	w.Write(payload(10))
	w.Close()
	if _, got, err := c.ReadMessage(); err != nil || len(got) != 5010 {
		t.Fatalf("fragmented: %d, %v", len(got), err)
	}
	if p := <-pongs; p != "ping" {
		t.Fatalf("pong %q", p)
	}
	c.WriteControl(CloseMessage, FormatCloseMessage(CloseGoingAway, "bye"), deadline())
	if _, _, err := c.ReadMessage(); !IsCloseError(err, CloseGoingAway) {
		t.Fatalf("client: %v", err)
	}
	c.Close()
	select {
	case err := <-closed:
		if !IsCloseError(err, CloseGoingAway) || err.(*CloseError).Text != "bye" {
			t.Fatalf("OnClose(%v)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no OnClose")
	}
}

func TestEventedReadLimit(t *testing.T) {
	s, closed := eventedEchoServer(t, 100)
	c := dial(t, s)
	c.WriteMessage(BinaryMessage, payload(100))
	if _, p, err := c.ReadMessage(); err != nil || len(p) != 100 {
		t.Fatal(err)
	}
	c.WriteMessage(BinaryMessage, payload(101))
	if _, _, err := c.ReadMessage(); !IsCloseError(err, CloseMessageTooBig) {
		t.Fatalf("client: %v", err)
	}
	c.Close()
	if err := <-closed; err != ErrReadLimit {
		t.Fatalf("OnClose(%v)", err)
	}
}

func TestEventedClientAndDrop(t *testing.T) {
	s := newServer(t, &Upgrader{}, func(c *Conn) {
		for i := 0; i < 2; i++ {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			c.WriteMessage(mt, p)
		}
		c.Close()
	})
	c, _, err := DefaultDialer.Dial(wsURL(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	closed := make(chan error, 1)
	if err := c.ServeEvents(Events{
		OnMessage: func(c *Conn, mt int, data []byte) { got <- string(data) },
		OnClose:   func(c *Conn, err error) { closed <- err },
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadMessage(); err != errEvented {
		t.Fatalf("ReadMessage on an evented connection: %v", err)
	}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); !ok || a.Port == 0 || c.LocalAddr() == nil {
		t.Fatalf("RemoteAddr %v, LocalAddr %v", c.RemoteAddr(), c.LocalAddr())
	}
	for _, m := range []string{"one", "two"} {
		if err := c.WriteMessage(TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
		if g := <-got; g != m {
			t.Fatalf("got %q", g)
		}
	}
	// The server drops TCP: 1006.
	select {
	case err := <-closed:
		if !IsCloseError(err, CloseAbnormalClosure) {
			t.Fatalf("OnClose(%v)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no OnClose")
	}
}

func TestEventedClose(t *testing.T) {
	s := newServer(t, &Upgrader{}, echo)
	c := dial(t, s)
	closed := make(chan error, 1)
	c.ServeEvents(Events{OnClose: func(c *Conn, err error) { closed <- err }})
	c.Close()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("no OnClose after Close")
	}
}
