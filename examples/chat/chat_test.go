package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	websocket "github.com/lullws/lull/compat"
)

func startChat(t *testing.T) *httptest.Server {
	t.Helper()
	room := newRoom()
	go room.run()
	s := httptest.NewServer(newMux(room))
	t.Cleanup(s.Close)
	return s
}

// dialChat connects a client as a page of the server's own origin would.
func dialChat(t *testing.T, s *httptest.Server) *websocket.Conn {
	t.Helper()
	hdr := http.Header{"Origin": {s.URL}}
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/ws", hdr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return c
}

func TestTwoMembersExchangeMessages(t *testing.T) {
	s := startChat(t)
	alice, bob := dialChat(t, s), dialChat(t, s)
	// Both have joined once a message from each has come back to its
	// sender (the room sends every message to every member, sender too).
	for _, c := range []*websocket.Conn{alice, bob} {
		c.WriteMessage(websocket.TextMessage, []byte("hello"))
		for {
			_, p, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(p), "hello") {
				break
			}
		}
	}
	if err := alice.WriteMessage(websocket.TextMessage, []byte("  hi bob \n")); err != nil {
		t.Fatal(err)
	}
	for {
		_, p, err := bob.ReadMessage()
		if err != nil {
			t.Fatalf("bob: %v", err)
		}
		// Queued messages come as lines of one frame; the room trims them.
		if slices.Contains(strings.Split(string(p), "\n"), "hi bob") {
			break
		}
	}
}

func TestLeavingMemberIsRemoved(t *testing.T) {
	s := startChat(t)
	alice := dialChat(t, s)
	bob := dialChat(t, s)
	bob.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	bob.Close()
	// The room keeps serving the members that stay.
	alice.WriteMessage(websocket.TextMessage, []byte("still here"))
	for {
		_, p, err := alice.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(strings.Split(string(p), "\n"), "still here") {
			return
		}
	}
}

func TestOversizedMessageEndsTheConnection(t *testing.T) {
	s := startChat(t)
	c := dialChat(t, s)
	c.WriteMessage(websocket.TextMessage, make([]byte, maxMessageSize+1))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Fatalf("got %v, want close 1009", err)
		}
		return
	}
}

func TestForeignOriginIsRefused(t *testing.T) {
	s := startChat(t)
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/ws", http.Header{"Origin": {"http://elsewhere.example"}})
	if err != websocket.ErrBadHandshake || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("got %v, %v; want 403", resp, err)
	}
}

func TestHomePage(t *testing.T) {
	s := startChat(t)
	resp, err := http.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"/ws"`) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("home page: %s %q", resp.Status, resp.Header)
	}
	if resp, _ := http.Get(s.URL + "/nothing"); resp.StatusCode != 404 {
		t.Fatalf("/nothing: %s", resp.Status)
	}
}
