package frame

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestUTF8VectorTable guards the vector table itself: the counts the suite
// documents, and agreement with the standard library on each verdict.
func TestUTF8VectorTable(t *testing.T) {
	var valid, invalid int
	for _, v := range utf8Vectors() {
		if v.valid {
			valid++
		} else {
			invalid++
		}
		if utf8.ValidString(v.text) != v.valid {
			t.Errorf("%s: table says valid=%v, unicode/utf8 disagrees", v.name, v.valid)
		}
	}
	if valid != 63 || invalid != 69 {
		t.Errorf("table has %d valid and %d invalid vectors, want 63 and 69", valid, invalid)
	}
}

// TestAutobahnCatalogue checks that autobahnCases has every case of groups
// 1-7 of shared/reference/conformance-cases.md, numbered as there, once:
// the number of cases in each subgroup, numbered from 1 without gaps.
func TestAutobahnCatalogue(t *testing.T) {
	subgroups := []struct {
		prefix string // a case is prefix+"N"
		cases  int
	}{
		{"1.1.", 8}, {"1.2.", 8},
		{"2.", 11},
		{"3.", 7},
		{"4.1.", 5}, {"4.2.", 5},
		{"5.", 20},
		{"6.1.", 3}, {"6.2.", 4}, {"6.3.", 2}, {"6.4.", 4}, {"6.5.", 5}, {"6.6.", 11}, {"6.7.", 4},
		{"6.8.", 2}, {"6.9.", 4}, {"6.10.", 3}, {"6.11.", 5}, {"6.12.", 8}, {"6.13.", 5}, {"6.14.", 10},
		{"6.15.", 1}, {"6.16.", 3}, {"6.17.", 5}, {"6.18.", 5}, {"6.19.", 5}, {"6.20.", 7}, {"6.21.", 8},
		{"6.22.", 34}, {"6.23.", 7},
		{"7.1.", 6}, {"7.3.", 6}, {"7.5.", 1}, {"7.7.", 13}, {"7.9.", 9}, {"7.13.", 2},
	}
	want := map[string]bool{}
	perGroup := map[string]int{}
	for _, sg := range subgroups {
		for i := 1; i <= sg.cases; i++ {
			want[fmt.Sprintf("%s%d", sg.prefix, i)] = true
		}
		perGroup[sg.prefix[:strings.IndexByte(sg.prefix, '.')]] += sg.cases
	}
	// The catalogue's table of groups: 16, 11, 7, 10, 20, 145 and 37 cases.
	for g, n := range map[string]int{"1": 16, "2": 11, "3": 7, "4": 10, "5": 20, "6": 145, "7": 37} {
		if perGroup[g] != n {
			t.Errorf("subgroups of group %s add up to %d cases, the catalogue has %d", g, perGroup[g], n)
		}
	}
	seen := map[string]bool{}
	for _, c := range autobahnCases() {
		switch {
		case seen[c.name]:
			t.Errorf("case %s appears twice", c.name)
		case !want[c.name]:
			t.Errorf("case %s is not in the catalogue", c.name)
		}
		seen[c.name] = true
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("case %s is missing", name)
		}
	}
	if len(seen) != 246 {
		t.Errorf("%d cases, want 246", len(seen))
	}
}
