//go:build !linux && !darwin && !freebsd

package poller

import "testing"

// On systems without epoll or kqueue everything fails with ErrNotSupported
// (the documented fallback).
func TestNotSupported(t *testing.T) {
	if _, err := New(); err != ErrNotSupported {
		t.Fatalf("New() = %v, want ErrNotSupported", err)
	}
	if _, _, err := Listen("tcp", "127.0.0.1:0", false, 0); err != ErrNotSupported {
		t.Fatalf("Listen = %v, want ErrNotSupported", err)
	}
}
