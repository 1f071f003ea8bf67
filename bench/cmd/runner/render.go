package main

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// stat is a metric's median and range over the rounds.
type stat struct {
	Median, Min, Max float64
	N                int
}

func statOf(v []float64) (stat, bool) {
	if len(v) == 0 {
		return stat{}, false
	}
	s := slices.Clone(v)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{med, s[0], s[len(s)-1], len(s)}, true
}

func (r *results) stat(target, metric string) (stat, bool) {
	return statOf(r.Samples[target][metric])
}

// writeOutputs writes results.json (if withJSON), RESULTS.md and the charts
// into dir.
func writeOutputs(dir string, r *results, withJSON bool) error {
	if err := os.MkdirAll(filepath.Join(dir, "charts"), 0o755); err != nil {
		return err
	}
	if withJSON {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	charts := map[string]string{
		"memory.svg":     r.memoryChart(),
		"throughput.svg": r.throughputChart(),
		"latency.svg":    r.latencyChart(),
	}
	for name, svg := range charts {
		if err := os.WriteFile(filepath.Join(dir, "charts", name), []byte(svg), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "RESULTS.md"), []byte(r.markdown()), 0o644)
}

// cell formats a metric as "median [min–max]" with the ratio to gorilla.
func (r *results) cell(target, metric string, format func(float64) string, withRatio bool) string {
	st, ok := r.stat(target, metric)
	if !ok {
		return "–"
	}
	s := format(st.Median)
	if st.N > 1 {
		s += " [" + format(st.Min) + "–" + format(st.Max) + "]"
	}
	if withRatio {
		if g, ok := r.stat("gorilla", metric); ok && g.Median != 0 {
			s += fmt.Sprintf(" ×%.2f", st.Median/g.Median)
		}
	}
	return s
}

func f2(v float64) string { return fmt.Sprintf("%.2f", v) }
func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

// ms formats microseconds as milliseconds.
func ms(v float64) string {
	if v < 10000 {
		return fmt.Sprintf("%.2f", v/1000)
	}
	return fmt.Sprintf("%.1f", v/1000)
}

func (r *results) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	s := r.Settings
	p("# lull beside its peers")
	p("")
	kind := "One run"
	if r.Smoke {
		kind = "A reduced smoke run (`-smoke`: figures are not comparable to a full run)"
	}
	p("%s of `cd bench && go run ./cmd/runner`, %s to %s UTC. Each figure is the median of %d rounds, in brackets the range; ×N is the ratio to gorilla's median. The targets alternate within each round (%s), each in a fresh process.",
		kind, r.Started.Format("2006-01-02 15:04"), r.Finished.Format("15:04"), s.Rounds, strings.Join(r.Targets, ", "))
	p("")
	p("## Machine")
	p("")
	m := r.Machine
	p("- %s, %d CPUs, %.1f GiB RAM, %s, %s; file limit %s per process.", m.CPU, m.CPUs, m.MemoryGiB, m.Kernel, m.Go, m.FileLimit)
	p("- Load average %.2f %.2f %.2f before the run, %.2f %.2f %.2f after (the machine is shared: other work may have run beside it).",
		m.LoadBefore[0], m.LoadBefore[1], m.LoadBefore[2], m.LoadAfter[0], m.LoadAfter[1], m.LoadAfter[2])
	if s.Pin {
		p("- Servers pinned to CPU %s, load generators to CPU %s (taskset); each process sizes GOMAXPROCS to its CPUs. Loopback only.", s.ServerCPUs, s.ClientCPUs)
	} else {
		p("- Not pinned: servers and load generators share all CPUs. Loopback only.")
	}
	if r.NoLimit != "" {
		p("- No measurement with the server's CPU limited: %s.", r.NoLimit)
	}
	p("")
	p("## Idle memory per connection (%d connections)", s.IdleConns)
	p("")
	p("Server RSS after a GC with the connections open, minus the same before them, divided by the connections. The kernel's socket memory (about 4–5 KiB per loopback socket here) is not in it.")
	p("")
	p("| target | RSS KiB/conn | heap KiB/conn | stack KiB/conn | goroutines/conn |")
	p("|---|---|---|---|---|")
	for _, t := range r.Targets {
		p("| %s | %s | %s | %s | %s |", t, r.cell(t, "idle_rss_kib", f2, true), r.cell(t, "idle_heap_kib", f2, false),
			r.cell(t, "idle_stack_kib", f2, false), r.cell(t, "idle_goroutines_per_conn", f2, false))
	}
	echoTable := func(k string) {
		p("| target | round trips/s | p50 ms | p99 ms | p99.9 ms | server µs CPU per round trip | CPU %% server / load generator |")
		p("|---|---|---|---|---|---|---|")
		for _, t := range r.Targets {
			if idleOnly[t] {
				continue
			}
			p("| %s | %s | %s | %s | %s | %s | %s / %s |", t, r.cell(t, k+"_per_s", f0, true), r.cell(t, k+"_p50_us", ms, false),
				r.cell(t, k+"_p99_us", ms, true), r.cell(t, k+"_p999_us", ms, false), r.cell(t, k+"_server_cpu_us", f1, true),
				r.cell(t, k+"_server_cpu_pct", f0, false), r.cell(t, k+"_loadgen_cpu_pct", f0, false))
		}
	}
	const echoText = "Closed loop: each connection sends, waits for the echo (checked byte for byte), sends again; %v window after %v warm-up. Server CPU per round trip is its user+system time over the whole load generator run (connect, warm-up, window, close) divided by the messages it echoed in that run; CPU %% is the server's over that run and the load generator's over the window, in %% of one CPU."
	for _, n := range s.EchoConns {
		p("")
		p("## Echo, %d connections, %d-byte messages", n, s.Size)
		p("")
		p(echoText, s.Duration, s.Warmup)
		p("")
		echoTable(fmt.Sprintf("echo%d", n))
	}
	if s.ServerQuota > 0 {
		p("")
		p("## Echo, %d connections, %d-byte messages, the server held to %g CPU", s.LimitConns, s.Size, s.ServerQuota)
		p("")
		p("As above, but with the server in a cgroup that lets it use %g of a CPU (a CFS quota of %v per %v), while the load generator has all of CPU %s. Here the server is the bottleneck (see the CPU column), so these figures compare the servers; in the tables above, the leaner servers and the load generator run out of CPU together.",
			s.ServerQuota, time.Duration(s.ServerQuota*float64(s.QuotaPeriod)), s.QuotaPeriod, s.ClientCPUs)
		p("")
		echoTable(fmt.Sprintf("limited%d", s.LimitConns))
	}
	p("")
	p("## Rate, %d connections × %g messages/s, %d bytes", s.RateConns, s.Rate, s.Size)
	p("")
	p("Open loop: every connection sends on a fixed schedule whatever the server does (%.0f messages/s offered); latency counts from the scheduled send time, so a stalled server is charged for the wait.", float64(s.RateConns)*s.Rate)
	p("")
	p("| target | messages/s received | p50 ms | p99 ms | p99.9 ms |")
	p("|---|---|---|---|---|")
	for _, t := range r.Targets {
		if idleOnly[t] {
			continue
		}
		p("| %s | %s | %s | %s | %s |", t, r.cell(t, "rate_per_s", f0, false), r.cell(t, "rate_p50_us", ms, false),
			r.cell(t, "rate_p99_us", ms, true), r.cell(t, "rate_p999_us", ms, false))
	}
	p("")
	p("![idle memory per connection](charts/memory.svg)")
	p("![round trips per second](charts/throughput.svg)")
	p("![p99 latency](charts/latency.svg)")
	p("")
	p("## Goals")
	p("")
	for _, g := range r.goals() {
		p("- %s", g)
	}
	p("")
	p("## The load generator is not the bottleneck")
	p("")
	scalingLine := func(sc scaling, what string) {
		one, ok1 := statOf(sc.One)
		two, ok2 := statOf(sc.Two)
		if !ok1 || !ok2 || one.Median <= 0 {
			p("- %s: not measured in this run.", what)
			return
		}
		verdict := "within the 10% allowed"
		if two.Median > 1.1*one.Median {
			verdict = "MORE than the 10% allowed: the load generator may limit these figures"
			if m := r.Machine.LoadBefore[0]; m > float64(r.Machine.CPUs) {
				verdict += fmt.Sprintf(" (or the machine's other load, %.1f on %d CPUs, gave two processes a larger share of the contended CPU than one)", m, r.Machine.CPUs)
			}
		}
		p("- %s: echo against %s with %d connections, one load generator %s round trips/s, two side by side (%d connections each, same CPUs) %s together: ×%.3f, %s (median of %d).",
			what, sc.Target, s.ScaleConns, fmtRange(one, f0), s.ScaleConns/2, fmtRange(two, f0), two.Median/one.Median, verdict, one.N)
	}
	scalingLine(r.Scaling, "The server on its own CPU")
	if s.ServerQuota > 0 {
		scalingLine(r.ScalingLimited, fmt.Sprintf("The server held to %g CPU", s.ServerQuota))
	}
	p("")
	p("## Targets")
	p("")
	for _, t := range r.Targets {
		p("- **%s**: %s", t, describe[t])
	}
	for _, sk := range r.Skipped {
		p("- skipped: %s", sk)
	}
	p("")
	p("## Commands")
	p("")
	p("Each round, for each target (PORT changes each time; the runner reads the JSON reports):")
	p("")
	p("```")
	for _, c := range r.Commands {
		p("%s", c)
	}
	p("```")
	if len(r.Problems) > 0 {
		p("")
		p("## Problems during the run")
		p("")
		for _, pr := range r.Problems {
			p("- %s", pr)
		}
	}
	return b.String()
}

func fmtRange(s stat, f func(float64) string) string {
	if s.N > 1 {
		return f(s.Median) + " [" + f(s.Min) + "–" + f(s.Max) + "]"
	}
	return f(s.Median)
}

// goals checks lull's figures against the project's goals.
func (r *results) goals() []string {
	var out []string
	med := func(t, k string) (float64, bool) {
		s, ok := r.stat(t, k)
		return s.Median, ok
	}
	ratioGoal := func(what, t, peer, k string, limit float64) {
		a, ok1 := med(t, k)
		b, ok2 := med(peer, k)
		if !ok1 || !ok2 || b == 0 {
			out = append(out, fmt.Sprintf("%s: not measured in this run", what))
			return
		}
		ratio := a / b
		if ratio <= limit {
			out = append(out, fmt.Sprintf("%s: met, %.3f (goal ≤ %.2f)", what, ratio, limit))
		} else {
			out = append(out, fmt.Sprintf("%s: **not met**, %.3f (goal ≤ %.2f; %.2f KiB/conn too many)", what, ratio, limit, a-limit*b))
		}
	}
	ratioGoal("lull engine idle RSS per connection vs nbio", "lull", "nbio", "idle_rss_kib", 0.6)
	ratioGoal("lull engine idle RSS per connection vs gorilla", "lull", "gorilla", "idle_rss_kib", 0.1)
	ratioGoal("lull compat idle RSS per connection vs gorilla, both read in net/http's handler goroutine (gorilla's echo example)", "compat", "gorilla", "idle_rss_kib", 0.35)
	if floor, ok := med("nethttp", "idle_rss_kib"); ok {
		if g, ok := med("gorilla", "idle_rss_kib"); ok && g > 0 {
			c, _ := med("compat", "idle_rss_kib")
			out = append(out, fmt.Sprintf("in that shape net/http alone, with no WebSocket library (nethttp), keeps %.2f KiB per connection, ×%.3f of gorilla: no library read from the handler's goroutine can reach ×0.35; compat costs %.2f KiB above that floor", floor, floor/g, c-floor))
		}
	}
	ratioGoal("lull compat idle RSS per connection vs gorilla, both with a goroutine of their own per connection (gorilla's chat example)", "compatgo", "gorillago", "idle_rss_kib", 0.35)
	if len(r.Settings.EchoConns) == 0 {
		return out
	}
	n := slices.Max(r.Settings.EchoConns)
	echoGoals := func(k, setting string) {
		bestPeer, bestRT, bestP99, bestP99Peer := "", 0.0, math.Inf(1), ""
		for _, t := range r.Targets {
			if lullTargets[t] {
				continue
			}
			if v, ok := med(t, k+"_per_s"); ok && v > bestRT {
				bestPeer, bestRT = t, v
			}
			if v, ok := med(t, k+"_p99_us"); ok && v < bestP99 {
				bestP99Peer, bestP99 = t, v
			}
		}
		for _, t := range []string{"lull", "compat"} {
			rt, ok := med(t, k+"_per_s")
			if !ok || bestRT == 0 {
				continue
			}
			ratio := rt / bestRT
			verdict := "met"
			if ratio < 1.2 {
				verdict = fmt.Sprintf("**not met** (%.0f round trips/s short of 1.2×)", 1.2*bestRT-rt)
			}
			out = append(out, fmt.Sprintf("%s round trips/s at %d connections, %s, vs the best peer (%s): ×%.3f, goal ≥ 1.2: %s", t, n, setting, bestPeer, ratio, verdict))
			if p99, ok := med(t, k+"_p99_us"); ok && !math.IsInf(bestP99, 1) {
				verdict := "met"
				if p99 > bestP99 {
					verdict = fmt.Sprintf("**not met** (%.2f ms worse)", (p99-bestP99)/1000)
				}
				out = append(out, fmt.Sprintf("%s p99 at %d connections, %s: %.2f ms vs the best peer's (%s) %.2f ms: %s", t, n, setting, p99/1000, bestP99Peer, bestP99/1000, verdict))
			}
		}
	}
	if r.Settings.ServerQuota > 0 && r.Settings.LimitConns == n {
		echoGoals(fmt.Sprintf("limited%d", n), fmt.Sprintf("server held to %g CPU (server-bound)", r.Settings.ServerQuota))
	}
	echoGoals(fmt.Sprintf("echo%d", n), "server on its own CPU")
	return out
}

// A bar chart: groups of horizontal bars, each group on its own scale.
type bar struct {
	label         string
	med, min, max float64
	lull          bool
}

type group struct {
	title string
	bars  []bar
}

func (r *results) groupOf(title, metric string, scale float64) group {
	g := group{title: title}
	for _, t := range r.Targets {
		if st, ok := r.stat(t, metric); ok {
			g.bars = append(g.bars, bar{t, st.Median * scale, st.Min * scale, st.Max * scale, lullTargets[t]})
		}
	}
	return g
}

func (r *results) memoryChart() string {
	return svgChart(fmt.Sprintf("Idle memory per connection, KiB RSS (%d connections; lower is better)", r.Settings.IdleConns), "%.2f",
		[]group{r.groupOf("", "idle_rss_kib", 1)})
}

func (r *results) throughputChart() string {
	var gs []group
	for _, n := range r.Settings.EchoConns {
		gs = append(gs, r.groupOf(fmt.Sprintf("%d connections", n), fmt.Sprintf("echo%d_per_s", n), 1))
	}
	if s := r.Settings; s.ServerQuota > 0 {
		gs = append(gs, r.groupOf(fmt.Sprintf("%d connections, server held to %g CPU", s.LimitConns, s.ServerQuota), fmt.Sprintf("limited%d_per_s", s.LimitConns), 1))
	}
	return svgChart(fmt.Sprintf("Echo round trips per second, %d-byte messages (higher is better)", r.Settings.Size), "%.0f", gs)
}

func (r *results) latencyChart() string {
	var gs []group
	for _, n := range r.Settings.EchoConns {
		gs = append(gs, r.groupOf(fmt.Sprintf("echo, %d connections", n), fmt.Sprintf("echo%d_p99_us", n), 1e-3))
	}
	if s := r.Settings; s.ServerQuota > 0 {
		gs = append(gs, r.groupOf(fmt.Sprintf("echo, %d connections, server held to %g CPU", s.LimitConns, s.ServerQuota), fmt.Sprintf("limited%d_p99_us", s.LimitConns), 1e-3))
	}
	gs = append(gs, r.groupOf(fmt.Sprintf("rate, %d connections × %g/s", r.Settings.RateConns, r.Settings.Rate), "rate_p99_us", 1e-3))
	return svgChart("p99 latency, ms (lower is better)", "%.2f", gs)
}

// svgChart draws the groups as horizontal bars with min–max whiskers, lull's
// targets in blue and the peers in grey.
func svgChart(title, valueFormat string, groups []group) string {
	const (
		width    = 760
		left     = 90  // label column
		barArea  = 520 // longest bar
		rowH     = 22
		barH     = 14
		titleH   = 34
		groupGap = 26
	)
	h := titleH
	for _, g := range groups {
		if g.title != "" {
			h += groupGap
		}
		h += rowH * max(len(g.bars), 1)
	}
	h += 12
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", width, h, width, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="14" font-weight="bold" fill="#1a202c">%s</text>`+"\n", html.EscapeString(title))
	y := titleH
	for _, g := range groups {
		if g.title != "" {
			y += groupGap
			fmt.Fprintf(&b, `<text x="10" y="%d" font-weight="bold" fill="#4a5568">%s</text>`+"\n", y-8, html.EscapeString(g.title))
		}
		top := 0.0
		for _, br := range g.bars {
			top = math.Max(top, math.Max(br.med, br.max))
		}
		if len(g.bars) == 0 {
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#718096">not measured</text>`+"\n", left, y+15)
			y += rowH
			continue
		}
		scale := 0.0
		if top > 0 {
			scale = barArea / top
		}
		for _, br := range g.bars {
			color := "#a0aec0"
			if br.lull {
				color = "#2b6cb0"
			}
			w := br.med * scale
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="#1a202c">%s</text>`+"\n", left-8, y+barH-2, html.EscapeString(br.label))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", left, y+2, math.Max(w, 1), barH-2, color)
			if br.max > br.min {
				x1, x2, cy := float64(left)+br.min*scale, float64(left)+br.max*scale, y+barH/2+1
				fmt.Fprintf(&b, `<path d="M%.1f %dH%.1fM%.1f %dV%dM%.1f %dV%d" stroke="#1a202c" stroke-width="1" fill="none"/>`+"\n",
					x1, cy, x2, x1, cy-4, cy+4, x2, cy-4, cy+4)
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#1a202c">%s</text>`+"\n", float64(left)+math.Max(w, br.max*scale)+6, y+barH-2, fmt.Sprintf(valueFormat, br.med))
			y += rowH
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}
