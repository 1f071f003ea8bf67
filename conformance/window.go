package conformance

import (
	"errors"
	"fmt"
)

// maxDistance walks a raw DEFLATE stream (RFC 1951), without producing
// its output, and returns the longest back-reference it makes: the LZ77
// window the compressor used at least. It is how the suite checks that a
// peer keeps to the server_max_window_bits or client_max_window_bits it
// agreed to, which compress/flate's decompressor cannot tell. The stream
// may end at any block boundary (a permessage-deflate message ends in a
// sync-flush block).
func maxDistance(p []byte) (int, error) {
	d, _, err := walkDeflate(p)
	return d, err
}

// walkDeflate returns the longest back-reference of a DEFLATE stream and
// the length of its output.
func walkDeflate(p []byte) (maxDist, size int, err error) {
	b := bitReader{p: p}
	for {
		if b.left() < 3 {
			return maxDist, b.out, nil
		}
		final, _ := b.bits(1)
		typ, _ := b.bits(2)
		switch typ {
		case 0:
			b.pos = (b.pos + 7) &^ 7
			n, err1 := b.bits(16)
			nn, err2 := b.bits(16)
			if err1 != nil || err2 != nil || n != ^nn&0xffff {
				return 0, 0, errors.New("deflate: bad stored block length")
			}
			if b.left() < int(n)*8 {
				return 0, 0, errors.New("deflate: stored block runs past the end")
			}
			b.pos += int(n) * 8
			b.out += int(n)
		case 1:
			d, err := b.codes(&fixedLit, &fixedDist)
			if err != nil {
				return 0, 0, err
			}
			maxDist = max(maxDist, d)
		case 2:
			var lit, dist huffman
			if err := b.dynamicTables(&lit, &dist); err != nil {
				return 0, 0, err
			}
			d, err := b.codes(&lit, &dist)
			if err != nil {
				return 0, 0, err
			}
			maxDist = max(maxDist, d)
		default:
			return 0, 0, errors.New("deflate: block type 3")
		}
		if final == 1 {
			return maxDist, b.out, nil
		}
	}
}

var errShort = errors.New("deflate: stream ends inside a block")

type bitReader struct {
	p   []byte
	pos int // in bits
	out int // bytes of output so far
}

func (b *bitReader) left() int { return len(b.p)*8 - b.pos }

func (b *bitReader) bits(n int) (int, error) {
	if b.left() < n {
		return 0, errShort
	}
	v := 0
	for i := range n {
		v |= int(b.p[b.pos>>3]>>(b.pos&7)&1) << i
		b.pos++
	}
	return v, nil
}

// huffman is a canonical Huffman code: the number of codes of each length
// and the symbols in code order.
type huffman struct {
	count  [16]int
	symbol []int
}

func (h *huffman) build(lengths []int) {
	h.count = [16]int{}
	for _, l := range lengths {
		h.count[l]++
	}
	var offs [16]int // where each length's symbols start
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	h.symbol = make([]int, len(lengths))
	for s, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = s
			offs[l]++
		}
	}
}

func (b *bitReader) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		bit, err := b.bits(1)
		if err != nil {
			return 0, err
		}
		code |= bit
		count := h.count[l]
		if code-count < first {
			return h.symbol[index+code-first], nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, errors.New("deflate: invalid Huffman code")
}

var (
	lenBase   = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]int{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

	fixedLit, fixedDist = func() (huffman, huffman) {
		var lit, dist huffman
		l := make([]int, 288)
		for i := range l {
			switch {
			case i < 144:
				l[i] = 8
			case i < 256:
				l[i] = 9
			case i < 280:
				l[i] = 7
			default:
				l[i] = 8
			}
		}
		lit.build(l)
		d := make([]int, 30)
		for i := range d {
			d[i] = 5
		}
		dist.build(d)
		return lit, dist
	}()
)

// codes walks one block's symbols up to end-of-block.
func (b *bitReader) codes(lit, dist *huffman) (int, error) {
	maxDist := 0
	for {
		sym, err := b.decode(lit)
		if err != nil {
			return 0, err
		}
		switch {
		case sym < 256:
			b.out++
			continue
		case sym == 256:
			return maxDist, nil
		case sym > 285:
			return 0, fmt.Errorf("deflate: length symbol %d", sym)
		}
		le, err := b.bits(lenExtra[sym-257])
		if err != nil {
			return 0, err
		}
		b.out += lenBase[sym-257] + le
		ds, err := b.decode(dist)
		if err != nil {
			return 0, err
		}
		if ds >= 30 {
			return 0, fmt.Errorf("deflate: distance symbol %d", ds)
		}
		extra, err := b.bits(distExtra[ds])
		if err != nil {
			return 0, err
		}
		maxDist = max(maxDist, distBase[ds]+extra)
	}
}

var clOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamicTables reads a dynamic block's code tables.
func (b *bitReader) dynamicTables(lit, dist *huffman) error {
	hlit, err1 := b.bits(5)
	hdist, err2 := b.bits(5)
	hclen, err3 := b.bits(4)
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	nlit, ndist := hlit+257, hdist+1
	if nlit > 286 || ndist > 30 {
		return errors.New("deflate: too many codes")
	}
	cl := make([]int, 19)
	for i := 0; i < hclen+4; i++ {
		v, err := b.bits(3)
		if err != nil {
			return err
		}
		cl[clOrder[i]] = v
	}
	var clh huffman
	clh.build(cl)
	lengths := make([]int, 0, nlit+ndist)
	for len(lengths) < nlit+ndist {
		sym, err := b.decode(&clh)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths = append(lengths, sym)
			continue
		}
		var rep, val int
		switch sym {
		case 16:
			if len(lengths) == 0 {
				return errors.New("deflate: repeat with no previous length")
			}
			val = lengths[len(lengths)-1]
			r, err := b.bits(2)
			if err != nil {
				return err
			}
			rep = 3 + r
		case 17:
			r, err := b.bits(3)
			if err != nil {
				return err
			}
			rep = 3 + r
		default:
			r, err := b.bits(7)
			if err != nil {
				return err
			}
			rep = 11 + r
		}
		if len(lengths)+rep > nlit+ndist {
			return errors.New("deflate: code lengths overflow")
		}
		for range rep {
			lengths = append(lengths, val)
		}
	}
	lit.build(lengths[:nlit])
	dist.build(lengths[nlit:])
	return nil
}
