package frame

import (
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
