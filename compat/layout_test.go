package websocket

import (
	"fmt"
	"io"
	"runtime"
	"testing"
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

// TestNextReaderBlocks checks that readers stay correct across the
// blocks newReader allocates, and that an idle connection keeps no block
// once the application holds none of its readers.
func TestNextReaderBlocks(t *testing.T) {
	srv, cli := tcpPair(t)
	var readers []io.Reader
	for i := 0; i < 3*readerBlock+5; i++ {
		if err := cli.WriteMessage(TextMessage, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		_, r, err := srv.NextReader()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil || string(b) != fmt.Sprint(i) {
			t.Fatalf("message %d: %q, %v", i, b, err)
		}
		readers = append(readers, r)
	}
	for i, r := range readers {
		if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("stale reader %d: %d, %v; want 0, io.EOF", i, n, err)
		}
	}
	readers = nil
	runtime.GC()
	if srv.rs.readers.Value() != nil {
		t.Error("an idle connection keeps its block of readers after a GC")
	}
	// A collected block is replaced.
	if err := cli.WriteMessage(TextMessage, []byte("after")); err != nil {
		t.Fatal(err)
	}
	_, r, err := srv.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(r); err != nil || string(b) != "after" {
		t.Fatalf("after a GC: %q, %v", b, err)
	}
}
