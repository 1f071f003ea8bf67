package websocket

import (
	"fmt"
	"io"
	"testing"
	"time"
	"unsafe"
)

// TestIdleLayout guards what an idle blocking connection costs compat: its
// Conn and readState, allocated together, fit the 256-byte size class (see
// connExtras). A field added to either must go to connExtras or readMore
// unless every connection needs it.
func TestIdleLayout(t *testing.T) {
	if n := unsafe.Sizeof(connAndReader{}); n > 256 {
		t.Errorf("Conn (%d bytes) + readState (%d bytes) = %d bytes, want at most 256",
			unsafe.Sizeof(Conn{}), unsafe.Sizeof(readState{}), n)
	}
}

// TestNextReaderBlocksDropped checks that readers stay correct across the
// blocks newReader allocates, and that a goroutine which parks in
// NextReader holds no block of readers.
func TestNextReaderBlocksDropped(t *testing.T) {
	srv, cli := tcpPair(t)
	var readers []io.Reader
	for round := 0; round < 5; round++ {
		// Some messages back to back (blocks fill), then a wait.
		for i := 0; i < 7*round+1; i++ {
			if err := cli.WriteMessage(TextMessage, []byte(fmt.Sprint(round, i))); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 7*round+1; i++ {
			_, r, err := srv.NextReader()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r)
			if err != nil || string(b) != fmt.Sprint(round, i) {
				t.Fatalf("round %d message %d: %q, %v", round, i, b, err)
			}
			readers = append(readers, r)
		}
		if round == 4 {
			break
		}
		// No message: the goroutine parks until the deadline.
		srv.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if srv.rs.readersLeft > 0 && srv.rs.readers == nil {
			t.Fatal("readersLeft without readers")
		}
		srv.fill() // parks: nothing was sent
		if srv.rs.readers != nil || srv.rs.readersLeft != 0 {
			t.Errorf("round %d: %d readers of a block kept while parked", round, srv.rs.readersLeft)
		}
		srv.SetReadDeadline(time.Time{})
		srv.setReadErr(nil) // the timeout is not what this test is about
	}
	for i, r := range readers {
		if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("stale reader %d: %d, %v; want 0, io.EOF", i, n, err)
		}
	}
}
