package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsTileTheRange(t *testing.T) {
	// Every bucket starts right after the previous one ends, and bucketOf
	// maps both ends of each bucket back to it.
	next := int64(0)
	for i := 0; i < histBuckets-1; i++ {
		lo, hi := bucketRange(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if hi < lo {
			t.Fatalf("bucket %d: [%d, %d]", i, lo, hi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d [%d, %d]: bucketOf gives %d and %d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		if rel := float64(hi-lo) / float64(max(lo, 1)); lo >= 256 && rel > 2*histRelError {
			t.Fatalf("bucket %d [%d, %d] is %.4f of its start wide", i, lo, hi, rel)
		}
		next = hi + 1
	}
	if got := bucketOf(1 << 62); got != histBuckets-1 {
		t.Errorf("a huge value lands in bucket %d, want the last, %d", got, histBuckets-1)
	}
	if got := bucketOf(-5); got != 0 {
		t.Errorf("a negative value lands in bucket %d, want 0", got)
	}
}

func TestQuantilesWithinRelativeError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dist := range []struct {
		name string
		gen  func() int64
	}{
		{"uniform 0-10ms", func() int64 { return rng.Int64N(int64(10 * time.Millisecond)) }},
		{"exponential mean 300µs", func() int64 { return int64(rng.ExpFloat64() * 300e3) }},
		{"log-uniform 1µs-10s", func() int64 { return int64(1e3 * pow10(rng.Float64()*7)) }},
		{"small exact values", func() int64 { return rng.Int64N(200) }},
	} {
		var h histogram
		vals := make([]int64, 20000)
		for i := range vals {
			vals[i] = dist.gen()
			h.Record(time.Duration(vals[i]))
		}
		slices.Sort(vals)
		var s histSnapshot
		h.Snapshot(&s)
		if s.total != uint64(len(vals)) {
			t.Fatalf("%s: total %d, want %d", dist.name, s.total, len(vals))
		}
		for _, q := range []float64{0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1} {
			rank := int(q*float64(len(vals)) + 0.999999)
			exact := vals[max(rank, 1)-1]
			got := int64(s.Quantile(q))
			if diff := abs(got - exact); float64(diff) > histRelError*float64(exact)+0.5 {
				t.Errorf("%s: q%.3f = %d, exact %d: off by %.3f%%, bound %.3f%%",
					dist.name, q, got, exact, 100*float64(diff)/float64(exact), 100*histRelError)
			}
		}
		if got, want := int64(s.Quantile(1)), vals[len(vals)-1]; got != want {
			t.Errorf("%s: max %d, want exactly %d", dist.name, got, want)
		}
	}
}

func TestSnapshotSub(t *testing.T) {
	var h histogram
	for i := 1; i <= 100; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	var a, b histSnapshot
	h.Snapshot(&a)
	for i := 0; i < 10; i++ {
		h.Record(time.Microsecond)
	}
	h.Snapshot(&b)
	b.Sub(&a)
	if b.total != 10 {
		t.Fatalf("interval holds %d values, want 10", b.total)
	}
	if got := b.Quantile(0.99); abs(int64(got-time.Microsecond)) > 8 {
		t.Errorf("interval p99 = %v, want 1µs (the older, larger values are not in it)", got)
	}
	if got := b.Quantile(1); got > time.Microsecond+10 {
		t.Errorf("interval max = %v, want about 1µs", got)
	}
	var empty histSnapshot
	if empty.Quantile(0.5) != 0 || empty.Mean() != 0 {
		t.Error("an empty snapshot reports values")
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	var h histogram
	if n := testing.AllocsPerRun(100, func() { h.Record(123456) }); n != 0 {
		t.Errorf("Record allocates %v times", n)
	}
}

func pow10(x float64) float64 {
	r := 1.0
	for ; x >= 1; x-- {
		r *= 10
	}
	// 10^x for x in [0,1) by a short series is not needed: interpolate
	// between powers, which keeps the values spread over every decade.
	return r * (1 + 9*x)
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
