// Command loadgen opens many WebSocket connections from one process, on
// lull's event-loop client (engine.DialAsync), and measures the server at
// the other end:
//
//   - -mode idle connects and holds the connections (to measure what an
//     idle connection costs the server);
//   - -mode echo is a closed loop: each connection sends a message, waits
//     for its echo, checks it byte for byte, and sends the next; the
//     report gives round trips per second and their latency;
//   - -mode rate is an open loop: each connection sends -rate messages per
//     second on a fixed schedule whatever the server does, and latency is
//     measured from the scheduled send time, so that a server that stalls
//     the sender is charged for the wait (no coordinated omission).
//
// Typical runs, against examples/echo:
//
//	loadgen -url ws://127.0.0.1:9001/ -conns 1000 -size 1024 -duration 10s
//	loadgen -url ws://127.0.0.1:9001/ -conns 15000 -mode idle -ramp 5000
//	loadgen -url ws://127.0.0.1:9001/ -conns 10000 -mode rate -rate 10
//
// A run first opens one connection to each -url, so that a wrong address
// fails at once with one clear error; then opens -conns connections (at
// most -max-dialing at a time, at most -ramp new ones a second), binding
// them to the -sources addresses in turn when given (one local address has
// about 28,000 ports); warms up for -warmup; measures for -duration; and
// closes every connection with a close handshake. Every echoed message is
// checked against what was sent (length, connection, sequence number and
// every byte); a wrong one is reported and makes the exit status 3.
//
// While it runs, a progress line on standard error is rewritten each second
// on a terminal (one line per second otherwise). The report goes to
// standard output, and with -json also as JSON to a file. Latency
// quantiles come from a log-linear histogram whose relative error is under
// 0.4%. Ctrl-C stops the run and reports what was done so far (a second
// Ctrl-C exits at once).
//
// Exit status: 0 after a run, 1 if the run could not start (unreachable
// target, too few file descriptors), 2 for bad flags, 3 if an echo was
// wrong or no connection opened, 130 if interrupted.
//
// -deflate offers permessage-deflate without context takeover; the report
// says how many connections negotiated it, and its byte counts are those on
// the wire, compressed.
//
// One process holds as many connections as it may open files; on a
// machine with a limit of 20,000 keep -conns under about 19,000 and run
// several load generators beside each other for more.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	os.Exit(mainStatus(os.Args[1:], os.Stdout, os.Stderr))
}

// mainStatus runs the command line and returns the exit status.
func mainStatus(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the process at once
	}()
	rep, err := execute(ctx, cfg, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 1
	}
	switch {
	case rep.BadEchoes > 0:
		return 3
	case rep.Connect.Connected == 0:
		fmt.Fprintln(stderr, "loadgen: no connection opened")
		return 3
	case rep.Interrupted:
		return 130
	}
	return 0
}

// Phases of a run, for the progress line.
const (
	phaseConnect int32 = iota
	phaseWarmup
	phaseMeasure
	phaseDone
)

// execute does the run that cfg describes, prints the report to stdout
// (and -json's file) and returns it. An error means the run could not
// start or its report could not be written.
func execute(ctx context.Context, cfg *config, stdout, stderr io.Writer) (*report, error) {
	if lim := fileLimit(); lim > 0 && uint64(cfg.Conns)+64 > lim {
		return nil, fmt.Errorf("-conns %d needs about %d file descriptors, and this process may open %d (ulimit -n): lower -conns and run several load generators", cfg.Conns, cfg.Conns+64, lim)
	}
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return nil, fmt.Errorf("-cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("-cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	r := newLoadRun(cfg, stderr)
	if err := r.start(ctx); err != nil {
		if r.eng != nil {
			r.eng.Close()
		}
		return nil, err
	}
	r.startSenders()

	var phase atomic.Int32
	progressDone := make(chan struct{})
	progressExited := make(chan struct{})
	go func() {
		defer close(progressExited)
		r.progress(cfg.Progress, stderr, &phase, progressDone)
	}()

	connStart := r.now()
	r.connect(ctx)
	connEnd := r.lastDial.Load()
	if connEnd < connStart {
		connEnd = r.now()
	}

	if cfg.Mode != modeIdle && cfg.Warmup > 0 && ctx.Err() == nil {
		phase.Store(phaseWarmup)
		r.sleepUntil(ctx, r.now()+int64(cfg.Warmup))
	}
	// Latency is recorded while measuring is set, and the counters are
	// read just inside that stretch, so that both cover about the same
	// messages.
	var before, after snapshot
	measured := ctx.Err() == nil
	r.measuring.Store(measured)
	r.snap(&before)
	if measured {
		phase.Store(phaseMeasure)
		r.sleepUntil(ctx, before.at+int64(cfg.Duration))
	}
	r.snap(&after)
	r.measuring.Store(false)
	if !measured {
		after = before // no window: report none
	}
	phase.Store(phaseDone)
	close(progressDone)
	<-progressExited
	open := r.connected.Load() - r.dropped.Load()
	r.shutdown(3 * time.Second)

	rep := r.report(ctx.Err() != nil, connStart, connEnd, &before, &after, open)
	rep.writeText(stdout)
	if cfg.JSON != "" {
		if err := writeJSONFile(cfg.JSON, rep, stdout); err != nil {
			return rep, fmt.Errorf("-json: %w", err)
		}
	}
	return rep, nil
}

func writeJSONFile(path string, rep *report, stdout io.Writer) error {
	if path == "-" {
		return rep.writeJSON(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.writeJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// report gathers the run's figures.
func (r *loadRun) report(interrupted bool, connStart, connEnd int64, before, after *snapshot, open int64) *report {
	cfg := r.cfg
	rp := &report{URLs: cfg.URLs, Mode: cfg.Mode, Conns: cfg.Conns, Interrupted: interrupted}
	if cfg.Mode != modeIdle {
		rp.Size = cfg.Size
	}
	rp.Rate = cfg.Rate
	c := &rp.Connect
	c.Connected = r.connected.Load()
	c.Failed = r.failed.Load()
	c.Cancelled = r.cancelled.Load()
	c.Deflate = r.compressed.Load()
	rp.DeflateOffered = cfg.Deflate
	c.Seconds = float64(connEnd-connStart) / 1e9
	if c.Seconds > 0 {
		c.PerSecond = float64(c.Connected) / c.Seconds
	}
	var hs histSnapshot
	r.dialLat.Snapshot(&hs)
	c.Latency = summarize(&hs)
	r.mu.Lock()
	c.Failures = sortedCounts(r.failures)
	rp.DropCauses = sortedCounts(r.drops)
	rp.SendErrors = sortedCounts(r.sendErrors)
	for cause, sample := range r.errorSamples {
		if cause == "other" || strings.HasPrefix(cause, "handshake") {
			rp.ErrorSample = append(rp.ErrorSample, sample)
		}
	}
	rp.BadEchoes = r.badEchoes
	rp.BadSample = append([]string(nil), r.badExamples...)
	r.mu.Unlock()
	rp.Dropped = r.dropped.Load()
	rp.Open = open

	rp.Seconds = float64(after.at-before.at) / 1e9
	rp.Sent = after.sent - before.sent
	rp.Received = after.recv - before.recv
	rp.QueueFull = after.queueFull - before.queueFull
	rp.TotalReceived = after.recv
	if rp.Seconds > 0 {
		rp.PerSecond = float64(rp.Received) / rp.Seconds
	}
	rp.Unit = "messages"
	if cfg.Mode == modeEcho {
		rp.Unit = "round trips"
	}
	r.lat.Snapshot(&hs)
	rp.Latency = summarize(&hs)
	rp.BytesOut = after.stats.BytesOut - before.stats.BytesOut
	rp.BytesIn = after.stats.BytesIn - before.stats.BytesIn
	user := after.cpu.user - before.cpu.user
	sys := after.cpu.system - before.cpu.system
	rp.CPU.UserSeconds = user.Seconds()
	rp.CPU.SystemSeconds = sys.Seconds()
	if rp.Seconds > 0 {
		rp.CPU.Percent = 100 * (user + sys).Seconds() / rp.Seconds
	}
	end := processCPU()
	rp.CPU.TotalSeconds = (end.user + end.system).Seconds()
	return rp
}

// progress prints a status line each second until done is closed.
func (r *loadRun) progress(mode string, w io.Writer, phase *atomic.Int32, done <-chan struct{}) {
	if mode == "off" {
		<-done
		return
	}
	rewrite := mode == "auto" && isTerminal(w)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var prev, cur snapshot
	prevHist, curHist := new(histSnapshot), new(histSnapshot)
	r.snap(&prev)
	r.lat.Snapshot(prevHist)
	for {
		select {
		case <-done:
			if rewrite {
				fmt.Fprint(w, "\r\x1b[K")
			}
			return
		case <-tick.C:
		}
		r.snap(&cur)
		r.lat.Snapshot(curHist)
		recent := *curHist // 40 KB copy, once a second
		recent.Sub(prevHist)
		secs := float64(cur.at-prev.at) / 1e9
		var b strings.Builder
		fmt.Fprintf(&b, "%5.0fs ", float64(cur.at)/1e9)
		switch phase.Load() {
		case phaseConnect:
			b.WriteString("connecting")
		case phaseWarmup:
			b.WriteString("warm-up   ")
		case phaseMeasure:
			b.WriteString("measuring ")
		default:
			b.WriteString("done      ")
		}
		fmt.Fprintf(&b, "  open %d  failed %d", r.connected.Load()-r.dropped.Load(), r.failed.Load())
		if lost := r.dropped.Load(); lost > 0 {
			fmt.Fprintf(&b, "  lost %d", lost)
		}
		if r.cfg.Mode != modeIdle {
			fmt.Fprintf(&b, "  %.0f msg/s", float64(cur.recv-prev.recv)/secs)
			if recent.total > 0 {
				fmt.Fprintf(&b, "  p99 %s", fmtUS(us(recent.Quantile(0.99))))
			}
		}
		if rewrite {
			fmt.Fprintf(w, "\r%s\x1b[K", b.String())
		} else {
			fmt.Fprintln(w, b.String())
		}
		prev = cur
		prevHist, curHist = curHist, prevHist
	}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
