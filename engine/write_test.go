package engine

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lullws/lull/frame"
)

// TestPeerNeverReads: writing to a connection whose peer does not read
// fills the kernel's buffers, then the connection's queue up to
// WriteQueueLimit; past it writes fail with ErrWriteQueueFull, queue
// nothing, and the process's memory stays bounded. Close still gets its
// frame through, and the queue drains once the peer reads.
func TestPeerNeverReads(t *testing.T) {
	const limit = 256 << 10
	const msgSize = 64 << 10
	ev := newEvents()
	cfg := echoConfig()
	cfg.WriteQueueLimit = limit
	ev.hook(&cfg)
	e, addr := startEngine(t, cfg)
	rc := dialRaw(t, addr)
	rc.handshake()
	c := ev.firstOpen(t)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	msg := bytes.Repeat([]byte{0xab}, msgSize)
	accepted, refused := 0, 0
	for i := 0; i < 2000 && refused < 100; i++ { // up to 128 MiB offered
		switch err := c.WriteMessage(frame.OpBinary, msg); err {
		case nil:
			accepted++
		case ErrWriteQueueFull:
			refused++
		default:
			t.Fatal(err)
		}
		if q := c.Buffered(); q > limit+msgSize+frame.MaxHeaderSize {
			t.Fatalf("queue holds %d bytes, over the limit %d plus one message", q, limit)
		}
	}
	if refused < 100 {
		t.Fatalf("%d writes accepted and %d refused: the limit never acted", accepted, refused)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 4<<20 {
		t.Fatalf("heap grew by %d bytes while the peer did not read; want it bounded by the %d-byte queue", grown, limit)
	}
	if n := e.Stats().WriteQueueFulls; n != int64(refused) {
		t.Fatalf("Stats().WriteQueueFulls = %d, want %d", n, refused)
	}
	t.Logf("%d messages of %d bytes accepted (kernel buffers and queue), then refused; queue %d bytes", accepted, msgSize, c.Buffered())

	// The connection is still open and the close frame gets past the
	// full queue.
	if err := c.Close(frame.CloseGoingAway, "slow"); err != nil {
		t.Fatalf("Close on a full queue: %v", err)
	}
	// Now the peer reads: every accepted message arrives whole, in order,
	// then the close frame.
	for i := 0; i < accepted; i++ {
		rc.expect(frame.OpBinary, msg)
	}
	rc.expect(frame.OpClose, closePayload(frame.CloseGoingAway, "slow"))
	rc.write(clientFrame(true, frame.OpClose, nil))
	rc.expectNothingThenEOF(3 * time.Second)
}

// TestConcurrentWriters: messages written from many goroutines at once
// arrive whole, and each writer's in its order.
func TestConcurrentWriters(t *testing.T) {
	const writers, each = 8, 300
	cfg := echoConfig()
	cfg.OnOpen = func(c *Conn) {
		for w := 0; w < writers; w++ {
			go func() {
				for i := 0; i < each; i++ {
					msg := fmt.Sprintf("%d:%d:%s", w, i, strings.Repeat("x", (w*131+i*17)%3000))
					if err := c.WriteMessage(frame.OpText, []byte(msg)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	_, addr := startEngine(t, cfg)
	rc := dialRaw(t, addr)
	rc.handshake()
	next := make([]int, writers)
	for n := 0; n < writers*each; n++ {
		op, p, err := rc.next(5 * time.Second)
		if err != nil || op != frame.OpText {
			t.Fatalf("message %d: %v %v", n, op, err)
		}
		f := strings.SplitN(string(p), ":", 3)
		w, _ := strconv.Atoi(f[0])
		i, _ := strconv.Atoi(f[1])
		if len(f) != 3 || w >= writers || i != next[w] || len(f[2]) != (w*131+i*17)%3000 {
			t.Fatalf("message %d is %q: torn or out of order (want writer %d's #%d)", n, trim(p), w, next[min(w, writers-1)])
		}
		next[w]++
	}
}

// TestBroadcast frames a message once and sends it to many connections,
// server and client side.
func TestBroadcast(t *testing.T) {
	var mu sync.Mutex
	var conns []*Conn
	cfg := echoConfig()
	cfg.OnOpen = func(c *Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	_, addr := startEngine(t, cfg)
	var clients []*rawClient
	for i := 0; i < 20; i++ {
		rc := dialRaw(t, addr)
		rc.handshake()
		clients = append(clients, rc)
	}
	waitFor(t, "20 connections", 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(conns) == 20 })
	payload := bytes.Repeat([]byte("news "), 1000)
	pm, err := NewPrepared(frame.OpText, payload)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewPrepared(frame.OpPing, nil); err != ErrBadOpcode {
		t.Fatalf("NewPrepared(ping) = %v, want ErrBadOpcode", err)
	}
	mu.Lock()
	failed := Broadcast(conns, pm)
	mu.Unlock()
	if failed != 0 {
		t.Fatalf("%d sends failed", failed)
	}
	for _, rc := range clients {
		rc.expect(frame.OpText, payload)
	}

	// A client connection masks each send of a prepared message.
	got := make(chan string, 1)
	cli := newClientEngine(t, Config{OnMessage: func(c *Conn, op frame.Opcode, data []byte) { got <- string(data) }})
	c := dial(t, cli, "ws://"+addr+"/")
	for i := 0; i < 2; i++ {
		if err := c.WritePrepared(pm); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-got:
			if s != string(payload) {
				t.Fatal("echo of the prepared message differs")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no echo of the prepared message")
		}
	}
}

func TestWriteErrors(t *testing.T) {
	ev := newEvents()
	cfg := echoConfig()
	ev.hook(&cfg)
	_, addr := startEngine(t, cfg)
	rc := dialRaw(t, addr)
	rc.handshake()
	c := ev.firstOpen(t)
	if err := c.WriteMessage(frame.OpPing, nil); err != ErrBadOpcode {
		t.Errorf("WriteMessage(ping) = %v, want ErrBadOpcode", err)
	}
	if err := c.Ping(make([]byte, 126)); err != ErrControlTooLong {
		t.Errorf("Ping(126 bytes) = %v, want ErrControlTooLong", err)
	}
	if err := c.Close(frame.CloseAbnormal, ""); err == nil {
		t.Errorf("Close(1006) succeeded; 1006 must never be sent")
	}
	rc.write(clientFrame(true, frame.OpClose, nil))
	rc.expect(frame.OpClose, []byte{})
	rc.expectNothingThenEOF(2 * time.Second)
	ev.closeErr(t, c, 2*time.Second)
	if err := c.WriteMessage(frame.OpText, []byte("x")); err != ErrClosed {
		t.Errorf("WriteMessage after close = %v, want ErrClosed", err)
	}
	if c.Buffered() != 0 || c.RemoteAddr().IsValid() {
		t.Errorf("closed connection: Buffered %d, RemoteAddr %v", c.Buffered(), c.RemoteAddr())
	}
}
