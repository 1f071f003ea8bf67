package frame

import (
	"fmt"
	"strings"
)

// utf8Vector is one of the Autobahn 6.5-6.23 vectors (Markus Kuhn's UTF-8
// decoder tests).
type utf8Vector struct {
	name  string
	text  string
	valid bool
}

// utf8Vectors returns the 132 vectors of Autobahn cases 6.5-6.23, 63 valid
// and 69 invalid, numbered as the suite numbers them.
func utf8Vectors() []utf8Vector {
	var vs []utf8Vector
	group := func(g int, valid bool, hexes ...string) {
		base := 0
		for _, v := range vs {
			if strings.HasPrefix(v.name, fmt.Sprintf("6.%d.", g)) {
				base++
			}
		}
		for i, h := range hexes {
			vs = append(vs, utf8Vector{fmt.Sprintf("6.%d.%d", g, base+i+1), mustHex(h), valid})
		}
	}
	hello := func(x string) string { return "68656c6c6f" + x + "776f726c64" }

	group(5, true, hello("24"), hello("c2a2"), hello("e282ac"), hello("f0a4ada2"), "cebae1bdb9cf83cebcceb5")

	kosme := "cebae1bdb9cf83cebcceb5"
	for n := 1; n <= 11; n++ {
		valid := n == 2 || n == 5 || n == 7 || n == 9 || n == 11
		group(6, valid, kosme[:2*n])
	}

	group(7, true, "00", "c280", "e0a080", "f0908080")
	group(8, false, "f888808080", "fc8480808080")
	group(9, true, "7f", "dfbf", "efbfbf", "f48fbfbf")
	group(10, false, "f7bfbfbf", "fbbfbfbfbf", "fdbfbfbfbfbf")
	group(11, true, "ed9fbf", "ee8080", "efbfbd", "f48fbfbf")
	group(11, false, "f4908080")

	var conts strings.Builder
	for b := 0x80; b <= 0xbe; b++ {
		fmt.Fprintf(&conts, "%02x", b)
	}
	group(12, false, "80", "bf", "80bf", "80bf80", "80bf80bf", "80bf80bf80", "80bf80bf80bf", conts.String())

	lonely := func(lo, hi int) string {
		var s strings.Builder
		for b := lo; b <= hi; b++ {
			fmt.Fprintf(&s, "%02x20", b)
		}
		return s.String()
	}
	group(13, false, lonely(0xc0, 0xdf), lonely(0xe0, 0xef), lonely(0xf0, 0xf7), lonely(0xf8, 0xfb), lonely(0xfc, 0xfd))

	missing := []string{"c0", "e080", "f08080", "f8808080", "fc80808080", "df", "efbf", "f7bfbf", "fbbfbfbf", "fdbfbfbfbf"}
	group(14, false, missing...)
	group(15, false, strings.Join(missing, ""))
	group(16, false, "fe", "ff", "fefeffff")
	group(17, false, "c0af", "e080af", "f08080af", "f8808080af", "fc80808080af")
	group(18, false, "c1bf", "e09fbf", "f08fbfbf", "f887bfbfbf", "fc83bfbfbfbf")
	group(19, false, "c080", "e08080", "f0808080", "f880808080", "fc8080808080")
	group(20, false, "eda080", "edadbf", "edae80", "edafbf", "edb080", "edbe80", "edbfbf")
	var pairs []string
	for _, hi := range []string{"eda080", "edadbf", "edae80", "edafbf"} {
		for _, lo := range []string{"edb080", "edbfbf"} {
			pairs = append(pairs, hi+lo)
		}
	}
	group(21, false, pairs...)

	nonchars := []string{"efbfbe", "efbfbf"}
	for x := 0; x <= 4; x++ {
		for _, y := range []string{"8f", "9f", "af", "bf"} {
			if (x == 0 && y == "8f") || (x == 4 && y != "8f") {
				continue // overlong, or above U+10FFFF
			}
			for _, z := range []string{"be", "bf"} {
				nonchars = append(nonchars, fmt.Sprintf("f%d%sbf%s", x, y, z))
			}
		}
	}
	group(22, true, nonchars...)
	group(23, true, "efbfb9", "efbfba", "efbfbb", "efbfbc", "efbfbd", "efbfbe", "efbfbf")
	return vs
}
