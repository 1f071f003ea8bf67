package websocket

import (
	"math/bits"
	"sync"
)

// Buffers are pooled by size class (powers of two from 512 bytes to
// 1 MiB), so that an idle connection holds none: a read buffer is taken
// when bytes arrive and given back when they have all been consumed, a
// write buffer for the length of one write.
const (
	minPoolShift = 9
	maxPoolShift = 20
)

var bufPools [maxPoolShift - minPoolShift + 1]sync.Pool

// sizeClass returns the pool index and the buffer size for a request of n
// bytes, rounded up to a power of two and clamped to the pooled range.
func sizeClass(n int) (int, int) {
	if n <= 1<<minPoolShift {
		return 0, 1 << minPoolShift
	}
	if n > 1<<maxPoolShift {
		n = 1 << maxPoolShift
	}
	s := bits.Len(uint(n - 1))
	return s - minPoolShift, 1 << s
}

// getBuf returns a pooled buffer of at least n bytes (at most 1 MiB).
func getBuf(n int) *[]byte {
	i, size := sizeClass(n)
	if v := bufPools[i].Get(); v != nil {
		return v.(*[]byte)
	}
	b := make([]byte, size)
	return &b
}

// tryGetBuf returns a pooled buffer of at least n bytes, or nil when the
// pool has none (it never allocates).
func tryGetBuf(n int) *[]byte {
	i, _ := sizeClass(n)
	if v := bufPools[i].Get(); v != nil {
		return v.(*[]byte)
	}
	return nil
}

// putBuf returns a buffer obtained from getBuf.
func putBuf(b *[]byte) {
	i, size := sizeClass(cap(*b))
	if size != cap(*b) {
		return
	}
	*b = (*b)[:cap(*b)]
	bufPools[i].Put(b)
}

// BufferPool represents a pool of buffers. The *sync.Pool type satisfies this
// interface. The type of the value stored in a pool is not specified.
type BufferPool interface {
	// Get gets a value from the pool or returns nil if the pool is empty.
	Get() interface{}
	// Put adds a value to the pool.
	Put(interface{})
}

// writePoolData is what the package stores in a caller's BufferPool.
type writePoolData struct{ buf []byte }
