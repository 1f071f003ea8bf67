package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/netip"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// nShards spreads the message counters over cache lines, so that the
// event loops do not fight over one.
const nShards = 16

type counters struct {
	sent      atomic.Int64 // messages written (or queued) to the socket
	recv      atomic.Int64 // messages received and verified
	queueFull atomic.Int64 // scheduled messages dropped: the write queue was full
	_         [40]byte
}

// client is the load generator's state of one connection.
type client struct {
	id    uint32
	conn  *engine.Conn
	phase int64 // rate mode: offset of its sends within the period, ns

	// seq is the next message to send: owned by the connection's loop
	// in echo mode, by its sender goroutine in rate mode.
	seq    uint64
	sentAt int64  // echo mode: when the message in flight was sent
	want   uint64 // the next message expected back; loop only

	closed atomic.Bool
}

// loadRun is one run of the load generator.
type loadRun struct {
	cfg    *config
	urls   []string // with IP addresses
	opts   []engine.DialOptions
	pay    *payloads
	eng    *engine.Engine
	epoch  time.Time
	errLog io.Writer

	measuring atomic.Bool
	stopping  atomic.Bool
	stop      chan struct{} // closed when the senders must stop

	lat     histogram // message latency, measurement window only
	dialLat histogram // connect + handshake time of each connection
	shards  [nShards]counters

	sem        chan struct{} // connection attempts in progress
	connected  atomic.Int64
	failed     atomic.Int64
	dropped    atomic.Int64 // connections closed by the other side or an error, before the end
	compressed atomic.Int64 // connections that negotiated permessage-deflate
	cancelled  atomic.Int64 // attempts still in progress when the run ended
	dialsDone  atomic.Int64
	allDialed  chan struct{}
	lastDial   atomic.Int64 // when the last attempt ended, ns since epoch

	bufs    sync.Pool // *[]byte of cfg.Size, for echo-mode sends
	senders []*sender

	mu           sync.Mutex
	failures     map[string]int64 // connection attempts that failed, by cause
	drops        map[string]int64 // open connections lost before the end, by cause
	badEchoes    int64
	badExamples  []string
	sendErrors   map[string]int64
	errorSamples map[string]string // one full error text per cause, for "other"
}

func newLoadRun(cfg *config, errLog io.Writer) *loadRun {
	r := &loadRun{
		cfg:          cfg,
		epoch:        time.Now(),
		errLog:       errLog,
		stop:         make(chan struct{}),
		sem:          make(chan struct{}, cfg.MaxDialing),
		allDialed:    make(chan struct{}),
		failures:     map[string]int64{},
		drops:        map[string]int64{},
		sendErrors:   map[string]int64{},
		errorSamples: map[string]string{},
	}
	if cfg.Mode != modeIdle {
		r.pay = newPayloads(cfg.Size)
		size := cfg.Size
		r.bufs.New = func() any { b := make([]byte, size); return &b }
	}
	return r
}

// now returns the monotonic time since the run began, in nanoseconds.
func (r *loadRun) now() int64 { return int64(time.Since(r.epoch)) }

// start creates the client engine, resolves the URLs and checks that each
// target answers a WebSocket handshake, so that a wrong address fails at
// once with one clear error instead of thousands of failed connections.
func (r *loadRun) start(ctx context.Context) error {
	maxMsg := int64(engine.DefaultMaxMessageSize)
	if int64(r.cfg.Size) > maxMsg {
		maxMsg = int64(r.cfg.Size)
	}
	eng, err := engine.New(engine.Config{
		HandshakeTimeout: r.cfg.DialTimeout,
		MaxMessageSize:   maxMsg,
		ErrorLog:         log.New(r.errLog, "loadgen: ", 0),
		OnMessage:        r.onMessage,
		OnClose:          r.onClose,
	})
	if err != nil {
		return fmt.Errorf("starting the client engine: %w", err)
	}
	r.eng = eng
	for _, raw := range r.cfg.URLs {
		u, err := resolve(ctx, raw)
		if err != nil {
			return err
		}
		r.urls = append(r.urls, u)
	}
	for _, u := range r.urls {
		pu, _ := url.Parse(u)
		ip, _ := netip.ParseAddr(pu.Hostname())
		for _, src := range r.cfg.Sources {
			if src.Is4() != ip.Unmap().Is4() {
				return fmt.Errorf("-sources address %v cannot reach %s: one is IPv4, the other IPv6", src, u)
			}
		}
	}
	for _, src := range r.cfg.Sources {
		r.opts = append(r.opts, engine.DialOptions{LocalAddr: netip.AddrPortFrom(src, 0)})
	}
	if len(r.opts) == 0 {
		r.opts = []engine.DialOptions{{}}
	}
	if r.cfg.Deflate {
		for i := range r.opts {
			r.opts[i].Deflate = engine.DeflateOffer
		}
	}
	for i, u := range r.urls {
		pctx, cancel := context.WithTimeout(ctx, r.cfg.DialTimeout)
		c, err := eng.Dial(pctx, u, &r.opts[i%len(r.opts)])
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("cannot open a WebSocket connection to %s: %v (%s)", r.cfg.URLs[i], err, hint(classify(err)))
		}
		c.Close(frame.CloseNormal, "")
	}
	return nil
}

// hint says what a failure's cause usually means.
func hint(cause string) string {
	switch cause {
	case causeRefused:
		return "is a server listening there?"
	case causeTimeout:
		return "no answer within -dial-timeout: is the address right, is the server overloaded?"
	case causeNoPort:
		return "out of local ports or a bad -sources address: add addresses with -sources"
	case causeFiles:
		return "out of file descriptors: raise ulimit -n or lower -conns"
	}
	if len(cause) > 9 && cause[:9] == "handshake" {
		return "the server refused the WebSocket upgrade: is the URL's path right?"
	}
	return "check the URL"
}

// resolve replaces a host name in raw by its first IP address: the
// engine's asynchronous dial takes addresses only.
func resolve(ctx context.Context, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	host := u.Hostname()
	if _, err := netip.ParseAddr(host); err == nil {
		return raw, nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return "", fmt.Errorf("-url %s: %v", raw, err)
	}
	if len(ips) == 0 {
		return "", fmt.Errorf("-url %s: no address for %s", raw, host)
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	u.Host = netip.AddrPortFrom(ips[0].Unmap(), 0).Addr().String()
	if ips[0].Unmap().Is6() {
		u.Host = "[" + u.Host + "]"
	}
	u.Host += ":" + port
	return u.String(), nil
}

// connect opens cfg.Conns connections, at most cfg.MaxDialing at a time and
// at most cfg.Ramp new ones a second, and returns when every attempt has
// ended or ctx is done.
func (r *loadRun) connect(ctx context.Context) {
	n := r.cfg.Conns
	start := r.now()
	for i := 0; i < n; i++ {
		if r.cfg.Ramp > 0 {
			due := start + int64(float64(i)*1e9/r.cfg.Ramp)
			if !r.sleepUntil(ctx, due) {
				return
			}
		}
		select {
		case r.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		id := uint32(i)
		t0 := r.now()
		err := r.eng.DialAsync(r.urls[i%len(r.urls)], &r.opts[i%len(r.opts)], func(c *engine.Conn, err error) {
			r.dialed(id, t0, c, err)
		})
		if err != nil {
			r.dialed(id, t0, nil, err)
		}
	}
	select {
	case <-r.allDialed:
	case <-ctx.Done():
	}
}

// sleepUntil waits until due (ns since the epoch); false if ctx ended first.
func (r *loadRun) sleepUntil(ctx context.Context, due int64) bool {
	d := due - r.now()
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(time.Duration(d))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dialed ends a connection attempt. On a loop goroutine, or the dialling
// one when DialAsync failed at once.
func (r *loadRun) dialed(id uint32, t0 int64, c *engine.Conn, err error) {
	<-r.sem
	now := r.now()
	switch {
	case err != nil && r.stopping.Load():
		r.cancelled.Add(1) // cut short by the end of the run, not a failure
	case err != nil:
		r.failed.Add(1)
		r.count(r.failures, err)
	default:
		r.dialLat.Record(time.Duration(now - t0))
		r.connected.Add(1)
		if c.Compressed() {
			r.compressed.Add(1)
		}
		cl := &client{id: id, conn: c}
		c.SetUserData(cl)
		if !r.stopping.Load() {
			switch r.cfg.Mode {
			case modeEcho:
				r.sendEcho(cl)
			case modeRate:
				r.senders[int(id)%len(r.senders)].add(cl)
			}
		}
	}
	r.lastDial.Store(now)
	if r.dialsDone.Add(1) == int64(r.cfg.Conns) {
		close(r.allDialed)
	}
}

// count adds one to err's cause in m.
func (r *loadRun) count(m map[string]int64, err error) {
	cause := classify(err)
	r.mu.Lock()
	m[cause]++
	if _, ok := r.errorSamples[cause]; !ok {
		r.errorSamples[cause] = err.Error()
	}
	r.mu.Unlock()
}

func (r *loadRun) onClose(c *engine.Conn, err error) {
	cl, _ := c.UserData().(*client)
	if cl == nil {
		return // the probe
	}
	cl.closed.Store(true)
	if !r.stopping.Load() {
		if err == nil {
			err = io.EOF
		}
		r.dropped.Add(1)
		r.count(r.drops, err)
	}
}

// sendEcho sends cl's next message. Echo mode, on cl's loop.
func (r *loadRun) sendEcho(cl *client) {
	bp := r.bufs.Get().(*[]byte)
	now := r.now()
	r.pay.fill(*bp, cl.id, cl.seq, now)
	cl.sentAt = now
	err := cl.conn.WriteMessage(frame.OpBinary, *bp)
	r.bufs.Put(bp)
	if err != nil {
		r.sendFailed(err)
		return
	}
	cl.seq++
	r.shards[cl.id%nShards].sent.Add(1)
}

func (r *loadRun) sendFailed(err error) {
	if errors.Is(err, engine.ErrClosed) {
		return // counted by onClose
	}
	r.count(r.sendErrors, err)
}

// onMessage checks an echo, records its latency and, in echo mode, sends
// the next message.
func (r *loadRun) onMessage(c *engine.Conn, op frame.Opcode, data []byte) {
	cl, _ := c.UserData().(*client)
	if cl == nil || r.pay == nil {
		return
	}
	now := r.now()
	var sched int64
	var bad *echoError
	if op != frame.OpBinary {
		bad = &echoError{cl.id, cl.want, "echo is a " + op.String() + " message, sent binary"}
	} else {
		sched, bad = r.pay.check(data, cl.id, cl.want)
	}
	cl.want++
	if bad != nil {
		r.mu.Lock()
		r.badEchoes++
		if len(r.badExamples) < 5 {
			r.badExamples = append(r.badExamples, bad.Error())
		}
		r.mu.Unlock()
	} else {
		r.shards[cl.id%nShards].recv.Add(1)
		if r.measuring.Load() {
			// Echo mode: from the actual send; rate mode: from the
			// scheduled send, so that a late send counts as latency.
			from := sched
			if r.cfg.Mode == modeEcho {
				from = cl.sentAt
			}
			r.lat.Record(time.Duration(now - from))
		}
	}
	if r.cfg.Mode == modeEcho && !r.stopping.Load() {
		r.sendEcho(cl)
	}
}

// A sender sends rate mode's messages for a share of the connections, each
// at its own phase in every period of 1/rate seconds, on schedule whatever
// the echoes do (open loop). A send that is late keeps its scheduled time,
// so that the lateness counts in the latency (no coordinated omission).
type sender struct {
	r       *loadRun
	mu      sync.Mutex
	pending []*client
	list    []*client // sorted by phase
	buf     []byte
}

func (s *sender) add(cl *client) {
	s.mu.Lock()
	s.pending = append(s.pending, cl)
	s.mu.Unlock()
}

// phaseOf spreads connections over the period by the golden ratio, so that
// any number of them is about evenly spaced.
func phaseOf(id uint32, period float64) int64 {
	f := math.Mod(float64(id)*0.6180339887498949, 1)
	return int64(f * period)
}

func (s *sender) run(period float64) {
	r := s.r
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	base0 := r.now()
	for p := int64(0); ; p++ {
		base := base0 + int64(float64(p)*period)
		s.mu.Lock()
		if len(s.pending) > 0 {
			for _, cl := range s.pending {
				cl.phase = phaseOf(cl.id, period)
			}
			s.list = append(s.list, s.pending...)
			s.pending = s.pending[:0]
			sort.Slice(s.list, func(i, j int) bool { return s.list[i].phase < s.list[j].phase })
		}
		s.mu.Unlock()
		if len(s.list) == 0 {
			// Nobody yet: wait a period.
			t.Reset(time.Duration(base + int64(period) - r.now()))
			select {
			case <-t.C:
			case <-r.stop:
				return
			}
			continue
		}
		live := s.list[:0]
		for _, cl := range s.list {
			if cl.closed.Load() {
				continue
			}
			live = append(live, cl)
			due := base + cl.phase
			if d := due - r.now(); d > 0 {
				t.Reset(time.Duration(d))
				select {
				case <-t.C:
				case <-r.stop:
					return
				}
			} else {
				select {
				case <-r.stop:
					return
				default:
				}
			}
			r.pay.fill(s.buf, cl.id, cl.seq, due)
			if err := cl.conn.WriteMessage(frame.OpBinary, s.buf); err != nil {
				if errors.Is(err, engine.ErrWriteQueueFull) {
					r.shards[cl.id%nShards].queueFull.Add(1)
				} else {
					r.sendFailed(err)
				}
				continue
			}
			cl.seq++
			r.shards[cl.id%nShards].sent.Add(1)
		}
		clear(s.list[len(live):])
		s.list = live
	}
}

// Causes of failed connections and lost ones.
const (
	causeRefused = "refused"
	causeTimeout = "timeout"
	causeReset   = "reset"
	causeNoPort  = "no local address or port"
	causeFiles   = "too many open files"
	causeEOF     = "closed by the server without a close frame"
)

// classify names the cause of a failed or lost connection.
func classify(err error) string {
	var he *upgrade.HandshakeError
	var ce *engine.CloseError
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return causeRefused
	case errors.Is(err, engine.ErrHandshakeTimeout), errors.Is(err, syscall.ETIMEDOUT),
		errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return causeTimeout
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return causeReset
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return causeNoPort
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return causeFiles
	case errors.As(err, &he):
		if he.StatusCode != 101 {
			return fmt.Sprintf("handshake status %d", he.StatusCode)
		}
		return "handshake: " + he.Err.Error()
	case errors.As(err, &ce):
		return fmt.Sprintf("close code %d from the server", int(ce.Code))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return causeEOF
	case errors.Is(err, engine.ErrReadTimeout), errors.Is(err, engine.ErrWriteTimeout), errors.Is(err, engine.ErrCloseTimeout):
		return causeTimeout
	}
	return "other"
}

// snapshot is the counters at one moment.
type snapshot struct {
	at                    int64
	sent, recv, queueFull int64
	stats                 engine.Stats
	cpu                   cpuTimes
}

func (r *loadRun) snap(s *snapshot) {
	s.at = r.now()
	s.sent, s.recv, s.queueFull = 0, 0, 0
	for i := range r.shards {
		s.sent += r.shards[i].sent.Load()
		s.recv += r.shards[i].recv.Load()
		s.queueFull += r.shards[i].queueFull.Load()
	}
	s.stats = r.eng.Stats()
	s.cpu = processCPU()
}

// startSenders starts rate mode's sender goroutines, one per CPU.
func (r *loadRun) startSenders() {
	if r.cfg.Mode != modeRate {
		return
	}
	period := 1e9 / r.cfg.Rate
	for range runtime.GOMAXPROCS(0) {
		s := &sender{r: r, buf: make([]byte, r.cfg.Size)}
		r.senders = append(r.senders, s)
		go s.run(period)
	}
}

// shutdown stops sending and closes every connection, waiting at most
// grace for the close handshakes.
func (r *loadRun) shutdown(grace time.Duration) {
	r.stopping.Store(true)
	close(r.stop)
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	r.eng.Shutdown(ctx)
}

// sortedCounts returns m's entries, largest first.
func sortedCounts(m map[string]int64) []causeCount {
	out := make([]causeCount, 0, len(m))
	for k, v := range m {
		out = append(out, causeCount{Cause: k, Count: v})
	}
	slices.SortFunc(out, func(a, b causeCount) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		if a.Cause < b.Cause {
			return -1
		}
		return 1
	})
	return out
}
