package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	websocket "github.com/lullws/lull/compat"
)

// fuzzingServer imitates the Autobahn fuzzing server's protocol: case 1
// sends messages and checks their echoes, case 2 sends invalid UTF-8 and
// expects close 1007; it records what it saw.
type fuzzingServer struct {
	mu      sync.Mutex
	results map[string]string // "case N" or "report" → outcome
	running sync.WaitGroup    // handlers that have not returned
}

func (f *fuzzingServer) record(key, outcome string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results[key] = outcome
}

func (f *fuzzingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.running.Add(1)
	defer f.running.Done()
	c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	closeNormal := func() {
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		c.ReadMessage() // the client's reply
	}
	agent := r.URL.Query().Get("agent")
	switch r.URL.Path {
	case "/getCaseCount":
		c.WriteMessage(websocket.TextMessage, []byte("2"))
		closeNormal()
	case "/runCase":
		key := "case " + r.URL.Query().Get("case") + " " + agent
		switch r.URL.Query().Get("case") {
		case "1":
			for _, m := range [][]byte{[]byte("text"), bytes.Repeat([]byte{7}, 70000)} {
				mt := websocket.BinaryMessage
				if len(m) == 4 {
					mt = websocket.TextMessage
				}
				c.WriteMessage(mt, m)
				gotType, p, err := c.ReadMessage()
				if err != nil || gotType != mt || !bytes.Equal(p, m) {
					f.record(key, fmt.Sprintf("bad echo: %d %d bytes %v", gotType, len(p), err))
					return
				}
			}
			f.record(key, "ok")
			closeNormal()
		case "2":
			c.WriteMessage(websocket.TextMessage, []byte("bad \xff"))
			_, _, err := c.ReadMessage()
			if websocket.IsCloseError(err, websocket.CloseInvalidFramePayloadData) {
				f.record(key, "ok")
			} else {
				f.record(key, fmt.Sprintf("got %v, want close 1007", err))
			}
		}
	case "/updateReports":
		f.record("report "+agent, "ok")
		closeNormal()
	}
}

func TestAgainstFuzzingServer(t *testing.T) {
	f := &fuzzingServer{results: map[string]string{}}
	s := httptest.NewServer(f)
	defer s.Close()
	c := &Client{Base: "ws" + strings.TrimPrefix(s.URL, "http"), Agent: "tester", CaseTimeout: 10 * time.Second}
	n, err := c.CaseCount()
	if err != nil || n != 2 {
		t.Fatalf("CaseCount: %d %v", n, err)
	}
	for i := 1; i <= n; i++ {
		if err := c.RunCase(i); err != nil {
			t.Errorf("case %d: %v", i, err)
		}
	}
	if err := c.UpdateReports(); err != nil {
		t.Fatal(err)
	}
	f.running.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, key := range []string{"case 1 tester", "case 2 tester", "report tester"} {
		if f.results[key] != "ok" {
			t.Errorf("%s: %q", key, f.results[key])
		}
	}
}
