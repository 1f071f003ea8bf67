//go:build unix

package main

import (
	"syscall"
	"time"
)

type cpuTimes struct{ user, system time.Duration }

// processCPU returns the CPU time this process has used.
func processCPU() cpuTimes {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return cpuTimes{}
	}
	return cpuTimes{time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())}
}

// fileLimit returns how many files this process may open (Go raises the
// soft limit to the hard one at start), or 0 if unknown.
func fileLimit() uint64 {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return 0
	}
	return uint64(rl.Cur)
}
