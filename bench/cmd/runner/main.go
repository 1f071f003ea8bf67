// Command runner measures lull beside its peers on this machine, in one run,
// with cmd/loadgen, and writes bench/RESULTS.md, bench/results.json and the
// charts bench/charts/{memory,throughput,latency}.svg.
//
//	cd bench && go run ./cmd/runner                # the full run, about 35 minutes
//	cd bench && go run ./cmd/runner -smoke         # a reduced run, about a minute (CI)
//	cd bench && go run ./cmd/runner -render results.json   # re-render, no measuring
//
// Each target is an echo server in its own process: lull's engine
// (examples/echo), lull's compat package (servers/compat), and the peers in servers/, each written the way its
// library documents. Rounds alternate the targets (A B C … A B C …) so that
// drift in the machine's load hits them alike, and each figure is the median
// of the rounds, with the range. In every round each target gets a fresh
// process and these measurements, one after the other:
//
//   - idle: loadgen opens -idle-conns connections and holds them; the server
//     reports its resident memory after a GC before and while they are
//     open; the difference divided by the connections is the cost of one
//     idle connection (the kernel's socket buffers are not in it);
//   - echo at 100 and at 1,000 connections: closed-loop round trips per
//     second with 1 KiB messages, latency quantiles, and the server's CPU
//     time per round trip;
//   - rate: -rate-conns connections each sending -rate messages a second,
//     open loop, latency from the scheduled send time.
//
// With -pin (the default where taskset exists) the server runs on
// -server-cpus and the load generator on -client-cpus. On two CPUs that
// leaves a lean server and the load generator, which costs about as much
// per round trip, out of CPU together; so each round also measures echo at
// the largest -echo-conns count with the server held to -server-quota of a
// CPU by a cgroup (where the runner may make one, as root), where the
// server is the bottleneck and the figures compare servers. A last step
// checks that the load generator is not the bottleneck: two load
// generators with half the connections each, against lull's engine, side
// by side with one, in both settings.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// allTargets are the servers the runner knows, in the order of the tables.
var allTargets = []string{"lull", "compat", "gorilla", "gobwas", "gws", "nbio", "coder", "compatgo", "gorillago", "nethttp"}

// lullTargets are lull's own; the goals compare them with the peers.
var lullTargets = map[string]bool{"lull": true, "compat": true, "compatgo": true}

// idleOnly are the targets measured for idle memory only: the same
// libraries in another shape, and net/http's own floor.
var idleOnly = map[string]bool{"compatgo": true, "gorillago": true, "nethttp": true}

// describe says what each target is.
var describe = map[string]string{
	"lull":      "lull's engine (examples/echo): event loops, no goroutine or buffer per idle connection",
	"compat":    "lull's gorilla-compatible package (servers/compat: gorilla's echo with the import changed)",
	"gorilla":   "gorilla/websocket v1.5.3, goroutine per connection (its examples/echo)",
	"gobwas":    "gobwas/ws v1.5.0, zero-copy Upgrade and a wsutil read loop per connection",
	"gws":       "lxzan/gws v1.8.9, gws.NewServer with an OnMessage echo",
	"nbio":      "lesismal/nbio v1.6.9, nbhttp IOModNonBlocking, payloads released after OnMessage",
	"coder":     "coder/websocket v1.8.15, Accept then Read/Write in the handler",
	"compatgo":  "idle memory only: servers/gorillago with the import changed to lull's compat",
	"gorillago": "idle memory only: gorilla/websocket v1.5.3 in the shape of its chat example (the handler starts a goroutine per connection to read, and returns)",
	"nethttp":   "idle memory only: no WebSocket library; net/http's handler hijacks, answers the handshake and blocks in Read (the floor of any library read from the handler's goroutine)",
}

// settings are one run's sizes and times.
type settings struct {
	Rounds      int           `json:"rounds"`
	IdleConns   int           `json:"idle_conns"`
	EchoConns   []int         `json:"echo_conns"`
	Size        int           `json:"size"`
	RateConns   int           `json:"rate_conns"`
	Rate        float64       `json:"rate_per_conn"`
	Warmup      time.Duration `json:"warmup_ns"`
	Duration    time.Duration `json:"duration_ns"`
	Sources     string        `json:"sources"`
	Pin         bool          `json:"pinned"`
	ServerCPUs  string        `json:"server_cpus"`
	ClientCPUs  string        `json:"client_cpus"`
	ScaleConns  int           `json:"scaling_conns"`
	ScaleRounds int           `json:"scaling_rounds"`
	// ServerQuota is the share of a CPU the server gets in the limited
	// echo measurement (0: not measured), per QuotaPeriod.
	ServerQuota float64       `json:"server_quota_cpus,omitempty"`
	QuotaPeriod time.Duration `json:"quota_period_ns,omitempty"`
	LimitConns  int           `json:"limited_conns,omitempty"`
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("runner: ")
	var s settings
	targetList := flag.String("targets", strings.Join(allTargets, ","), "comma-separated `targets`: "+strings.Join(allTargets, ", "))
	smoke := flag.Bool("smoke", false, "a reduced run of about a minute (for CI): one round, fewer connections, 1 s windows; writes to a temporary directory unless -out is set")
	render := flag.String("render", "", "re-render RESULTS.md and the charts from this results.json, measuring nothing")
	out := flag.String("out", "", "`directory` for RESULTS.md, results.json and charts/ (default: this directory, or a temporary one with -smoke)")
	flag.IntVar(&s.Rounds, "rounds", 5, "rounds; each measures every target once (five keep a noisy machine's swings out of the medians better than three)")
	flag.IntVar(&s.IdleConns, "idle-conns", 15000, "idle connections for the memory measurement")
	echoConns := flag.String("echo-conns", "100,1000", "connection counts for the echo measurements")
	flag.IntVar(&s.Size, "size", 1024, "message size in bytes")
	flag.IntVar(&s.RateConns, "rate-conns", 10000, "connections for the rate measurement")
	flag.Float64Var(&s.Rate, "rate", 2, "messages per second per connection in the rate measurement (the default offers 20,000 messages/s at 10,000 connections, which every target here can serve: an overloaded open loop measures only its backlog)")
	flag.DurationVar(&s.Warmup, "warmup", 2*time.Second, "warm-up before each echo and rate measurement")
	flag.DurationVar(&s.Duration, "duration", 10*time.Second, "measurement window of each echo and rate measurement")
	flag.StringVar(&s.Sources, "sources", "127.0.0.2-127.0.0.9", "loadgen's -sources (local addresses to spread connections over)")
	_, err := exec.LookPath("taskset")
	flag.BoolVar(&s.Pin, "pin", err == nil && runtime.NumCPU() > 1, "pin server and load generator to separate CPUs with taskset")
	flag.StringVar(&s.ServerCPUs, "server-cpus", "0", "CPU list for the servers with -pin")
	flag.StringVar(&s.ClientCPUs, "client-cpus", "1", "CPU list for the load generators with -pin")
	flag.IntVar(&s.ScaleConns, "scaling-conns", 1000, "connections for the load generator check (one process, or two with half each)")
	flag.IntVar(&s.ScaleRounds, "scaling-rounds", 3, "rounds of the load generator check")
	flag.Float64Var(&s.ServerQuota, "server-quota", 0.5, "share of a CPU a server gets in the limited echo measurement, through a cgroup (0: no limited measurement)")
	flag.DurationVar(&s.QuotaPeriod, "quota-period", 10*time.Millisecond, "the cgroup's accounting period for -server-quota")
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("unexpected argument %q (see -help)", flag.Arg(0))
	}

	if *render != "" {
		res, err := loadResults(*render)
		if err != nil {
			log.Fatal(err)
		}
		dir := *out
		if dir == "" {
			dir = filepath.Dir(*render)
		}
		if err := writeOutputs(dir, res, false); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("rendered %s\n", filepath.Join(dir, "RESULTS.md"))
		return
	}

	if *smoke {
		s.Rounds, s.IdleConns, s.RateConns, s.ScaleRounds = 1, 2000, 2000, 1
		s.Warmup, s.Duration = 300*time.Millisecond, time.Second
	}
	for _, c := range strings.Split(*echoConns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			log.Fatalf("-echo-conns: %q is not a connection count", c)
		}
		s.EchoConns = append(s.EchoConns, n)
	}
	var targets []string
	for _, t := range strings.Split(*targetList, ",") {
		t = strings.TrimSpace(t)
		if !slices.Contains(allTargets, t) {
			log.Fatalf("-targets: unknown target %q; known: %s", t, strings.Join(allTargets, ", "))
		}
		targets = append(targets, t)
	}
	switch {
	case s.Rounds < 1:
		log.Fatal("-rounds: want at least 1")
	case s.IdleConns < 1 || s.RateConns < 1 || s.ScaleConns < 2:
		log.Fatal("-idle-conns and -rate-conns want at least 1, -scaling-conns at least 2")
	case s.Duration <= 0 || s.Warmup < 0 || s.Rate <= 0:
		log.Fatal("-duration and -rate want more than 0, -warmup 0 or more")
	case s.ServerQuota < 0:
		log.Fatal("-server-quota: want 0 (off) or a share of a CPU such as 0.5")
	}
	if s.ServerQuota > 0 {
		s.LimitConns = slices.Max(s.EchoConns)
	}
	if _, err := os.Stat("servers"); err != nil {
		log.Fatal("run the runner from the bench directory: cd bench && go run ./cmd/runner")
	}
	dir := *out
	if dir == "" {
		dir = "."
		if *smoke {
			if dir, err = os.MkdirTemp("", "lull-bench-smoke"); err != nil {
				log.Fatal(err)
			}
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := measure(ctx, s, targets, *smoke)
	if err != nil {
		log.Fatal(err)
	}
	if err := writeOutputs(dir, res, true); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\nwrote %s, results.json and charts/ in %s\n", "RESULTS.md", dir)
	if len(res.Problems) > 0 {
		fmt.Println("problems:")
		for _, p := range res.Problems {
			fmt.Println("  " + p)
		}
		os.Exit(1)
	}
}

// results is everything a run measured; results.json holds it.
type results struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Smoke    bool      `json:"smoke"`
	Machine  machine   `json:"machine"`
	Settings settings  `json:"settings"`
	Targets  []string  `json:"targets"`
	Skipped  []string  `json:"skipped,omitempty"` // targets that did not build, with why
	Commands []string  `json:"commands"`
	// Samples[target][metric] holds one value per round.
	Samples map[string]map[string][]float64 `json:"samples"`
	Scaling scaling                         `json:"scaling"`
	// ScalingLimited is the same check with the server held to
	// Settings.ServerQuota of a CPU.
	ScalingLimited scaling  `json:"scaling_limited"`
	Problems       []string `json:"problems,omitempty"`
	// NoLimit says why the limited measurements were not made.
	NoLimit string `json:"no_limit,omitempty"`
}

type scaling struct {
	Target string    `json:"target"`
	One    []float64 `json:"one_process_rtps"`
	Two    []float64 `json:"two_processes_rtps"`
}

type machine struct {
	CPU         string     `json:"cpu"`
	CPUs        int        `json:"cpus"`
	MemoryGiB   float64    `json:"memory_gib"`
	Kernel      string     `json:"kernel"`
	Go          string     `json:"go"`
	LoadBefore  [3]float64 `json:"load_average_before"`
	LoadAfter   [3]float64 `json:"load_average_after"`
	FileLimit   string     `json:"file_limit"`
	TCPMemNotes string     `json:"notes,omitempty"`
}

func loadResults(path string) (*results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// bins holds the built programs.
type bins struct {
	dir     string
	loadgen string
	servers map[string]string
}

// build compiles loadgen and every target's server into a temporary
// directory; a target that does not build is skipped with the reason.
func build(targets []string) (*bins, []string, []string, error) {
	dir, err := os.MkdirTemp("", "lull-bench")
	if err != nil {
		return nil, nil, nil, err
	}
	b := &bins{dir: dir, servers: map[string]string{}}
	goBuild := func(wd, out string, args ...string) error {
		cmd := exec.Command("go", append([]string{"build", "-o", out}, args...)...)
		cmd.Dir = wd
		msg, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(msg)))
		}
		return nil
	}
	b.loadgen = filepath.Join(dir, "loadgen")
	if err := goBuild("..", b.loadgen, "./cmd/loadgen"); err != nil {
		return nil, nil, nil, fmt.Errorf("building cmd/loadgen: %w", err)
	}
	var built, skipped []string
	for _, t := range targets {
		out := filepath.Join(dir, t)
		var err error
		switch t {
		case "lull":
			err = goBuild("..", out, "./examples/echo")
		default:
			err = goBuild(".", out, "./servers/"+t)
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("building %s: %w", t, err)
		}
		b.servers[t] = out
		built = append(built, t)
	}
	return b, built, skipped, nil
}

// measure runs the rounds.
func measure(ctx context.Context, s settings, targets []string, smoke bool) (*results, error) {
	res := &results{Started: time.Now().UTC(), Smoke: smoke, Settings: s, Samples: map[string]map[string][]float64{}}
	res.Machine = describeMachine()
	fmt.Printf("machine: %s, %d CPUs, %.1f GiB, load average %.2f %.2f %.2f\n",
		res.Machine.CPU, res.Machine.CPUs, res.Machine.MemoryGiB, res.Machine.LoadBefore[0], res.Machine.LoadBefore[1], res.Machine.LoadBefore[2])
	b, built, skipped, err := build(targets)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(b.dir)
	res.Targets, res.Skipped = built, skipped
	for _, sk := range skipped {
		fmt.Println("skipped", sk)
	}
	var limit *cpuLimit
	if s.ServerQuota > 0 {
		if limit, err = newCPULimit(s.ServerQuota, s.QuotaPeriod); err != nil {
			res.NoLimit = err.Error()
			res.Settings.ServerQuota, res.Settings.LimitConns = 0, 0
			s = res.Settings
			fmt.Printf("no limited measurements: %v\n", err)
		} else {
			defer func() {
				if err := limit.remove(); err != nil {
					fmt.Println(err)
				}
			}()
		}
	}
	res.Commands = commands(s)
	port := 9300
	for round := 1; round <= s.Rounds; round++ {
		for _, t := range built {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			port++
			fmt.Printf("\n== round %d/%d: %s\n", round, s.Rounds, t)
			m, problems := measureTarget(ctx, s, b, t, port, limit)
			res.Problems = append(res.Problems, problems...)
			if res.Samples[t] == nil {
				res.Samples[t] = map[string][]float64{}
			}
			for k, v := range m {
				res.Samples[t][k] = append(res.Samples[t][k], v)
			}
		}
	}
	if slices.Contains(built, "lull") {
		settings := []*cpuLimit{nil}
		if limit != nil {
			settings = append(settings, limit)
		}
		for _, lim := range settings {
			sc, what := &res.Scaling, "the server on its own CPU"
			if lim != nil {
				sc, what = &res.ScalingLimited, fmt.Sprintf("the server held to %g CPU", s.ServerQuota)
			}
			fmt.Printf("\n== load generator check, %s: one process with %d connections, two with %d each, against lull\n", what, s.ScaleConns, s.ScaleConns/2)
			sc.Target = "lull"
			for round := 1; round <= s.ScaleRounds && ctx.Err() == nil; round++ {
				port++
				one, two, problems := measureScaling(ctx, s, b, port, lim)
				res.Problems = append(res.Problems, problems...)
				if one > 0 && two > 0 {
					sc.One = append(sc.One, one)
					sc.Two = append(sc.Two, two)
					fmt.Printf("   one: %.0f rt/s, two: %.0f rt/s (%.3f)\n", one, two, two/one)
				}
			}
		}
	}
	res.Machine.LoadAfter = loadAverage()
	res.Finished = time.Now().UTC()
	return res, ctx.Err()
}

// commands lists the exact commands of a run, for RESULTS.md.
func commands(s settings) []string {
	pinS, pinC := "", ""
	if s.Pin {
		pinS, pinC = "taskset -c "+s.ServerCPUs+" ", "taskset -c "+s.ClientCPUs+" "
	}
	lg := fmt.Sprintf("%sloadgen -url ws://127.0.0.1:PORT/ -sources %s -progress line", pinC, s.Sources)
	cmds := []string{
		fmt.Sprintf("%sSERVER -addr 127.0.0.1:PORT -meminfo    # SERVER: examples/echo or servers/NAME; \"meminfo\" on stdin answers RSS after GC", pinS),
		fmt.Sprintf("%s -mode idle -conns %d -duration 1h    # meminfo while all are open, then SIGINT", lg, s.IdleConns),
	}
	for _, n := range s.EchoConns {
		cmds = append(cmds, fmt.Sprintf("%s -mode echo -conns %d -size %d -warmup %v -duration %v -json FILE", lg, n, s.Size, s.Warmup, s.Duration))
	}
	if s.ServerQuota > 0 {
		cmds = append(cmds, fmt.Sprintf("echo SERVER_PID > CGROUP/cgroup.procs; %s -mode echo -conns %d -size %d -warmup %v -duration %v -json FILE; echo SERVER_PID > CGROUP_ROOT/cgroup.procs    # CGROUP: cpu.max \"%d %d\" (v2) or cpu.cfs_quota_us %d, cpu.cfs_period_us %d (v1)",
			lg, s.LimitConns, s.Size, s.Warmup, s.Duration,
			int64(s.ServerQuota*float64(s.QuotaPeriod.Microseconds())), s.QuotaPeriod.Microseconds(), int64(s.ServerQuota*float64(s.QuotaPeriod.Microseconds())), s.QuotaPeriod.Microseconds()))
	}
	cmds = append(cmds,
		fmt.Sprintf("%s -mode rate -conns %d -rate %g -size %d -warmup %v -duration %v -json FILE", lg, s.RateConns, s.Rate, s.Size, s.Warmup, s.Duration),
		fmt.Sprintf("%s -mode echo -conns %d ... (one process) vs. two at once with -conns %d each, against lull (and again with lull in CGROUP)", lg, s.ScaleConns, s.ScaleConns/2),
	)
	return cmds
}

// server is a running echo server.
type server struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // its standard output, line by line
	url   string
}

func startServer(ctx context.Context, s settings, bin string, port int) (*server, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{bin, "-addr", addr, "-meminfo"}
	if s.Pin {
		args = append([]string{"taskset", "-c", s.ServerCPUs}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = io.Discard
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sv := &server{cmd: cmd, stdin: stdin, lines: make(chan string, 16), url: "ws://" + addr + "/"}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			sv.lines <- sc.Text()
		}
		close(sv.lines)
	}()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-sv.lines:
			if !ok {
				sv.stop()
				return nil, fmt.Errorf("%s exited before listening", bin)
			}
			if strings.HasPrefix(l, "listening on ") {
				return sv, nil
			}
		case <-deadline:
			sv.stop()
			return nil, fmt.Errorf("%s did not print \"listening on\" within 20s", bin)
		case <-ctx.Done():
			sv.stop()
			return nil, ctx.Err()
		}
	}
}

// memInfo is a server's answer to "meminfo".
type memInfo struct {
	Conns, HeapInuse, StackInuse, RSS, Goroutines int64
}

func (sv *server) memInfo() (memInfo, error) {
	var m memInfo
	if _, err := io.WriteString(sv.stdin, "meminfo\n"); err != nil {
		return m, err
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-sv.lines:
			if !ok {
				return m, errors.New("the server exited")
			}
			if !strings.HasPrefix(l, "meminfo ") {
				continue
			}
			for _, f := range strings.Fields(l)[1:] {
				k, v, _ := strings.Cut(f, "=")
				n, _ := strconv.ParseInt(v, 10, 64)
				switch k {
				case "conns":
					m.Conns = n
				case "heap_inuse":
					m.HeapInuse = n
				case "stack_inuse":
					m.StackInuse = n
				case "rss":
					m.RSS = n
				case "goroutines":
					m.Goroutines = n
				}
			}
			return m, nil
		case <-deadline:
			return m, errors.New("no answer to meminfo within 30s")
		}
	}
}

// cpu returns the server's CPU time so far (user + system).
func (sv *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", sv.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	// Fields after the command: state is f[0], utime f[11], stime f[12],
	// in clock ticks of 1/100 s (USER_HZ on Linux).
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// stop ends the server: end of standard input first (every server exits on
// it), then SIGKILL to its PID if it is still there after 5 s.
func (sv *server) stop() {
	sv.stdin.Close()
	done := make(chan struct{})
	go func() {
		sv.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		sv.cmd.Process.Kill()
		<-done
	}
}

// loadReport is the part of loadgen's -json report the runner uses.
type loadReport struct {
	Connect struct {
		Connected int64 `json:"connected"`
		Failed    int64 `json:"failed"`
	} `json:"connect"`
	Dropped   int64   `json:"dropped"`
	Received  int64   `json:"messages_received"`
	Total     int64   `json:"messages_received_total"`
	PerSecond float64 `json:"per_second"`
	BadEchoes int64   `json:"bad_echoes"`
	Latency   struct {
		P50  float64 `json:"p50_us"`
		P90  float64 `json:"p90_us"`
		P99  float64 `json:"p99_us"`
		P999 float64 `json:"p99.9_us"`
		Max  float64 `json:"max_us"`
	} `json:"latency"`
	CPU struct {
		Percent float64 `json:"percent"`
	} `json:"cpu"`
}

// loadgen is a running load generator.
type loadgen struct {
	cmd     *exec.Cmd
	json    string
	stderr  chan string
	out     *strings.Builder
	outDone chan struct{}
}

func startLoadgen(s settings, b *bins, url string, args ...string) (*loadgen, error) {
	f, err := os.CreateTemp(b.dir, "report-*.json")
	if err != nil {
		return nil, err
	}
	f.Close()
	all := append([]string{b.loadgen, "-url", url, "-sources", s.Sources, "-progress", "line", "-json", f.Name()}, args...)
	if s.Pin {
		all = append([]string{"taskset", "-c", s.ClientCPUs}, all...)
	}
	cmd := exec.Command(all[0], all[1:]...)
	lg := &loadgen{cmd: cmd, json: f.Name(), stderr: make(chan string, 64), out: &strings.Builder{}, outDone: make(chan struct{})}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = lg.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lg.stderr <- sc.Text():
			default: // nobody is waiting for progress lines
			}
		}
		close(lg.stderr)
		close(lg.outDone)
	}()
	return lg, nil
}

// wait waits for the load generator to exit and reads its report. Exit
// status 130 (interrupted by the runner) is expected for idle runs.
func (lg *loadgen) wait() (*loadReport, error) {
	err := lg.cmd.Wait()
	<-lg.outDone
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 130) {
		return nil, fmt.Errorf("loadgen: %v\n%s", err, lg.out.String())
	}
	b, err := os.ReadFile(lg.json)
	if err != nil {
		return nil, err
	}
	var r loadReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("loadgen's report: %w", err)
	}
	return &r, nil
}

// measureTarget runs one round of every measurement on a fresh server.
func measureTarget(ctx context.Context, s settings, b *bins, target string, port int, limit *cpuLimit) (map[string]float64, []string) {
	m := map[string]float64{}
	var problems []string
	fail := func(format string, args ...any) {
		p := fmt.Sprintf("%s: ", target) + fmt.Sprintf(format, args...)
		fmt.Println("   PROBLEM", p)
		problems = append(problems, p)
	}
	sv, err := startServer(ctx, s, b.servers[target], port)
	if err != nil {
		fail("%v", err)
		return m, problems
	}
	defer sv.stop()

	// Idle memory.
	before, err := sv.memInfo()
	if err != nil {
		fail("meminfo: %v", err)
		return m, problems
	}
	lg, err := startLoadgen(s, b, sv.url, "-mode", "idle", "-conns", strconv.Itoa(s.IdleConns), "-duration", "1h")
	if err != nil {
		fail("%v", err)
		return m, problems
	}
	// loadgen enters its measuring phase once every attempt has ended.
	timeout := time.After(2*time.Minute + time.Duration(s.IdleConns)*time.Millisecond)
wait:
	for {
		select {
		case l, ok := <-lg.stderr:
			if !ok {
				break wait
			}
			if strings.Contains(l, "measuring") {
				break wait
			}
		case <-timeout:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	var after memInfo
	for i := 0; i < 50; i++ {
		if after, err = sv.memInfo(); err != nil || after.Conns >= int64(s.IdleConns) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	lg.cmd.Process.Signal(os.Interrupt)
	rep, lerr := lg.wait()
	switch {
	case err != nil:
		fail("meminfo with idle connections: %v", err)
	case lerr != nil:
		fail("idle: %v", lerr)
	case rep.Connect.Connected != int64(s.IdleConns) || rep.Dropped > 0:
		fail("idle: %d of %d connections opened, %d lost", rep.Connect.Connected, s.IdleConns, rep.Dropped)
	case after.Conns != int64(s.IdleConns):
		fail("idle: the server counts %d connections, want %d", after.Conns, s.IdleConns)
	default:
		n := float64(after.Conns)
		m["idle_rss_kib"] = float64(after.RSS-before.RSS) / n / 1024
		m["idle_heap_kib"] = float64(after.HeapInuse-before.HeapInuse) / n / 1024
		m["idle_stack_kib"] = float64(after.StackInuse-before.StackInuse) / n / 1024
		m["idle_goroutines_per_conn"] = float64(after.Goroutines-before.Goroutines) / n
		fmt.Printf("   idle %d: %.2f KiB RSS/conn (heap %.2f, stack %.2f), %.2f goroutines/conn\n",
			s.IdleConns, m["idle_rss_kib"], m["idle_heap_kib"], m["idle_stack_kib"], m["idle_goroutines_per_conn"])
	}

	if idleOnly[target] {
		return m, problems
	}

	// Echo, then rate.
	type run struct {
		key     string
		args    []string
		limited bool // with the server held to s.ServerQuota of a CPU
	}
	var runs []run
	for _, n := range s.EchoConns {
		runs = append(runs, run{fmt.Sprintf("echo%d", n), []string{"-mode", "echo", "-conns", strconv.Itoa(n)}, false})
	}
	if limit != nil {
		runs = append(runs, run{fmt.Sprintf("limited%d", s.LimitConns), []string{"-mode", "echo", "-conns", strconv.Itoa(s.LimitConns)}, true})
	}
	runs = append(runs, run{"rate", []string{"-mode", "rate", "-conns", strconv.Itoa(s.RateConns), "-rate", fmt.Sprint(s.Rate)}, false})
	for _, r := range runs {
		if ctx.Err() != nil {
			break
		}
		if r.limited {
			if err := limit.enter(sv.cmd.Process.Pid); err != nil {
				fail("%s: %v", r.key, err)
				continue
			}
		}
		cpu0, t0 := sv.cpu(), time.Now()
		lg, err := startLoadgen(s, b, sv.url, append(r.args, "-size", strconv.Itoa(s.Size), "-warmup", s.Warmup.String(), "-duration", s.Duration.String())...)
		if err != nil {
			fail("%s: %v", r.key, err)
			if r.limited {
				limit.leave(sv.cmd.Process.Pid)
			}
			continue
		}
		rep, err := lg.wait()
		cpu, wall := sv.cpu()-cpu0, time.Since(t0)
		if r.limited {
			if err := limit.leave(sv.cmd.Process.Pid); err != nil {
				fail("%s: %v", r.key, err)
			}
		}
		m[r.key+"_server_cpu_pct"] = 100 * cpu.Seconds() / wall.Seconds()
		switch {
		case err != nil:
			fail("%s: %v", r.key, err)
			continue
		case rep.BadEchoes > 0:
			fail("%s: %d wrong echoes", r.key, rep.BadEchoes)
		case rep.Connect.Failed > 0 || rep.Dropped > 0:
			fail("%s: %d connections failed, %d lost", r.key, rep.Connect.Failed, rep.Dropped)
		}
		m[r.key+"_per_s"] = rep.PerSecond
		m[r.key+"_p50_us"] = rep.Latency.P50
		m[r.key+"_p90_us"] = rep.Latency.P90
		m[r.key+"_p99_us"] = rep.Latency.P99
		m[r.key+"_p999_us"] = rep.Latency.P999
		m[r.key+"_loadgen_cpu_pct"] = rep.CPU.Percent
		if rep.Total > 0 {
			// The server's CPU time over the whole load generator run
			// (connect, warm-up, window, close) per message it echoed in
			// that run.
			m[r.key+"_server_cpu_us"] = float64(cpu.Microseconds()) / float64(rep.Total)
		}
		fmt.Printf("   %-12s %9.0f/s  p50 %7.0fµs  p99 %8.0fµs  p99.9 %8.0fµs  CPU: server %3.0f%%, loadgen %3.0f%%\n",
			r.key, rep.PerSecond, rep.Latency.P50, rep.Latency.P99, rep.Latency.P999, m[r.key+"_server_cpu_pct"], rep.CPU.Percent)
	}
	return m, problems
}

// measureScaling runs one load generator with ScaleConns connections, then
// two at once with half each, against a fresh lull server (in limit, unless
// nil), and returns the round trips per second of each setting.
func measureScaling(ctx context.Context, s settings, b *bins, port int, limit *cpuLimit) (one, two float64, problems []string) {
	sv, err := startServer(ctx, s, b.servers["lull"], port)
	if err != nil {
		return 0, 0, []string{"scaling: " + err.Error()}
	}
	defer sv.stop()
	if limit != nil {
		if err := limit.enter(sv.cmd.Process.Pid); err != nil {
			return 0, 0, []string{"scaling: " + err.Error()}
		}
	}
	args := func(n int) []string {
		return []string{"-mode", "echo", "-conns", strconv.Itoa(n), "-size", strconv.Itoa(s.Size), "-warmup", s.Warmup.String(), "-duration", s.Duration.String()}
	}
	lg, err := startLoadgen(s, b, sv.url, args(s.ScaleConns)...)
	if err != nil {
		return 0, 0, []string{"scaling: " + err.Error()}
	}
	rep, err := lg.wait()
	if err != nil {
		return 0, 0, []string{"scaling: " + err.Error()}
	}
	one = rep.PerSecond
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 2 {
		lg, err := startLoadgen(s, b, sv.url, args(s.ScaleConns/2)...)
		if err != nil {
			return 0, 0, []string{"scaling: " + err.Error()}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := lg.wait()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				problems = append(problems, "scaling: "+err.Error())
				return
			}
			two += rep.PerSecond
		}()
	}
	wg.Wait()
	if len(problems) > 0 {
		return 0, 0, problems
	}
	return one, two, nil
}

// describeMachine reads what the machine is.
func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), LoadBefore: loadAverage()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %f kB", &kb); err == nil {
			m.MemoryGiB = kb / (1 << 20)
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.Go = strings.TrimSpace(string(out))
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		m.FileLimit = fmt.Sprint(rl.Max)
	}
	return m
}

func loadAverage() [3]float64 {
	var l [3]float64
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Sscan(string(b), &l[0], &l[1], &l[2])
	}
	return l
}
