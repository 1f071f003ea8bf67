//go:build !linux && !darwin && !freebsd

package engine

import (
	"testing"

	"github.com/lullws/lull/poller"
)

// On systems without epoll or kqueue New fails with a clear error.
func TestNotSupported(t *testing.T) {
	if _, err := New(Config{}); err != poller.ErrNotSupported {
		t.Fatalf("New = %v, want poller.ErrNotSupported", err)
	}
}
