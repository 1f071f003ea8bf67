package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// report is what a run measured; -json writes it as is.
type report struct {
	URLs           []string `json:"urls"`
	Mode           string   `json:"mode"`
	Conns          int      `json:"conns_requested"`
	Size           int      `json:"size,omitempty"`
	Rate           float64  `json:"rate_per_conn,omitempty"`
	Interrupted    bool     `json:"interrupted"`
	DeflateOffered bool     `json:"deflate_offered"`

	Connect struct {
		Connected int64        `json:"connected"`
		Deflate   int64        `json:"deflate"` // connections that negotiated permessage-deflate
		Failed    int64        `json:"failed"`
		Cancelled int64        `json:"cancelled"` // in progress when the run ended (interrupted)
		Failures  []causeCount `json:"failures,omitempty"`
		Seconds   float64      `json:"seconds"`
		PerSecond float64      `json:"per_second"`
		Latency   latency      `json:"latency"`
	} `json:"connect"`
	Dropped     int64        `json:"dropped"`
	DropCauses  []causeCount `json:"drop_causes,omitempty"`
	Open        int64        `json:"open_at_end"`
	SendErrors  []causeCount `json:"send_errors,omitempty"`
	ErrorSample []string     `json:"error_samples,omitempty"`

	// Measurement window.
	Seconds   float64 `json:"seconds"`
	Sent      int64   `json:"messages_sent"`
	Received  int64   `json:"messages_received"`
	QueueFull int64   `json:"sends_dropped_queue_full"`
	PerSecond float64 `json:"per_second"` // round trips (echo) or messages received (rate) per second
	Unit      string  `json:"unit"`
	Latency   latency `json:"latency"`
	// Over the whole run, connect and warm-up included.
	TotalReceived int64    `json:"messages_received_total"`
	BadEchoes     int64    `json:"bad_echoes"`
	BadSample     []string `json:"bad_echo_samples,omitempty"`
	BytesOut      int64    `json:"bytes_sent"`     // on the wire, headers included
	BytesIn       int64    `json:"bytes_received"` // on the wire
	CPU           struct {
		UserSeconds   float64 `json:"user_seconds"`
		SystemSeconds float64 `json:"system_seconds"`
		Percent       float64 `json:"percent"` // of one CPU, over the window
		TotalSeconds  float64 `json:"total_seconds"`
	} `json:"cpu"`
}

type causeCount struct {
	Cause string `json:"cause"`
	Count int64  `json:"count"`
}

// latency is a histogram's summary, in microseconds.
type latency struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_us"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	P999  float64 `json:"p99.9_us"`
	Max   float64 `json:"max_us"`
}

func us(d time.Duration) float64 { return float64(d) / 1e3 }

func summarize(s *histSnapshot) latency {
	return latency{
		Count: int64(s.total),
		Mean:  us(s.Mean()),
		P50:   us(s.Quantile(0.5)),
		P90:   us(s.Quantile(0.9)),
		P99:   us(s.Quantile(0.99)),
		P999:  us(s.Quantile(0.999)),
		Max:   us(s.Quantile(1)),
	}
}

// fmtUS prints microseconds with a unit that keeps three significant digits.
func fmtUS(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fs", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.2fms", v/1e3)
	}
	return fmt.Sprintf("%.0fµs", v)
}

func (l latency) String() string {
	if l.Count == 0 {
		return "none"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (mean %s, %d samples)",
		fmtUS(l.P50), fmtUS(l.P90), fmtUS(l.P99), fmtUS(l.P999), fmtUS(l.Max), fmtUS(l.Mean), l.Count)
}

func fmtCauses(cs []causeCount) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", c.Cause, c.Count)
	}
	return b.String()
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// writeText prints the report for people.
func (rp *report) writeText(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	head := fmt.Sprintf("loadgen: %s mode, %d connections to %s", rp.Mode, rp.Conns, strings.Join(rp.URLs, ", "))
	switch rp.Mode {
	case modeEcho:
		head += fmt.Sprintf(", %d-byte messages", rp.Size)
	case modeRate:
		head += fmt.Sprintf(", %d-byte messages at %g/s each", rp.Size, rp.Rate)
	}
	if rp.Interrupted {
		head += " (interrupted)"
	}
	p("%s", head)
	c := &rp.Connect
	cancelled := ""
	if c.Cancelled > 0 {
		cancelled = fmt.Sprintf(", %d cut short", c.Cancelled)
	}
	p("  connect     %d open, %d failed%s in %.2fs (%.0f/s); time to open %s", c.Connected, c.Failed, cancelled, c.Seconds, c.PerSecond, c.Latency)
	if rp.DeflateOffered {
		p("  deflate     %d of %d connections negotiated permessage-deflate", c.Deflate, c.Connected)
	}
	if len(c.Failures) > 0 {
		p("  failures    %s", fmtCauses(c.Failures))
	}
	if rp.Dropped > 0 {
		p("  lost        %d connections before the end: %s", rp.Dropped, fmtCauses(rp.DropCauses))
	}
	if len(rp.SendErrors) > 0 {
		p("  send errors %s", fmtCauses(rp.SendErrors))
	}
	for _, s := range rp.ErrorSample {
		p("  error       %s", s)
	}
	if rp.Seconds == 0 {
		p("  window      not reached")
	} else if rp.Mode != modeIdle {
		p("  window      %.2fs: %d sent, %d received, %.0f %s/s", rp.Seconds, rp.Sent, rp.Received, rp.PerSecond, rp.Unit)
		p("  latency     %s", rp.Latency)
		if rp.QueueFull > 0 {
			p("  not sent    %d scheduled messages (the connection's write queue was full)", rp.QueueFull)
		}
		if rp.BadEchoes > 0 {
			p("  BAD ECHOES  %d", rp.BadEchoes)
			for _, s := range rp.BadSample {
				p("              %s", s)
			}
		} else {
			p("  verified    every echo, byte for byte")
		}
	} else {
		p("  held        %d connections for %.2fs", rp.Open, rp.Seconds)
	}
	if rp.Seconds > 0 {
		p("  bytes       %s sent, %s received in the window", fmtBytes(rp.BytesOut), fmtBytes(rp.BytesIn))
		p("  cpu         %.2fs user, %.2fs system in the window (%.0f%% of one CPU); %.2fs in all",
			rp.CPU.UserSeconds, rp.CPU.SystemSeconds, rp.CPU.Percent, rp.CPU.TotalSeconds)
	} else {
		p("  cpu         %.2fs in all", rp.CPU.TotalSeconds)
	}
}

func (rp *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rp)
}
