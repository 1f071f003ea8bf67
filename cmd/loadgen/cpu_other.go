//go:build !unix

package main

import "time"

type cpuTimes struct{ user, system time.Duration }

// processCPU is not measured on this system.
func processCPU() cpuTimes { return cpuTimes{} }

// fileLimit is unknown on this system.
func fileLimit() uint64 { return 0 }
