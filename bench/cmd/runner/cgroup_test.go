package main

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestCPULimitHoldsAProcess moves a busy process into a limit of 0.3 CPU
// and checks that it gets no more, then that it runs free again outside.
func TestCPULimitHoldsAProcess(t *testing.T) {
	limit, err := newCPULimit(0.3, 10*time.Millisecond)
	if err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("making cgroups needs root here: %v", err)
		}
		t.Fatal(err)
	}
	spin := exec.Command("sh", "-c", "while :; do :; done")
	if err := spin.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		spin.Process.Kill()
		spin.Wait()
		if err := limit.remove(); err != nil {
			t.Error(err)
		}
	}()
	sv := &server{cmd: spin}
	share := func() float64 {
		c0, t0 := sv.cpu(), time.Now()
		time.Sleep(time.Second)
		return (sv.cpu() - c0).Seconds() / time.Since(t0).Seconds()
	}
	if err := limit.enter(spin.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if got := share(); got > 0.4 {
		t.Errorf("held to 0.3 CPU, the process used %.2f CPU", got)
	}
	if err := limit.leave(spin.Process.Pid); err != nil {
		t.Fatal(err)
	}
	// Free again, it gets more than the limit allowed, unless the machine
	// is so busy that a spinning process gets less than 0.4 of a CPU.
	if got := share(); got <= 0.4 {
		t.Errorf("outside the limit, the process used only %.2f CPU", got)
	}
}

func TestCPULimitRefusesTooSmallAQuota(t *testing.T) {
	if _, err := newCPULimit(0.05, 10*time.Millisecond); err == nil {
		t.Error("a 500 µs quota was accepted; the kernel wants at least 1000 µs")
	}
}
