// Command echocompare measures echo round trips per second of several
// WebSocket echo servers on the same machine in the same run, each in its
// own process, under the same closed-loop client (echoload), alternating
// the targets round by round (A B A B ...) so that drift in the machine's
// load hits them alike. It prints each round, then the median round trips
// per second of each target and each target's ratio to the baseline.
//
//	go run ./cmd/echocompare -rounds 3 -conns 1000 -size 1024 -duration 10s
//
// Targets are named packages of main programs that take -addr and print
// "listening on ADDR" (see servers/): lull is examples/echo, gorilla is
// servers/gorilla. With -pin (the default where taskset exists) the server
// runs on CPU -server-cpus and the client on -client-cpus, so that each
// server gets the same core whatever its threading; the Go runtime then
// sizes GOMAXPROCS to the cores it is given.
//
// Besides round trips per second it reports the server's CPU time per
// round trip (user+system, from /proc, over the whole client run,
// warm-up included), the fairer efficiency figure when client and server
// share the machine.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// servers maps a target name to the package of its echo server.
var servers = map[string]string{
	"lull":    "github.com/lullws/lull/examples/echo",
	"gorilla": "github.com/lullws/lull/bench/servers/gorilla",
}

const loadClient = "github.com/lullws/lull/bench/cmd/echoload"

type load struct {
	RTPS  float64 `json:"rtps"`
	Total int64   `json:"total_round_trips"`
	P50   float64 `json:"p50_us"`
	P99   float64 `json:"p99_us"`
}

type sample struct {
	load
	cpuPerRT float64 // server µs of CPU per round trip
}

func main() {
	targetList := flag.String("targets", "lull,gorilla", "comma-separated `targets` to compare, each a name from servers/ or NAME=BINARY; ratios are to the last")
	rounds := flag.Int("rounds", 3, "rounds; each runs every target once")
	conns := flag.Int("conns", 1000, "connections")
	size := flag.Int("size", 1024, "message size in bytes")
	warmup := flag.Duration("warmup", 2*time.Second, "client warm-up per run")
	duration := flag.Duration("duration", 10*time.Second, "measurement window per run")
	_, err := exec.LookPath("taskset")
	pin := flag.Bool("pin", err == nil, "pin server and client to separate CPUs with taskset")
	serverCPUs := flag.String("server-cpus", "0", "CPU list for the server with -pin")
	clientCPUs := flag.String("client-cpus", "1", "CPU list for the client with -pin")
	clientMode := flag.String("client", "raw", "echoload's -client: raw or engine")
	flag.Parse()

	targets := strings.Split(*targetList, ",")
	dir, err := os.MkdirTemp("", "echocompare")
	check(err)
	defer os.RemoveAll(dir)
	bins := map[string]string{}
	for i, t := range targets {
		if name, bin, ok := strings.Cut(t, "="); ok {
			// A prebuilt server binary, as for before/after comparisons.
			targets[i] = name
			bins[name] = bin
			continue
		}
		pkg, ok := servers[t]
		if !ok {
			fatalf("unknown target %q (have %v, or NAME=BINARY)", t, keys(servers))
		}
		bins[t] = build(dir, t, pkg)
	}
	client := build(dir, "echoload", loadClient)

	fmt.Printf("echo: %d connections, %d-byte messages, %v warm-up + %v window, %d rounds, %s, %s client, pinned: %v (server CPUs %s, client CPUs %s), %d CPUs\n",
		*conns, *size, *warmup, *duration, *rounds, strings.Join(targets, " "), *clientMode, *pin, *serverCPUs, *clientCPUs, runtime.NumCPU())
	results := map[string][]sample{}
	for r := 1; r <= *rounds; r++ {
		for _, t := range targets {
			s := runOnce(bins[t], client, *clientMode, *pin, *serverCPUs, *clientCPUs, *conns, *size, *warmup, *duration)
			results[t] = append(results[t], s)
			fmt.Printf("round %d %-8s %9.0f rt/s  p50 %7.0f µs  p99 %7.0f µs  server %5.2f µs CPU/rt\n",
				r, t, s.RTPS, s.P50, s.P99, s.cpuPerRT)
		}
	}
	base := targets[len(targets)-1]
	baseMed := median(results[base], func(s sample) float64 { return s.RTPS })
	fmt.Println()
	for _, t := range targets {
		med := median(results[t], func(s sample) float64 { return s.RTPS })
		cpu := median(results[t], func(s sample) float64 { return s.cpuPerRT })
		fmt.Printf("median %-8s %9.0f rt/s  server %5.2f µs CPU/rt  ratio to %s %.2f\n", t, med, cpu, base, med/baseMed)
	}
}

func runOnce(server, client, clientMode string, pin bool, serverCPUs, clientCPUs string, conns, size int, warmup, duration time.Duration) sample {
	srv := command(pin, serverCPUs, server, "-addr", "127.0.0.1:0")
	stdout, err := srv.StdoutPipe()
	check(err)
	srv.Stderr = os.Stderr
	check(srv.Start())
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			srv.Process.Kill()
			<-done
		}
	}()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "listening on ") {
		fatalf("%s did not say where it listens: %q", server, lines.Text())
	}
	addr := strings.TrimPrefix(lines.Text(), "listening on ")
	go func() {
		for lines.Scan() {
		}
	}()

	cpu0 := cpuTime(srv.Process.Pid)
	cli := command(pin, clientCPUs, client, "-client", clientMode, "-addr", addr, "-conns", strconv.Itoa(conns), "-size", strconv.Itoa(size),
		"-warmup", warmup.String(), "-duration", duration.String())
	cli.Stderr = os.Stderr
	out, err := cli.Output()
	if err != nil {
		fatalf("load client against %s: %v", server, err)
	}
	cpu1 := cpuTime(srv.Process.Pid)
	var s sample
	check(json.Unmarshal(out, &s.load))
	if s.Total > 0 && cpu0 >= 0 && cpu1 >= 0 {
		s.cpuPerRT = float64(cpu1-cpu0) / float64(s.Total) * 1e6
	}
	return s
}

func command(pin bool, cpus, name string, args ...string) *exec.Cmd {
	if pin {
		return exec.Command("taskset", append([]string{"-c", cpus, name}, args...)...)
	}
	return exec.Command(name, args...)
}

// cpuTime returns the user+system CPU time of process pid in seconds, from
// /proc, or -1 where it cannot be read.
func cpuTime(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return -1
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	const clockTicks = 100 // USER_HZ on Linux
	return (utime + stime) / clockTicks
}

func build(dir, name, pkg string) string {
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fatalf("building %s: %v", pkg, err)
	}
	return bin
}

func median(s []sample, f func(sample) float64) float64 {
	v := make([]float64, len(s))
	for i := range s {
		v[i] = f(s[i])
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func keys(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}

func check(err error) {
	if err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "echocompare: "+format+"\n", args...)
	os.Exit(1)
}
