package engine

import (
	"github.com/lullws/lull/frame"
	"github.com/valyala/bytebufferpool"
)

// Worker mode (Config.Workers): the loop hands each handler call to the
// worker its connection is pinned to, so the calls of one connection stay
// in order while a slow handler blocks only its worker's connections.
// Payloads are copied into pooled buffers, returned after the call.

type eventKind uint8

const (
	evOpen eventKind = iota
	evMessage
	evPing
	evPong
	evClose
)

type workItem struct {
	c    *Conn
	kind eventKind
	op   frame.Opcode
	buf  *bytebufferpool.ByteBuffer
	err  error
}

// workerQueue is how many calls may wait for a worker before the loop that
// submits one more blocks: backpressure from slow handlers to the loops.
const workerQueue = 1024

type worker struct {
	cfg  *Config
	ch   chan workItem
	done chan struct{}
}

func newWorker(cfg *Config) *worker {
	w := &worker{cfg: cfg, ch: make(chan workItem, workerQueue), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *worker) submit(c *Conn, kind eventKind, op frame.Opcode, data []byte) {
	it := workItem{c: c, kind: kind, op: op}
	if data != nil {
		it.buf = bufPool.Get()
		it.buf.B = append(it.buf.B, data...)
	}
	w.ch <- it
}

func (w *worker) submitClose(c *Conn, err error) {
	w.ch <- workItem{c: c, kind: evClose, err: err}
}

func (w *worker) stop() {
	close(w.ch)
	<-w.done
}

func (w *worker) run() {
	defer close(w.done)
	for it := range w.ch {
		var data []byte
		if it.buf != nil {
			data = it.buf.B
		}
		switch it.kind {
		case evOpen:
			w.cfg.OnOpen(it.c)
		case evMessage:
			w.cfg.OnMessage(it.c, it.op, data)
		case evPing:
			w.cfg.OnPing(it.c, data)
		case evPong:
			w.cfg.OnPong(it.c, data)
		case evClose:
			w.cfg.OnClose(it.c, it.err)
		}
		if it.buf != nil {
			bufPool.Put(it.buf)
		}
	}
}
