//go:build !race

package websocket

import (
	"io"
	"testing"
)

const raceEnabled = false

// TestAllocs runs only without the race detector, which makes sync.Pool
// drop items at random.
//
// It checks the allocation counts issue 5 asks for, on the raw
// (TCP) path: WriteMessage 0, NextReader + Read into the caller's buffer 0,
// ReadMessage 1 (the returned slice), per message of 1 KiB.
func TestAllocs(t *testing.T) {
	for _, side := range []string{"server", "client"} {
		srv, cli := tcpPair(t)
		w, r := srv, cli
		if side == "client" {
			w, r = cli, srv
		}
		msg := payload(1024)
		buf := make([]byte, 2048)
		// Warm the pools.
		for i := 0; i < 10; i++ {
			w.WriteMessage(BinaryMessage, msg)
			r.ReadMessage()
		}
		if n := testing.AllocsPerRun(200, func() {
			if err := w.WriteMessage(BinaryMessage, msg); err != nil {
				t.Fatal(err)
			}
			_, rd, err := r.NextReader()
			if err != nil {
				t.Fatal(err)
			}
			for {
				if _, err := rd.Read(buf); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
			}
		}); n != 0 {
			t.Errorf("%s writes: WriteMessage + NextReader + Read: %v allocs per message, want 0", side, n)
		}
		if n := testing.AllocsPerRun(200, func() {
			if err := w.WriteMessage(BinaryMessage, msg); err != nil {
				t.Fatal(err)
			}
			if _, p, err := r.ReadMessage(); err != nil || len(p) != len(msg) {
				t.Fatal(err)
			}
		}); n != 1 {
			t.Errorf("%s writes: WriteMessage + ReadMessage: %v allocs per message, want 1", side, n)
		}
	}
}
