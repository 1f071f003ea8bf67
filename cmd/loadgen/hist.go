package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// A histogram counts durations in log-linear buckets: values below
// 2^(subBits+1) nanoseconds have a bucket each, and every power of two
// above that is cut into 2^subBits equal buckets. A bucket's width is then
// at most 1/2^subBits of its lower bound, and reporting its midpoint is off
// by at most half of that: with subBits = 7, 0.4% (histRelError).
//
// Record is safe from any goroutine (one atomic add per value, no lock and
// no allocation); the other methods read the counters one by one, so a
// snapshot taken while values are recorded is consistent only to within
// the values recorded meanwhile.
type histogram struct {
	counts [histBuckets]atomic.Uint64
	max    atomic.Int64
	sum    atomic.Int64 // nanoseconds, for the mean
}

const (
	subBits = 7
	// histMaxShift bounds the range: values up to 2^(histMaxShift+subBits+1)
	// ns (about 9 hours) have a bucket of their own; larger ones are
	// counted in the last bucket.
	histMaxShift = 37
	histBuckets  = (histMaxShift + 2) << subBits
	// histRelError is the largest relative error of a reported quantile.
	histRelError = 1.0 / (1 << (subBits + 1))
)

// bucketOf returns the index of v's bucket.
func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	if u < 1<<(subBits+1) {
		return int(u)
	}
	shift := bits.Len64(u) - subBits - 1
	if shift > histMaxShift {
		return histBuckets - 1
	}
	return shift<<subBits + int(u>>shift)
}

// bucketRange returns the smallest and largest values of bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < 1<<(subBits+1) {
		return int64(i), int64(i)
	}
	shift := i>>subBits - 1
	m := int64(i - shift<<subBits)
	return m << shift, (m+1)<<shift - 1
}

// Record counts one duration.
func (h *histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)].Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// histSnapshot is a histogram's counts at one moment, which can be
// subtracted from a later one to get the values recorded in between.
type histSnapshot struct {
	counts [histBuckets]uint64
	total  uint64
	sum    int64
	max    int64 // largest value ever recorded, not only in an interval
}

// Snapshot copies the counters into s.
func (h *histogram) Snapshot(s *histSnapshot) {
	s.total = 0
	for i := range h.counts {
		n := h.counts[i].Load()
		s.counts[i] = n
		s.total += n
	}
	s.sum = h.sum.Load()
	s.max = h.max.Load()
}

// Sub sets s to the values recorded between prev and s. max cannot be
// subtracted: it is taken from the highest non-empty bucket instead.
func (s *histSnapshot) Sub(prev *histSnapshot) {
	s.total = 0
	top := -1
	for i := range s.counts {
		s.counts[i] -= prev.counts[i]
		if s.counts[i] != 0 {
			s.total += s.counts[i]
			top = i
		}
	}
	s.sum -= prev.sum
	if top >= 0 {
		_, hi := bucketRange(top)
		s.max = min(s.max, hi)
	} else {
		s.max = 0
	}
}

// Quantile returns the value below which a fraction q of the values lie,
// within histRelError, or 0 if there are none. q = 1 gives the maximum.
func (s *histSnapshot) Quantile(q float64) time.Duration {
	if s.total == 0 {
		return 0
	}
	if q >= 1 {
		return time.Duration(s.max)
	}
	// The rank of the value sought, 1-based, as in "the ceil(q*n)th".
	rank := uint64(q * float64(s.total))
	if float64(rank) < q*float64(s.total) || rank == 0 {
		rank++
	}
	var seen uint64
	for i, n := range s.counts {
		seen += n
		if seen >= rank {
			lo, hi := bucketRange(i)
			v := lo + (hi-lo)/2
			return time.Duration(min(v, s.max))
		}
	}
	return time.Duration(s.max)
}

// Mean returns the average value, or 0 if there are none.
func (s *histSnapshot) Mean() time.Duration {
	if s.total == 0 {
		return 0
	}
	return time.Duration(s.sum / int64(s.total))
}
