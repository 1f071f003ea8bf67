package engine

import (
	"net"
	"testing"
	"time"

	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// TestAdoptWithClient hands a client connection whose handshake was made
// elsewhere to an engine, with user data visible in OnOpen, its own
// message size limit and no UTF-8 checks; then aborts it.
func TestAdoptWithClient(t *testing.T) {
	rs := listenRaw(t)
	nc, err := net.Dial("tcp", rs.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	// The handshake, done by hand on nc: request, then the raw server's 101.
	var key [24]byte
	upgrade.NewKey(&key)
	cl := upgrade.Client{Host: "x"}
	req, _ := cl.AppendRequest(nil, &key)
	if _, err := nc.Write(req); err != nil {
		t.Fatal(err)
	}
	rs.accept(true)
	var resp upgrade.Response
	buf := make([]byte, 0, 1024)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, err := nc.Read(buf[len(buf):cap(buf)])
		if err != nil {
			t.Fatal(err)
		}
		buf = buf[:len(buf)+n]
		if st, _ := cl.ParseResponse(&resp, buf); st == upgrade.Done {
			break
		}
	}
	nc.SetReadDeadline(time.Time{})
	res, err := cl.Verify(&resp, &key)
	if err != nil {
		t.Fatal(err)
	}

	opened := make(chan any, 1)
	msgs := make(chan string, 4)
	closed := make(chan error, 1)
	e := newClientEngine(t, Config{
		SkipUTF8: true,
		OnOpen:   func(c *Conn) { opened <- c.UserData() },
		OnMessage: func(c *Conn, op frame.Opcode, data []byte) {
			msgs <- string(data)
		},
		OnClose: func(c *Conn, err error) { closed <- err },
	})
	c, err := e.AdoptWith(nc, nil, res, &AdoptOptions{Client: true, UserData: "mine", MaxMessageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if ud := <-opened; ud != "mine" {
		t.Fatalf("OnOpen saw user data %v", ud)
	}
	if !c.IsClient() {
		t.Fatal("not a client connection")
	}
	// Client frames are masked (rs.next checks).
	if err := c.WriteMessage(frame.OpText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if op, p, err := rs.next(5 * time.Second); err != nil || op != frame.OpText || string(p) != "hi" {
		t.Fatalf("server got %v %q %v", op, p, err)
	}
	// Invalid UTF-8 is delivered, not refused.
	rs.write(serverFrame(true, frame.OpText, []byte{0xff, 0xfe}))
	select {
	case m := <-msgs:
		if m != "\xff\xfe" {
			t.Fatalf("got %q", m)
		}
	case err := <-closed:
		t.Fatalf("closed: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
	c.Abort()
	select {
	case err := <-closed:
		if err != ErrClosed {
			t.Fatalf("OnClose(%v), want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Abort did not close")
	}
}

// TestAdoptWithLimit checks the per-connection message size limit.
func TestAdoptWithLimit(t *testing.T) {
	rs := listenRaw(t)
	nc, err := net.Dial("tcp", rs.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	rs.accept(false)
	closed := make(chan error, 1)
	e := newClientEngine(t, Config{OnClose: func(c *Conn, err error) { closed <- err }})
	if _, err := e.AdoptWith(nc, nil, upgrade.Result{}, &AdoptOptions{Client: true, MaxMessageSize: 4}); err != nil {
		t.Fatal(err)
	}
	rs.write(serverFrame(true, frame.OpBinary, []byte("12345")))
	if op, p, err := rs.next(5 * time.Second); err != nil || op != frame.OpClose || len(p) < 2 || frame.CloseCode(p[0])<<8|frame.CloseCode(p[1]) != frame.CloseMessageTooBig {
		t.Fatalf("got %v %q %v, want close 1009", op, p, err)
	}
}
