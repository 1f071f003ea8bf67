package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Modes of operation.
const (
	modeIdle = "idle" // connect and hold the connections
	modeEcho = "echo" // closed loop: send, wait for the echo, repeat
	modeRate = "rate" // open loop: send at a fixed rate, whatever comes back
)

// headerSize is the part of every message that identifies it: connection
// (4 bytes), sequence number (8) and scheduled send time (8).
const headerSize = 20

// maxSize bounds -size, so that a typo cannot ask for gigabytes per message.
const maxSize = 64 << 20

// config is the parsed command line.
type config struct {
	URLs        []string     // ws:// URLs, dialled in turn
	Conns       int          // connections to open
	Sources     []netip.Addr // local addresses to bind, in turn; none: the kernel chooses
	Ramp        float64      // new connections per second; 0: as fast as MaxDialing allows
	Mode        string       // modeIdle, modeEcho or modeRate
	Size        int          // message size in bytes
	Rate        float64      // messages per second per connection, rate mode
	Duration    time.Duration
	Warmup      time.Duration
	DialTimeout time.Duration
	MaxDialing  int // connection attempts in progress at once
	Deflate     bool
	JSON        string // file for the JSON report; "-" is standard output
	CPUProfile  string
	Progress    string // "auto", "line" or "off"
}

// parseConfig parses the command line (without the program name). Errors
// name the flag and what is wrong with it; flag's own usage text goes to
// output.
func parseConfig(args []string, output io.Writer) (*config, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.Usage = func() {
		fmt.Fprintf(output, "Usage: loadgen [flags]\n\n%s\nFlags:\n", usageText)
		fs.PrintDefaults()
	}
	c := &config{}
	urls := fs.String("url", "ws://127.0.0.1:9001/", "comma-separated ws:// `URLs` of the server(s); connections go to each in turn")
	fs.IntVar(&c.Conns, "conns", 1000, "`number` of connections")
	sources := fs.String("sources", "", "local `addresses` to bind, comma-separated, each an address or a range like 127.0.0.2-127.0.0.20; connections take them in turn, so that more connections fit than one address has ports")
	fs.Float64Var(&c.Ramp, "ramp", 0, "new connections per `second` (0: as fast as -max-dialing allows)")
	fs.StringVar(&c.Mode, "mode", modeEcho, "`mode`: idle (connect and hold), echo (closed loop: send, wait for the echo, repeat) or rate (open loop: -rate messages per second per connection)")
	fs.IntVar(&c.Size, "size", 1024, "message size in `bytes` (at least 20)")
	fs.Float64Var(&c.Rate, "rate", 0, "messages per `second` per connection (-mode rate)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "measurement `window`, after the connections are open and the warm-up is over")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "load before the measurement window, not counted")
	fs.DurationVar(&c.DialTimeout, "dial-timeout", 10*time.Second, "limit for each connection's TCP connect and opening handshake")
	fs.IntVar(&c.MaxDialing, "max-dialing", 256, "connection attempts in progress at once")
	fs.BoolVar(&c.Deflate, "deflate", false, "offer permessage-deflate without context takeover (engine.DeflateOffer); the report counts the connections that negotiated it")
	fs.StringVar(&c.JSON, "json", "", "also write the report as JSON to `file` (- for standard output)")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the load generator to `file`")
	fs.StringVar(&c.Progress, "progress", "auto", "live progress on standard error: auto (a rewritten line on a terminal, a line per second otherwise), line or off")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: every setting is a flag (see -help)", fs.Arg(0))
	}
	var err error
	if c.URLs, err = parseURLs(*urls); err != nil {
		return nil, err
	}
	if c.Sources, err = parseSources(*sources); err != nil {
		return nil, err
	}
	return c, c.check()
}

const usageText = `loadgen opens many WebSocket connections from one process and measures
a server: idle connections held, closed-loop echo round trips, or an
open-loop message rate, with every echoed byte verified.

  loadgen -url ws://127.0.0.1:9001/ -conns 1000 -mode echo -size 1024 -duration 10s
  loadgen -url ws://127.0.0.1:9001/ -conns 15000 -mode idle -ramp 5000
  loadgen -url ws://127.0.0.1:9001/ -conns 10000 -mode rate -rate 10 -sources 127.0.0.2-127.0.0.5
`

func (c *config) check() error {
	switch c.Mode {
	case modeIdle, modeEcho, modeRate:
	default:
		return fmt.Errorf("-mode %q: want idle, echo or rate", c.Mode)
	}
	switch {
	case c.Conns < 1:
		return fmt.Errorf("-conns %d: want at least 1", c.Conns)
	case c.Ramp < 0:
		return fmt.Errorf("-ramp %v: want a rate of 0 (no limit) or more", c.Ramp)
	case c.Mode != modeIdle && c.Size < headerSize:
		return fmt.Errorf("-size %d: want at least %d bytes (each message carries its connection, sequence number and send time, which the echo is checked against)", c.Size, headerSize)
	case c.Size > maxSize:
		return fmt.Errorf("-size %d: want at most %d bytes", c.Size, maxSize)
	case c.Mode == modeRate && c.Rate <= 0:
		return errors.New("-mode rate needs -rate, the messages per second per connection (more than 0)")
	case c.Mode != modeRate && c.Rate != 0:
		return fmt.Errorf("-rate applies only to -mode rate (this is -mode %s)", c.Mode)
	case c.Rate > 1e6:
		return fmt.Errorf("-rate %v: want at most 1000000 messages per second per connection", c.Rate)
	case c.Duration <= 0:
		return fmt.Errorf("-duration %v: want more than 0", c.Duration)
	case c.Warmup < 0:
		return fmt.Errorf("-warmup %v: want 0 or more", c.Warmup)
	case c.DialTimeout <= 0:
		return fmt.Errorf("-dial-timeout %v: want more than 0", c.DialTimeout)
	case c.MaxDialing < 1:
		return fmt.Errorf("-max-dialing %d: want at least 1", c.MaxDialing)
	}
	switch c.Progress {
	case "auto", "line", "off":
	default:
		return fmt.Errorf("-progress %q: want auto, line or off", c.Progress)
	}
	return nil
}

// parseURLs splits and checks -url. Host names are resolved later, once,
// because the engine's asynchronous dial takes IP addresses only.
func parseURLs(s string) ([]string, error) {
	var out []string
	for _, raw := range strings.Split(s, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("-url %q: %v", raw, err)
		}
		switch u.Scheme {
		case "ws":
		case "wss":
			return nil, fmt.Errorf("-url %q: wss:// is not supported: the engine's client speaks plain ws:// (put a TLS terminator in front, or measure without TLS)", raw)
		default:
			return nil, fmt.Errorf("-url %q: want a ws:// URL, like ws://127.0.0.1:9001/", raw)
		}
		if u.Hostname() == "" {
			return nil, fmt.Errorf("-url %q: no host", raw)
		}
		if u.User != nil {
			return nil, fmt.Errorf("-url %q: user information in the URL is not supported", raw)
		}
		if u.Path == "" {
			u.Path = "/"
		}
		out = append(out, u.String())
	}
	if len(out) == 0 {
		return nil, errors.New("-url: no URL given")
	}
	return out, nil
}

// maxSources bounds the addresses -sources may name.
const maxSources = 1 << 16

// parseSources parses -sources: comma-separated addresses and ranges
// FIRST-LAST of one family.
func parseSources(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		first, last, isRange := strings.Cut(part, "-")
		a, err := netip.ParseAddr(strings.TrimSpace(first))
		if err != nil {
			return nil, fmt.Errorf("-sources %q: %q is not an IP address", part, first)
		}
		a = a.Unmap()
		b := a
		if isRange {
			if b, err = netip.ParseAddr(strings.TrimSpace(last)); err != nil {
				return nil, fmt.Errorf("-sources %q: %q is not an IP address", part, last)
			}
			b = b.Unmap()
			if a.Is4() != b.Is4() {
				return nil, fmt.Errorf("-sources %q: the range mixes IPv4 and IPv6", part)
			}
			if b.Less(a) {
				return nil, fmt.Errorf("-sources %q: the range ends before it starts", part)
			}
		}
		for x := a; ; x = x.Next() {
			if len(out) == maxSources {
				return nil, fmt.Errorf("-sources: more than %d addresses", maxSources)
			}
			out = append(out, x)
			if x == b {
				break
			}
		}
	}
	return out, nil
}
