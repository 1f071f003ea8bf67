package main

import (
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStatOf(t *testing.T) {
	for _, tc := range []struct {
		in          []float64
		med, lo, hi float64
		ok          bool
	}{
		{nil, 0, 0, 0, false},
		{[]float64{5}, 5, 5, 5, true},
		{[]float64{3, 1, 2}, 2, 1, 3, true},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4, true},
	} {
		s, ok := statOf(tc.in)
		if ok != tc.ok || s.Median != tc.med || s.Min != tc.lo || s.Max != tc.hi {
			t.Errorf("statOf(%v) = %+v, %v", tc.in, s, ok)
		}
	}
}

func fixture() *results {
	return &results{
		Started:  time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
		Finished: time.Date(2026, 1, 2, 3, 24, 0, 0, time.UTC),
		Settings: settings{Rounds: 3, IdleConns: 15000, EchoConns: []int{100, 1000}, Size: 1024, RateConns: 10000, Rate: 5,
			Warmup: 2 * time.Second, Duration: 10 * time.Second, Pin: true, ServerCPUs: "0", ClientCPUs: "1", ScaleConns: 1000,
			ServerQuota: 0.5, QuotaPeriod: 10 * time.Millisecond, LimitConns: 1000},
		Targets: []string{"lull", "gorilla", "nbio", "compatgo", "gorillago", "nethttp"},
		Skipped: []string{"compat: does not build yet"},
		Samples: map[string]map[string][]float64{
			"lull": {"idle_rss_kib": {0.5, 0.4, 0.6}, "echo1000_per_s": {150000, 140000, 160000}, "echo1000_p99_us": {5000, 6000, 7000},
				"echo100_per_s": {1, 2, 3}, "rate_p99_us": {900, 1000, 1100},
				"limited1000_per_s": {40000, 45000, 50000}, "limited1000_p99_us": {30000, 31000, 32000},
				"limited1000_server_cpu_pct": {50, 50, 51}, "limited1000_loadgen_cpu_pct": {60, 61, 62}},
			"gorilla": {"idle_rss_kib": {12, 13, 14}, "echo1000_per_s": {100000, 100000, 100000}, "echo1000_p99_us": {4000, 4000, 4000},
				"limited1000_per_s": {30000, 30000, 30000}, "limited1000_p99_us": {35000, 35000, 35000}},
			"nethttp":   {"idle_rss_kib": {8, 8, 8}},
			"compatgo":  {"idle_rss_kib": {3, 3, 3}},
			"gorillago": {"idle_rss_kib": {10, 10, 10}},
			"nbio": {"idle_rss_kib": {1, 1, 1}, "echo1000_per_s": {110000, 120000, 130000}, "echo1000_p99_us": {9000, 9000, 9000},
				"limited1000_per_s": {36000, 36000, 36000}, "limited1000_p99_us": {29000, 29000, 29000}},
		},
		Scaling:        scaling{Target: "lull", One: []float64{100, 100, 100}, Two: []float64{105, 104, 106}},
		ScalingLimited: scaling{Target: "lull", One: []float64{100, 100, 100}, Two: []float64{120, 115, 125}},
	}
}

func TestMarkdownAndGoals(t *testing.T) {
	r := fixture()
	md := r.markdown()
	for _, want := range []string{
		"| lull | 0.50 [0.40–0.60] ×0.04 |",       // median, range, ratio to gorilla
		"| gorilla | 13.00 [12.00–14.00] ×1.00 |", // the baseline
		"150000 [140000–160000] ×1.50",
		"engine idle RSS per connection vs nbio: met, 0.500 (goal ≤ 0.60)",
		"engine idle RSS per connection vs gorilla: met, 0.038",
		"compat idle RSS per connection vs gorilla, both read in net/http's handler goroutine (gorilla's echo example): not measured",
		"in that shape net/http alone, with no WebSocket library (nethttp), keeps 8.00 KiB per connection, ×0.615 of gorilla",
		"compat idle RSS per connection vs gorilla, both with a goroutine of their own per connection (gorilla's chat example): met, 0.300 (goal ≤ 0.35)",
		"lull round trips/s at 1000 connections, server on its own CPU, vs the best peer (nbio): ×1.250, goal ≥ 1.2: met",
		"lull p99 at 1000 connections, server on its own CPU: 6.00 ms vs the best peer's (gorilla) 4.00 ms: **not met** (2.00 ms worse)",
		"lull round trips/s at 1000 connections, server held to 0.5 CPU (server-bound), vs the best peer (nbio): ×1.250, goal ≥ 1.2: met",
		"lull p99 at 1000 connections, server held to 0.5 CPU (server-bound): 31.00 ms vs the best peer's (nbio) 29.00 ms: **not met** (2.00 ms worse)",
		"## Echo, 1000 connections, 1024-byte messages, the server held to 0.5 CPU",
		"(a CFS quota of 5ms per 10ms)",
		"| 45000 [40000–50000] ×1.50 |",
		"| 50 [50–51] / 61 [60–62] |",
		"The server on its own CPU: echo against lull with 1000 connections, one load generator 100 [100–100] round trips/s, two side by side (500 connections each, same CPUs) 105 [104–106] together: ×1.050, within the 10% allowed",
		"The server held to 0.5 CPU: echo against lull",
		"×1.200, MORE than the 10% allowed",
		"skipped: compat: does not build yet",
		"![idle memory per connection](charts/memory.svg)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("RESULTS.md lacks %q", want)
		}
	}
	if strings.Contains(md, "| nethttp | –") {
		t.Error("an idle-only target has a row in an echo or rate table")
	}
	if t.Failed() {
		t.Log(md)
	}
}

func TestChartsAreWellFormedSVG(t *testing.T) {
	r := fixture()
	for name, svg := range map[string]string{"memory": r.memoryChart(), "throughput": r.throughputChart(), "latency": r.latencyChart()} {
		d := xml.NewDecoder(strings.NewReader(svg))
		rects := 0
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
				rects++
			}
		}
		if rects < 2 {
			t.Errorf("%s: %d rects", name, rects)
		}
	}
	// The highest value of a group (gorilla's max, 14) reaches the end of
	// the bar area (90 + 520); lull is blue.
	mem := r.memoryChart()
	if !strings.Contains(mem, "H610.0") || !strings.Contains(mem, "#2b6cb0") {
		t.Errorf("memory chart:\n%s", mem)
	}
}

func TestRenderRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if err := writeOutputs(dir, fixture(), true); err != nil {
		t.Fatal(err)
	}
	back, err := loadResults(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir2 := t.TempDir()
	if err := writeOutputs(dir2, back, false); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"RESULTS.md", "charts/memory.svg", "charts/throughput.svg", "charts/latency.svg"} {
		a, _ := os.ReadFile(filepath.Join(dir, f))
		b, err := os.ReadFile(filepath.Join(dir2, f))
		if err != nil || string(a) != string(b) || len(a) == 0 {
			t.Errorf("%s differs after re-rendering from results.json (%v)", f, err)
		}
	}
}
