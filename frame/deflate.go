package frame

import (
	"compress/flate"
	"errors"
	"io"
	"slices"
	"sync"
)

// permessage-deflate (RFC 7692 §7.2) compresses each data message as a
// DEFLATE stream ended by a sync flush, whose trailing empty stored block,
// the 4 bytes 00 00 ff ff, is removed; the receiver appends them back
// before inflating. Only the first frame of a compressed message carries
// RSV1; control frames are never compressed.
//
// The codec here wraps compress/flate, pooled so that a connection holds
// no compression state between messages unless it asks to keep its
// context (context takeover): see Compressor and Inflater.

// Compression levels accepted by NewCompressor and AppendDeflate: those of
// compress/flate.
const (
	// HuffmanOnly emits no back-references, so it honours any LZ77 window,
	// down to the 8 bits of the smallest *_max_window_bits.
	HuffmanOnly             = flate.HuffmanOnly // -2
	MinCompressionLevel     = flate.HuffmanOnly
	MaxCompressionLevel     = flate.BestCompression // 9
	DefaultCompressionLevel = flate.BestSpeed       // 1: most of the gain for a fraction of the time
)

// Errors of the permessage-deflate codec.
var (
	// ErrInvalidCompressed: a compressed message is not valid DEFLATE data.
	// RFC 7692 leaves the code to the endpoint; like the invalid UTF-8 of
	// RFC 6455 it is inconsistent payload data (1007).
	ErrInvalidCompressed = &Error{CloseInvalidPayload, "invalid compressed data (permessage-deflate)"}

	// ErrCompressionLevel: a level outside MinCompressionLevel to
	// MaxCompressionLevel.
	ErrCompressionLevel = errors.New("frame: compression level must be -2 (HuffmanOnly) to 9")
)

// deflateTail ends every sync flush; it is removed from compressed
// messages.
var deflateTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// inflateTail is appended to a compressed message before inflating: the
// removed sync-flush tail, then an empty final stored block, so that the
// decompressor ends with io.EOF instead of waiting for more blocks.
var inflateTail = [9]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// WindowSize is the LZ77 window of compress/flate, and the history an
// Inflater that keeps its context holds: 32 KiB.
const WindowSize = 1 << 15

// ValidCompressionLevel reports whether level is one that NewCompressor
// accepts.
func ValidCompressionLevel(level int) bool {
	return MinCompressionLevel <= level && level <= MaxCompressionLevel
}

// A Compressor compresses messages for permessage-deflate. It wraps a
// compress/flate Writer, which is big: about 1.2 MiB at level 1, 0.8 MiB
// at levels 2 to 9 and 0.7 MiB at levels -2 and 0 (measured by
// TestCodecMemory, Go 1.26, amd64). Keep one per connection only for
// context takeover; otherwise use AppendDeflate, which borrows one from a
// pool for the duration of a call.
//
// A Compressor belongs to one goroutine at a time.
type Compressor struct {
	fw      *flate.Writer
	sink    appendWriter
	level   int
	keep    bool
	started bool
}

// appendWriter is the io.Writer the flate Writer writes to: it appends to
// a slice the Compressor hands it for the duration of a call.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// NewCompressor returns a Compressor at the given level. With
// keepContext, each message may refer back to the previous ones (context
// takeover), which needs a peer that keeps its decompression context:
// negotiate it first. Without, every message is compressed on its own.
func NewCompressor(level int, keepContext bool) (*Compressor, error) {
	if !ValidCompressionLevel(level) {
		return nil, ErrCompressionLevel
	}
	c := &Compressor{level: level, keep: keepContext}
	c.fw, _ = flate.NewWriter(&c.sink, level) // the level is valid
	return c, nil
}

// Level returns the compressor's level.
func (c *Compressor) Level() int { return c.level }

// Append compresses msg as one message, appends the compressed bytes
// (without the 00 00 ff ff tail) to dst and returns the extended slice.
// An empty message compresses to the single byte 0x00. msg is not
// retained; it must not share memory with dst's spare capacity, which the
// output overwrites while msg is read. In steady state (dst with room)
// Append allocates nothing.
func (c *Compressor) Append(dst, msg []byte) []byte {
	if !c.keep || !c.started {
		c.fw.Reset(&c.sink)
	}
	c.started = true
	c.sink.b = dst
	c.fw.Write(msg) // appendWriter never fails
	c.fw.Flush()
	out := c.sink.b
	c.sink.b = nil
	if n := len(out); n-len(dst) >= 4 && [4]byte(out[n-4:]) == deflateTail {
		out = out[:n-4]
	}
	return out
}

// Reset forgets the context of earlier messages: the next message is
// compressed on its own.
func (c *Compressor) Reset() { c.started = false }

var compressorPools [MaxCompressionLevel - MinCompressionLevel + 1]sync.Pool

// AppendDeflate compresses msg at level as one message without context,
// appends the result (without the tail) to dst and returns the extended
// slice. The compressor comes from a pool and goes back before it returns,
// so nothing stays allocated per caller. It fails only for an invalid
// level. It is safe for concurrent use; in steady state it allocates
// nothing.
func AppendDeflate(dst, msg []byte, level int) ([]byte, error) {
	if !ValidCompressionLevel(level) {
		return dst, ErrCompressionLevel
	}
	p := &compressorPools[level-MinCompressionLevel]
	c, _ := p.Get().(*Compressor)
	if c == nil {
		c, _ = NewCompressor(level, false)
	}
	dst = c.Append(dst, msg)
	p.Put(c)
	return dst, nil
}

// An Inflater decompresses permessage-deflate messages. It wraps a
// compress/flate decompressor (about 44 KiB); with context takeover it
// also keeps the last 32 KiB of output (WindowSize), the history the
// peer's next message may refer to: about 76 KiB in all. Without context, use AppendInflate,
// which borrows one from a pool for the duration of a call.
//
// An Inflater belongs to one goroutine at a time.
type Inflater struct {
	fr     io.ReadCloser // implements flate.Resetter
	src    inflateSource
	keep   bool
	window []byte // the last output, up to WindowSize bytes, when keep
}

// NewInflater returns an Inflater. With keepContext, each message is
// inflated with the output of the previous ones as its history, as the
// peer's compressor may refer to it when context takeover was negotiated
// for that direction.
func NewInflater(keepContext bool) *Inflater {
	f := &Inflater{keep: keepContext}
	f.fr = flate.NewReader(&f.src)
	return f
}

// Reset forgets the history of earlier messages.
func (f *Inflater) Reset() { f.window = f.window[:0] }

// Append inflates msg, one compressed message without its tail, appends
// the result to dst and returns the extended slice. limit, if positive,
// bounds the inflated size: inflating stops as soon as the output passes
// it, with ErrMessageTooBig (1009), so memory stays within about limit
// whatever the compression ratio. Data that is not valid DEFLATE fails
// with ErrInvalidCompressed (1007). On error dst is returned unextended
// (its spare capacity may have been written), and a context kept so far
// is lost. msg is not retained; it must not share memory with dst's
// spare capacity, which the output overwrites while msg is read.
//
// Append allocates to grow dst and, inside compress/flate, for the
// lookup tables of any block whose Huffman codes are longer than 9 bits,
// which the standard decompressor makes anew per block: typically none
// for messages of a few KiB, a handful for 16 KiB of JSON
// (BenchmarkDeflate/inflate).
func (f *Inflater) Append(dst, msg []byte, limit int64) ([]byte, error) {
	f.src = inflateSource{b: msg}
	var dict []byte
	if f.keep {
		dict = f.window
	}
	if err := f.fr.(flate.Resetter).Reset(&f.src, dict); err != nil {
		return dst, ErrInvalidCompressed
	}
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, max(4096, 2*len(msg)))
		}
		room := dst[len(dst):cap(dst)]
		if limit > 0 {
			if left := limit - int64(len(dst)-start) + 1; int64(len(room)) > left {
				room = room[:left]
			}
		}
		n, err := f.fr.Read(room)
		dst = dst[:len(dst)+n]
		if limit > 0 && int64(len(dst)-start) > limit {
			f.src.b = nil
			f.window = f.window[:0]
			return dst[:start], ErrMessageTooBig
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			f.src.b = nil
			f.window = f.window[:0]
			return dst[:start], ErrInvalidCompressed
		}
	}
	f.src.b = nil
	if f.keep {
		f.remember(dst[start:])
	}
	return dst, nil
}

// remember keeps the last WindowSize bytes of the history and out.
func (f *Inflater) remember(out []byte) {
	if f.window == nil {
		f.window = make([]byte, 0, WindowSize)
	}
	if len(out) >= WindowSize {
		f.window = append(f.window[:0], out[len(out)-WindowSize:]...)
		return
	}
	if over := len(f.window) + len(out) - WindowSize; over > 0 {
		n := copy(f.window, f.window[over:])
		f.window = f.window[:n]
	}
	f.window = append(f.window, out...)
}

var inflaterPool sync.Pool

// AppendInflate inflates msg, one compressed message without context
// (its tail removed), appends the result to dst and returns the extended
// slice, with the limit and errors of Inflater.Append. The decompressor
// comes from a pool and goes back before it returns. It is safe for
// concurrent use and allocates as Inflater.Append does.
func AppendInflate(dst, msg []byte, limit int64) ([]byte, error) {
	f, _ := inflaterPool.Get().(*Inflater)
	if f == nil {
		f = NewInflater(false)
	}
	dst, err := f.Append(dst, msg, limit)
	inflaterPool.Put(f)
	return dst, err
}

// inflateSource is the decompressor's input: a message and then
// inflateTail. It implements io.ByteReader, so that compress/flate reads
// it directly instead of through a bufio.Reader of its own.
type inflateSource struct {
	b []byte
	i int
	t int
}

func (s *inflateSource) ReadByte() (byte, error) {
	if s.i < len(s.b) {
		c := s.b[s.i]
		s.i++
		return c, nil
	}
	if s.t < len(inflateTail) {
		c := inflateTail[s.t]
		s.t++
		return c, nil
	}
	return 0, io.EOF
}

func (s *inflateSource) Read(p []byte) (int, error) {
	n := 0
	if s.i < len(s.b) {
		n = copy(p, s.b[s.i:])
		s.i += n
	}
	if n < len(p) && s.t < len(inflateTail) {
		m := copy(p[n:], inflateTail[s.t:])
		s.t += m
		n += m
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// CompressedLimit returns the most compressed bytes Parser accepts for a
// compressed message when MaxMessageSize is max: max plus an eighth plus
// 4 KiB, well above what any DEFLATE encoder emits for max bytes of
// incompressible data (stored blocks add 5 bytes per 64 KiB), yet a bound
// on what a peer can make a receiver buffer before inflating. 0 (no
// limit) stays 0.
func CompressedLimit(max int64) int64 {
	if max <= 0 {
		return max
	}
	l := max + max/8 + 4096
	if l < max {
		return 1<<63 - 1
	}
	return l
}
