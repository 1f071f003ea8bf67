package engine

import (
	"errors"
	"sync"

	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
	"github.com/valyala/bytebufferpool"
)

// Defaults of Compression's zero fields.
const (
	DefaultCompressionLevel     = frame.DefaultCompressionLevel // 1
	DefaultCompressionThreshold = 128
)

// Compression configures permessage-deflate (RFC 7692) for the
// connections that negotiate it: on the server, Config.Upgrade.Deflate
// (an upgrade.DeflatePolicy) decides which offers are accepted; on the
// client, DialOptions.Deflate lists the offers. Connections that did not
// negotiate it are not affected.
//
// By default a connection keeps no compression state between messages:
// compressors and decompressors come from pools and are held only while a
// message is compressed or inflated, so an idle compressed connection
// costs what an uncompressed one costs.
type Compression struct {
	// Level is the compress/flate level of the messages sent, -2
	// (frame.HuffmanOnly) to 9; 0 means DefaultCompressionLevel (1). A
	// connection whose peer asked for a window under 15 bits
	// (server_max_window_bits, client_max_window_bits) compresses with
	// frame.HuffmanOnly, which emits no back-references. Conn.
	// SetCompressionLevel sets another level, 0 (stored blocks) included,
	// per connection.
	Level int

	// Threshold: data messages shorter than this many bytes are sent
	// uncompressed, as compression costs more than it saves on them. 0
	// means DefaultCompressionThreshold (128); a negative value compresses
	// every message.
	Threshold int

	// ContextTakeover keeps a compressor per connection, so that messages
	// may refer back to earlier ones, when the negotiation allows it: on a
	// server whose DeflatePolicy.ServerContextTakeover is set, for a client
	// that did not offer server_no_context_takeover; on a client whose
	// offer lacked client_no_context_takeover, with a server that did not
	// add it. It compresses repetitive streams much better and costs about
	// 1.2 MiB per connection at level 1 (0.8 MiB at levels 2 to 9): see
	// frame.Compressor. Whatever this says, a connection whose peer keeps
	// its context keeps a decompressor with a 32 KiB window (about 76 KiB)
	// from its first compressed message until it closes, as RFC 7692
	// requires.
	ContextTakeover bool
}

// Bits of Conn.dfl.
const (
	dOn           uint32 = 1 << iota // permessage-deflate negotiated
	dInflateKeep                     // the peer keeps its compression context: keep the inflater's window
	dCompressKeep                    // keep our compressor's context
	dHuffman                         // the peer's window is under 15 bits: HuffmanOnly
	dWriteOff                        // SetWriteCompression(false)
	dLevelShift   = 8                // level + 3 in bits 8-11; 0 means the Config's level
)

// deflateState is what a connection with context takeover keeps.
type deflateState struct {
	mu   sync.Mutex        // held from compression to queueing, so contexts follow wire order
	comp *frame.Compressor // under mu; made on first use
	inf  *frame.Inflater   // loop goroutine only; made on first use
}

// ErrCompressionLevel: SetCompressionLevel was given a level outside -2
// to 9.
var ErrCompressionLevel = errors.New("engine: compression level must be -2 to 9")

// takeover returns the connection's context-takeover state, or nil.
func (c *Conn) takeover(d uint32) *deflateState {
	if d&(dInflateKeep|dCompressKeep) == 0 {
		return nil
	}
	v, _ := c.loop.eng.deflateCtx.Load(c)
	ds, _ := v.(*deflateState)
	return ds
}

// setupDeflate applies the negotiated permessage-deflate parameters; see
// negotiated for when it runs.
func (c *Conn) setupDeflate(res *upgrade.Result) {
	if !res.Deflate {
		return
	}
	p := res.DeflateParams
	cfg := &c.loop.eng.cfg
	d := dOn
	// The side's own fields govern its compressor, the other side's its
	// decompressor (see upgrade.DeflateParams).
	ownNoCtx, peerNoCtx, ownBits := p.ServerNoContextTakeover, p.ClientNoContextTakeover, p.ServerMaxWindowBits
	if c.client() {
		ownNoCtx, peerNoCtx, ownBits = p.ClientNoContextTakeover, p.ServerNoContextTakeover, p.ClientMaxWindowBits
	}
	if !peerNoCtx {
		d |= dInflateKeep
	}
	if ownBits != 0 && ownBits < 15 {
		d |= dHuffman
	} else if !ownNoCtx && cfg.Compression.ContextTakeover {
		d |= dCompressKeep
	}
	if d&(dInflateKeep|dCompressKeep) != 0 {
		// Kept beside the connection, not in it, so that the Conn of
		// every other connection stays small. The codecs are made on
		// first use: an idle connection holds only this.
		c.loop.eng.deflateCtx.Store(c, &deflateState{})
	}
	c.parser.Compression = true
	c.dfl.Store(d)
}

// Compressed reports whether permessage-deflate was negotiated for the
// connection. Like Subprotocol, it is set before OnOpen runs.
func (c *Conn) Compressed() bool { return c.dfl.Load()&dOn != 0 }

// SetWriteCompression turns compression of the messages this connection
// sends on or off (on by default where negotiated); it has no effect on a
// connection that did not negotiate permessage-deflate. Safe from any
// goroutine; it applies to messages written after it returns.
func (c *Conn) SetWriteCompression(on bool) {
	for {
		old := c.dfl.Load()
		d := old | dWriteOff
		if on {
			d = old &^ dWriteOff
		}
		if c.dfl.CompareAndSwap(old, d) {
			return
		}
	}
}

// SetCompressionLevel sets the compress/flate level, -2 to 9, of the
// messages this connection sends (0: stored blocks, no compression), in
// place of Config.Compression.Level. A connection whose peer asked for a
// window under 15 bits keeps using frame.HuffmanOnly. Safe from any
// goroutine.
func (c *Conn) SetCompressionLevel(level int) error {
	if !frame.ValidCompressionLevel(level) {
		return ErrCompressionLevel
	}
	for {
		old := c.dfl.Load()
		d := old&^(0xF<<dLevelShift) | uint32(level+3)<<dLevelShift
		if c.dfl.CompareAndSwap(old, d) {
			return nil
		}
	}
}

// level returns the level to compress with under the flags d.
func (c *Conn) level(d uint32) int {
	if d&dHuffman != 0 {
		return frame.HuffmanOnly
	}
	if l := d >> dLevelShift & 0xF; l != 0 {
		return int(l) - 3
	}
	return c.loop.eng.compLevel
}

// compressing reports whether a data message of n bytes is to be sent
// compressed under the flags d.
func (c *Conn) compressing(d uint32, n int) bool {
	return d&dOn != 0 && d&dWriteOff == 0 && n >= c.loop.eng.compThreshold
}

// headroom is the space reserved before a payload built in a pooled
// buffer, so that its header can be put in front of it.
var headroom [frame.MaxHeaderSize]byte

// writeCompressed compresses data and sends it as one message with RSV1.
func (c *Conn) writeCompressed(op frame.Opcode, data []byte, d uint32) error {
	buf := bufPool.Get()
	buf.B = append(buf.B[:0], headroom[:]...)
	level := c.level(d)
	var err error
	if ctx := c.takeover(d & dCompressKeep); ctx != nil { // nil once closed
		ctx.mu.Lock()
		if ctx.comp == nil || ctx.comp.Level() != level {
			ctx.comp, _ = frame.NewCompressor(level, true)
		}
		buf.B = ctx.comp.Append(buf.B, data)
		if err = c.writeBuilt(op, buf); err != nil {
			// The peer will not see this message: the next one must not
			// refer to it.
			ctx.comp.Reset()
		}
		ctx.mu.Unlock()
	} else {
		buf.B, _ = frame.AppendDeflate(buf.B, data, level)
		err = c.writeBuilt(op, buf)
	}
	bufPool.Put(buf)
	return err
}

// writeBuilt sends the compressed payload buf.B[frame.MaxHeaderSize:] as
// one final frame with RSV1; the header goes into the headroom, and a
// client masks the payload in place.
func (c *Conn) writeBuilt(op frame.Opcode, buf *bytebufferpool.ByteBuffer) error {
	payload := buf.B[frame.MaxHeaderSize:]
	h := frame.Header{Fin: true, Rsv: frame.Rsv1, Opcode: op, Length: int64(len(payload))}
	if c.client() {
		h.Masked = true
		h.Key = c.loop.keys.next()
		frame.Mask(h.Key, 0, payload)
	}
	start := frame.MaxHeaderSize - h.Size()
	frame.PutHeader(buf.B[start:], h)
	return c.writeWire(op, frame.Rsv1, buf.B[start:])
}

// inflated inflates a complete compressed message and delivers it. The
// connection's own read limit and UTF-8 setting apply to the inflated
// message as the parser applies them to an uncompressed one (AdoptWith
// may give a connection a limit other than the Config's).
// Loop goroutine only.
func (c *Conn) inflated(op frame.Opcode, data []byte) {
	l := c.loop
	out, _ := inflatePool.Get().(*inflateBuf)
	if out == nil {
		out = new(inflateBuf)
	}
	limit := c.parser.MaxMessageSize
	var err error
	if ctx := c.takeover(c.dfl.Load() & dInflateKeep); ctx != nil { // nil once closed
		if ctx.inf == nil { // loop goroutine only, like all of inflation
			ctx.inf = frame.NewInflater(true)
		}
		out.b, err = ctx.inf.Append(out.b[:0], data, limit)
	} else {
		out.b, err = frame.AppendInflate(out.b[:0], data, limit)
	}
	if err == nil && op == frame.OpText && !c.parser.SkipUTF8 && !frame.ValidUTF8(out.b) {
		err = frame.ErrInvalidUTF8
	}
	if err != nil {
		out.put()
		c.fail(err)
		return
	}
	l.stats.compressedIn.Add(1)
	c.message(op, out.b)
	out.put()
}

// inflateBuf holds an inflated message while its handler runs. They are
// pooled apart from bufPool, whose calibration would drop buffers grown
// by inflating (their capacity runs ahead of the lengths it sees) and
// make every message allocate.
type inflateBuf struct{ b []byte }

var inflatePool sync.Pool

// maxPooledInflate: larger buffers (a big message, a refused bomb) are
// left to the collector rather than kept in the pool.
const maxPooledInflate = 1 << 20

func (ib *inflateBuf) put() {
	if cap(ib.b) <= maxPooledInflate {
		ib.b = ib.b[:0]
		inflatePool.Put(ib)
	}
}

// preparedDeflate is a Prepared message compressed at one level.
type preparedDeflate struct {
	level   int
	payload []byte // compressed, without the tail
	wire    []byte // the whole unmasked frame with RSV1, as a server sends it
}

// compressed returns pm compressed at level, compressing it on first use.
func (pm *Prepared) compressed(level int) *preparedDeflate {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	for _, z := range pm.deflated {
		if z.level == level {
			return z
		}
	}
	payload, _ := frame.AppendDeflate(nil, pm.payload, level)
	wire := frame.AppendFrame(make([]byte, 0, frame.MaxHeaderSize+len(payload)), frame.Header{Fin: true, Rsv: frame.Rsv1, Opcode: pm.op}, payload)
	z := &preparedDeflate{level: level, payload: wire[len(wire)-len(payload):], wire: wire}
	pm.deflated = append(pm.deflated, z)
	return z
}
