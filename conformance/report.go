package conformance

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Status is a case's verdict, from best to worst.
type Status int

const (
	// OK: the testee behaved exactly as the case requires.
	OK Status = iota
	// Informational: the case is not judged beyond the basics (7.13.x
	// codes that only a stricter reading rejects); the testee did
	// something acceptable but not the recommended thing.
	Informational
	// Unimplemented: the testee declined the extension the case needs.
	Unimplemented
	// NonStrict: acceptable to Autobahn, but not to this suite (for
	// example, failing a connection late, or without an echo that was
	// due first).
	NonStrict
	// Failed: the testee broke a rule.
	Failed
)

func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Informational:
		return "INFORMATIONAL"
	case Unimplemented:
		return "UNIMPLEMENTED"
	case NonStrict:
		return "NON-STRICT"
	case Failed:
		return "FAILED"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is the verdict of one case.
type Result struct {
	Case     string // the case's number, "6.4.2"
	Status   Status
	Detail   string // why, for any status but OK
	Duration time.Duration
}

func (r Result) String() string {
	s := fmt.Sprintf("%-8s %-13s %6.3fs", r.Case, r.Status, r.Duration.Seconds())
	if r.Detail != "" {
		s += "  " + r.Detail
	}
	return s
}

// Report holds the results of a run, in case order.
type Report struct {
	Target  string
	Results []Result
	Wall    time.Duration // the run's elapsed time
}

// Passed reports whether every case is OK, or Informational; Unimplemented
// counts as a pass only if allowUnimplemented.
func (r *Report) Passed(allowUnimplemented bool) bool {
	for _, res := range r.Results {
		switch res.Status {
		case OK, Informational:
		case Unimplemented:
			if !allowUnimplemented {
				return false
			}
		default:
			return false
		}
	}
	return len(r.Results) > 0
}

// Count returns how many results have status st.
func (r *Report) Count(st Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == st {
			n++
		}
	}
	return n
}

// Status returns the verdict of case id, and whether it ran.
func (r *Report) Status(id string) (Status, bool) {
	for _, res := range r.Results {
		if res.Case == id {
			return res.Status, true
		}
	}
	return 0, false
}

// GroupSummary counts the verdicts of one group.
type GroupSummary struct {
	Group  int
	Cases  int
	Counts [Failed + 1]int // by Status
	Time   time.Duration   // the sum of the cases' durations
}

// Groups summarises the report per group, in group order.
func (r *Report) Groups() []GroupSummary {
	byGroup := map[int]*GroupSummary{}
	for _, res := range r.Results {
		g := groupOf(res.Case)
		gs := byGroup[g]
		if gs == nil {
			gs = &GroupSummary{Group: g}
			byGroup[g] = gs
		}
		gs.Cases++
		gs.Counts[res.Status]++
		gs.Time += res.Duration
	}
	var out []GroupSummary
	for _, gs := range byGroup {
		out = append(out, *gs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out
}

// WriteSummary writes a line per case that is not OK, then the table of
// WriteTable.
func (r *Report) WriteSummary(w io.Writer) {
	for _, res := range r.Results {
		if res.Status != OK {
			fmt.Fprintf(w, "%s\n", res)
		}
	}
	r.WriteTable(w)
}

// WriteTable writes a table of verdicts per group, with the time the
// group's cases took, and the run's wall time.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "conformance of %s\n", r.Target)
	fmt.Fprintf(w, "%-6s %6s %6s %11s %14s %14s %7s %9s\n", "group", "cases", "OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED", "time")
	var total GroupSummary
	for _, g := range r.Groups() {
		writeGroup(w, fmt.Sprint(g.Group), g)
		total.Cases += g.Cases
		for i := range g.Counts {
			total.Counts[i] += g.Counts[i]
		}
		total.Time += g.Time
	}
	writeGroup(w, "total", total)
	fmt.Fprintf(w, "wall time %.1fs\n", r.Wall.Seconds())
}

func writeGroup(w io.Writer, name string, g GroupSummary) {
	fmt.Fprintf(w, "%-6s %6d %6d %11d %14d %14d %7d %8.1fs\n", name, g.Cases, g.Counts[OK], g.Counts[NonStrict],
		g.Counts[Informational], g.Counts[Unimplemented], g.Counts[Failed], g.Time.Seconds())
}

func groupOf(id string) int {
	var g int
	fmt.Sscanf(strings.SplitN(id, ".", 2)[0], "%d", &g)
	return g
}
