package main

import (
	"errors"
	"flag"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseConfigDefaultsAndValues(t *testing.T) {
	c, err := parseConfig(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != modeEcho || c.Conns != 1000 || c.Size != 1024 || c.URLs[0] != "ws://127.0.0.1:9001/" {
		t.Errorf("defaults: %+v", c)
	}
	c, err = parseConfig([]string{
		"-url", "ws://127.0.0.1:1/a, ws://[::1]:2", "-conns", "5", "-mode", "rate", "-rate", "2.5",
		"-size", "64", "-duration", "3s", "-warmup", "0", "-sources", "127.0.0.2-127.0.0.4,10.0.0.1",
		"-ramp", "100", "-max-dialing", "7", "-dial-timeout", "1s", "-json", "out.json",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ws://127.0.0.1:1/a", "ws://[::1]:2/"}
	if strings.Join(c.URLs, " ") != strings.Join(want, " ") {
		t.Errorf("URLs %q, want %q", c.URLs, want)
	}
	if c.Conns != 5 || c.Mode != modeRate || c.Rate != 2.5 || c.Size != 64 || c.Duration != 3*time.Second ||
		c.Warmup != 0 || c.Ramp != 100 || c.MaxDialing != 7 || c.DialTimeout != time.Second || c.JSON != "out.json" {
		t.Errorf("parsed %+v", c)
	}
	var srcs []string
	for _, a := range c.Sources {
		srcs = append(srcs, a.String())
	}
	if got := strings.Join(srcs, ","); got != "127.0.0.2,127.0.0.3,127.0.0.4,10.0.0.1" {
		t.Errorf("sources %s", got)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-conns", "0"}, "-conns 0: want at least 1"},
		{[]string{"-conns", "x"}, "invalid value"},
		{[]string{"-mode", "flood"}, `-mode "flood"`},
		{[]string{"-mode", "rate"}, "-mode rate needs -rate"},
		{[]string{"-rate", "5"}, "-rate applies only to -mode rate"},
		{[]string{"-size", "8"}, "-size 8: want at least 20"},
		{[]string{"-size", "100000000"}, "want at most"},
		{[]string{"-duration", "0s"}, "-duration 0s"},
		{[]string{"-warmup", "-1s"}, "-warmup"},
		{[]string{"-ramp", "-3"}, "-ramp"},
		{[]string{"-dial-timeout", "0s"}, "-dial-timeout"},
		{[]string{"-max-dialing", "0"}, "-max-dialing"},
		{[]string{"-url", "http://x/"}, "want a ws:// URL"},
		{[]string{"-url", "wss://x/"}, "wss:// is not supported"},
		{[]string{"-url", "ws:///path"}, "no host"},
		{[]string{"-url", " , "}, "no URL given"},
		{[]string{"-url", "ws://u:p@1.2.3.4/"}, "user information"},
		{[]string{"-sources", "127.0.0.300"}, "is not an IP address"},
		{[]string{"-sources", "127.0.0.9-127.0.0.2"}, "ends before it starts"},
		{[]string{"-sources", "127.0.0.1-::1"}, "mixes IPv4 and IPv6"},
		{[]string{"-sources", "10.0.0.0-10.2.0.0"}, "more than 65536"},
		{[]string{"-progress", "fancy"}, "-progress"},
		{[]string{"stray"}, `unexpected argument "stray"`},
	} {
		_, err := parseConfig(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
	if _, err := parseConfig([]string{"-help"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-help: %v", err)
	}
	// Idle mode needs no message size.
	if _, err := parseConfig([]string{"-mode", "idle", "-size", "0"}, io.Discard); err != nil {
		t.Errorf("idle with -size 0: %v", err)
	}
}

func TestMainStatusBadFlag(t *testing.T) {
	var out, errOut strings.Builder
	if got := mainStatus([]string{"-conns", "-5"}, &out, &errOut); got != 2 {
		t.Errorf("exit status %d, want 2", got)
	}
	if !strings.Contains(errOut.String(), "loadgen: -conns -5") {
		t.Errorf("stderr %q", errOut.String())
	}
}

func TestParseSourcesIPv6(t *testing.T) {
	got, err := parseSources("::1-::3")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2] != netip.MustParseAddr("::3") {
		t.Errorf("got %v", got)
	}
}
