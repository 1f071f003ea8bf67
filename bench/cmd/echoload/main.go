// Command echoload is a closed-loop WebSocket echo load client: it opens
// -conns connections to an echo server, keeps exactly one message of -size
// bytes in flight on each, checks every byte of every echo, and reports the
// round trips per second over a measurement window after a warm-up.
//
//	echoload -addr 127.0.0.1:9001 -conns 1000 -size 1024 -duration 10s
//
// With -client raw (the default) each connection's frame is masked once and
// written and checked as bytes on lull's poller (see raw.go): about a write
// and a read system call per round trip, so that the client costs less
// than the servers it measures. With -client engine it runs on lull's
// engine client instead (masking each message with a fresh key). Both use
// GOMAXPROCS event loops. The result is one line of JSON on standard
// output:
//
//	{"conns":1000,"size":1024,"seconds":10.0,"round_trips":..,"rtps":..,
//	 "total_round_trips":..,"p50_us":..,"p99_us":..,"errors":0}
//
// round_trips and rtps cover the window; total_round_trips also counts
// the warm-up (for CPU-per-round-trip figures); latency percentiles are
// from a log-scale histogram over the window. Any echo that differs from
// what was sent, or any connection that ends early, is an error: the exit
// status is then 1.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/bits"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
)

// connState is one connection's message in flight: its payload (sequence
// number first, so a stale or repeated echo is caught) and when it left.
type connState struct {
	payload []byte
	seq     uint64
	sentAt  int64
}

// histogram counts latencies in buckets of a quarter power of two of
// nanoseconds; loops update it with atomics.
type histogram [4 * 40]atomic.Int64

func bucket(ns int64) int {
	if ns < 1 {
		ns = 1
	}
	l := bits.Len64(uint64(ns)) - 1
	frac := 0
	if l >= 2 {
		frac = int(uint64(ns)>>(l-2)) & 3
	}
	return min(4*l+frac, len(histogram{})-1)
}

func (h *histogram) add(ns int64) { h[bucket(ns)].Add(1) }

func (h *histogram) reset() {
	for i := range h {
		h[i].Store(0)
	}
}

// quantile returns the upper bound of the bucket holding quantile q, in µs.
func (h *histogram) quantile(q float64) float64 {
	var total int64
	for i := range h {
		total += h[i].Load()
	}
	if total == 0 {
		return 0
	}
	want := int64(math.Ceil(q * float64(total)))
	var seen int64
	for i := range h {
		seen += h[i].Load()
		if seen >= want {
			l, frac := i/4, i%4
			upper := math.Ldexp(1+float64(frac+1)/4, l)
			return upper / 1e3
		}
	}
	return 0
}

type result struct {
	Conns      int     `json:"conns"`
	Size       int     `json:"size"`
	Seconds    float64 `json:"seconds"`
	RoundTrips int64   `json:"round_trips"`
	RTPS       float64 `json:"rtps"`
	Total      int64   `json:"total_round_trips"`
	P50        float64 `json:"p50_us"`
	P99        float64 `json:"p99_us"`
	Errors     int64   `json:"errors"`
}

func main() {
	addrs := flag.String("addr", "127.0.0.1:9001", "comma-separated server `addresses`; connections are spread over them")
	path := flag.String("path", "/", "request `path`")
	conns := flag.Int("conns", 1000, "connections")
	size := flag.Int("size", 1024, "message size in `bytes` (at least 8)")
	warmup := flag.Duration("warmup", 2*time.Second, "warm-up before the measurement window")
	duration := flag.Duration("duration", 10*time.Second, "measurement window")
	mode := flag.String("client", "raw", "`client`: raw (pre-masked frames written and checked as bytes on lull's poller) or engine (lull's engine client)")
	flag.Parse()
	if *size < 8 {
		*size = 8
	}

	var (
		running atomic.Bool
		total   atomic.Int64
		errs    atomic.Int64
		hist    histogram
		firstEr atomic.Value
	)
	fail := func(err error) {
		errs.Add(1)
		firstEr.CompareAndSwap(nil, err)
	}
	targets := strings.Split(*addrs, ",")
	var stop func()
	switch *mode {
	case "raw":
		running.Store(true)
		var err error
		stop, err = runRaw(targets, *path, *conns, *size, running.Load, func(latency int64) {
			total.Add(1)
			hist.add(latency)
		}, fail)
		if err != nil {
			fatal(err)
		}
	case "engine":
		stop = runEngine(targets, *path, *conns, *size, &running, &total, &hist, fail)
	default:
		fatal(fmt.Errorf("-client %q: want raw or engine", *mode))
	}
	time.Sleep(*warmup)
	hist.reset()
	t0, n0 := time.Now(), total.Load()
	time.Sleep(*duration)
	t1, n1 := time.Now(), total.Load()
	p50, p99 := hist.quantile(0.50), hist.quantile(0.99)
	running.Store(false)
	stop()

	secs := t1.Sub(t0).Seconds()
	r := result{
		Conns: *conns, Size: *size, Seconds: math.Round(secs*1000) / 1000,
		RoundTrips: n1 - n0, RTPS: math.Round(float64(n1-n0) / secs),
		Total: n1, P50: p50, P99: p99, Errors: errs.Load(),
	}
	json.NewEncoder(os.Stdout).Encode(r)
	if r.Errors > 0 {
		fmt.Fprintf(os.Stderr, "echoload: %d errors; first: %v\n", r.Errors, firstEr.Load())
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "echoload:", err)
	os.Exit(1)
}

// runEngine opens the connections with lull's engine client and starts
// the echo; the returned function stops it.
func runEngine(targets []string, path string, conns, size int, running *atomic.Bool, total *atomic.Int64, hist *histogram, fail func(error)) (stop func()) {
	send := func(c *engine.Conn, st *connState) {
		st.seq++
		binary.LittleEndian.PutUint64(st.payload, st.seq)
		st.sentAt = time.Now().UnixNano()
		if err := c.WriteMessage(frame.OpBinary, st.payload); err != nil {
			fail(fmt.Errorf("write: %w", err))
		}
	}
	e, err := engine.New(engine.Config{
		HandshakeTimeout: 30 * time.Second,
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) {
			st := c.UserData().(*connState)
			now := time.Now().UnixNano()
			if op != frame.OpBinary || !bytes.Equal(data, st.payload) {
				fail(fmt.Errorf("echo of message %d differs from what was sent (%d bytes, want %d)", st.seq, len(data), len(st.payload)))
			}
			total.Add(1)
			hist.add(now - st.sentAt)
			if running.Load() {
				send(c, st)
			}
		},
		OnClose: func(c *engine.Conn, err error) {
			if running.Load() {
				fail(fmt.Errorf("connection closed during the run: %w", err))
			}
		},
	})
	if err != nil {
		fatal(err)
	}

	open := make([]*engine.Conn, 0, conns)
	var opened, failed atomic.Int64
	done := make(chan *engine.Conn, conns)
	start := time.Now()
	for i := 0; i < conns; i++ {
		for int64(i)-opened.Load()-failed.Load() >= 500 { // bound the handshakes in flight
			time.Sleep(time.Millisecond)
		}
		url := "ws://" + strings.TrimSpace(targets[i%len(targets)]) + path
		err := e.DialAsync(url, nil, func(c *engine.Conn, err error) {
			if err != nil {
				failed.Add(1)
				fail(fmt.Errorf("dial: %w", err))
				done <- nil
				return
			}
			opened.Add(1)
			done <- c
		})
		if err != nil {
			fatal(err)
		}
	}
	for i := 0; i < conns; i++ {
		select {
		case c := <-done:
			if c != nil {
				open = append(open, c)
			}
		case <-time.After(time.Minute):
			fatal(fmt.Errorf("only %d of %d connections opened in %v", len(open), conns, time.Since(start)))
		}
	}
	if failed.Load() > 0 {
		fatal(fmt.Errorf("%d of %d connections failed", failed.Load(), conns))
	}

	running.Store(true)
	for i, c := range open {
		st := &connState{payload: bytes.Repeat([]byte{byte(i), 0x5a}, size/2+1)[:size]}
		c.SetUserData(st)
		// The loop reads UserData only once an echo comes back, which is
		// after this write.
		send(c, st)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	}
}
