package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpuLimit is a CPU cgroup with a bandwidth limit (CFS quota) into which
// the runner moves a server for the server-bound measurements, and out of
// which it moves it again. On a machine with two CPUs, a load generator on
// one CPU costs about as much per round trip as a lean server on the other
// (both are mostly the kernel's loopback TCP), so an unlimited server and
// its load generator run out of CPU together; with the server held to a
// fraction of its CPU, the server is the bottleneck and the figures compare
// servers.
type cpuLimit struct {
	dir    string // the cgroup made for this run
	parent string // where a server goes back to (the hierarchy's root)
}

// newCPULimit makes a cgroup limited to quota CPUs (0.5: half of one CPU)
// per period, under cgroup v2 (cpu.max) or v1 (cpu.cfs_quota_us). It needs
// the right to make cgroups, as root has on most machines.
func newCPULimit(quota float64, period time.Duration) (*cpuLimit, error) {
	periodUS := period.Microseconds()
	quotaUS := int64(quota * float64(periodUS))
	if periodUS < 1000 || quotaUS < 1000 {
		return nil, fmt.Errorf("a period of %v with a quota of %g CPU gives %d µs; the kernel wants at least 1000 µs of each", period, quota, quotaUS)
	}
	name := fmt.Sprintf("lull-bench-%d", os.Getpid())
	// cgroup v2: one unified hierarchy with a cpu.max file per group.
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		if !hasController(filepath.Join(root, "cgroup.controllers"), "cpu") {
			continue
		}
		// The cpu controller must be enabled for the root's children.
		if !hasController(filepath.Join(root, "cgroup.subtree_control"), "cpu") {
			if err := os.WriteFile(filepath.Join(root, "cgroup.subtree_control"), []byte("+cpu"), 0); err != nil {
				continue
			}
		}
		dir := filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, "cpu.max"), []byte(fmt.Sprintf("%d %d", quotaUS, periodUS)), 0); err != nil {
			os.Remove(dir)
			continue
		}
		return &cpuLimit{dir: dir, parent: root}, nil
	}
	// cgroup v1: a cpu hierarchy of its own.
	root := "/sys/fs/cgroup/cpu"
	if _, err := os.Stat(filepath.Join(root, "cpu.cfs_quota_us")); err != nil {
		return nil, errors.New("no cgroup v2 with the cpu controller and no cgroup v1 cpu hierarchy at " + root)
	}
	dir := filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("making a cgroup: %w", err)
	}
	// The period first: the kernel checks the quota against it.
	for _, kv := range [][2]string{{"cpu.cfs_period_us", strconv.FormatInt(periodUS, 10)}, {"cpu.cfs_quota_us", strconv.FormatInt(quotaUS, 10)}} {
		if err := os.WriteFile(filepath.Join(dir, kv[0]), []byte(kv[1]), 0); err != nil {
			os.Remove(dir)
			return nil, fmt.Errorf("setting %s: %w", kv[0], err)
		}
	}
	return &cpuLimit{dir: dir, parent: root}, nil
}

func hasController(file, name string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	for _, f := range strings.Fields(string(b)) {
		if f == name {
			return true
		}
	}
	return false
}

// enter moves process pid (all its threads) into the limited group.
func (c *cpuLimit) enter(pid int) error { return movePID(c.dir, pid) }

// leave moves process pid back to the hierarchy's root, unlimited.
func (c *cpuLimit) leave(pid int) error { return movePID(c.parent, pid) }

func movePID(dir string, pid int) error {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		return fmt.Errorf("moving process %d to cgroup %s: %w", pid, dir, err)
	}
	return nil
}

// remove deletes the group; it must be empty (its servers ended or left).
func (c *cpuLimit) remove() error {
	var err error
	for i := 0; i < 50; i++ {
		if err = os.Remove(c.dir); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond) // exiting processes leave late
	}
	return fmt.Errorf("removing cgroup %s: %w", c.dir, err)
}
