package engine

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// echoRig is a closed-loop echo over real loopback sockets: a server
// engine that echoes, and a client engine whose connections each keep one
// message in flight, checking every echoed byte and sending the next.
type echoRig struct {
	srv, cli *Engine
	conns    []*Conn
	payload  []byte
	want     atomic.Int64 // round trips to run in the current batch
	sent     atomic.Int64
	got      atomic.Int64
	bad      atomic.Int64
	done     chan struct{}
}

func newEchoRig(t testing.TB, conns, size int) *echoRig {
	return newEchoRigOpts(t, conns, size, false)
}

// newEchoRigOpts is newEchoRig with permessage-deflate negotiated (the
// zero policy, DeflateOffer, the default level and threshold) when
// deflate is set; the payload is then JSON, which compresses as
// messages usually do.
func newEchoRigOpts(t testing.TB, conns, size int, deflate bool) *echoRig {
	t.Helper()
	r := &echoRig{payload: bytes.Repeat([]byte("lull"), size/4+1)[:size]}
	srvCfg := echoConfig()
	srvCfg.Loops = 1
	var opts *DialOptions
	if deflate {
		r.payload = deflatePayload("json", size)
		srvCfg.Upgrade.Deflate = &upgrade.DeflatePolicy{}
		opts = &DialOptions{Deflate: DeflateOffer}
	}
	var addr string
	r.srv, addr = startEngine(t, srvCfg)
	cli, err := New(Config{
		Loops: 1,
		OnMessage: func(c *Conn, op frame.Opcode, data []byte) {
			if !bytes.Equal(data, r.payload) {
				r.bad.Add(1)
			}
			if r.sent.Add(1) <= r.want.Load() {
				c.WriteMessage(frame.OpBinary, r.payload)
			}
			if r.got.Add(1) == r.want.Load() {
				r.done <- struct{}{}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.cli = cli
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < conns; i++ {
		c, err := cli.Dial(ctx, "ws://"+addr+"/", opts)
		if err != nil {
			t.Fatal(err)
		}
		if c.Compressed() != deflate {
			t.Fatalf("compression negotiated: %v, want %v", c.Compressed(), deflate)
		}
		r.conns = append(r.conns, c)
	}
	r.done = make(chan struct{}, 1)
	return r
}

// run makes n round trips (at least one per connection) and waits for
// them.
func (r *echoRig) run(t testing.TB, n int) {
	if n < len(r.conns) {
		n = len(r.conns)
	}
	r.got.Store(0)
	r.sent.Store(int64(len(r.conns)))
	r.want.Store(int64(n))
	for _, c := range r.conns {
		if err := c.WriteMessage(frame.OpBinary, r.payload); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-r.done:
	case <-time.After(time.Minute):
		t.Fatalf("echo stalled after %d of %d round trips", r.got.Load(), n)
	}
	if b := r.bad.Load(); b > 0 {
		t.Fatalf("%d echoes differed from what was sent", b)
	}
}

// BenchmarkEcho measures a round trip of an echo over loopback: the
// client's write, the server's read, decode, handler and write, and the
// client's read and decode. One op is one round trip; allocs/op count
// both engines.
func BenchmarkEcho(b *testing.B) {
	for _, deflate := range []bool{false, true} {
		for _, conns := range []int{1, 100} {
			for _, size := range []int{16, 1024, 16384} {
				name := fmt.Sprintf("conns=%d/size=%d", conns, size)
				if deflate {
					name = "deflate/" + name
				}
				b.Run(name, func(b *testing.B) {
					r := newEchoRigOpts(b, conns, size, deflate)
					r.run(b, 1000) // warm the pools
					b.SetBytes(int64(2 * size))
					b.ReportAllocs()
					b.ResetTimer()
					r.run(b, b.N)
				})
			}
		}
	}
}

// TestEchoAllocs asserts what BenchmarkEcho shows: in steady state an echo
// round trip allocates nothing, on either side.
func TestEchoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (sync.Pool drops items)")
	}
	for _, deflate := range []bool{false, true} {
		t.Run(fmt.Sprintf("deflate=%v", deflate), func(t *testing.T) { testEchoAllocs(t, deflate) })
	}
}

func testEchoAllocs(t *testing.T, deflate bool) {
	r := newEchoRigOpts(t, 10, 1024, deflate)
	r.run(t, 2000)
	const n = 20000
	var once sync.Once
	var before, after runtime.MemStats
	once.Do(func() { runtime.ReadMemStats(&before) })
	r.run(t, n)
	runtime.ReadMemStats(&after)
	per := float64(after.Mallocs-before.Mallocs) / n
	t.Logf("%.4f allocations per round trip (%d in %d)", per, after.Mallocs-before.Mallocs, n)
	if per > 0.01 {
		t.Errorf("%.4f allocations per echo round trip, want 0", per)
	}
}
