package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/poller"
	"github.com/lullws/lull/upgrade"
)

// The raw client: connections whose handshake is done with blocking I/O
// and whose frames are then written and checked as bytes on lull's poller,
// GOMAXPROCS loops. Each connection's frame is masked once with a key of
// its own (from crypto/rand); only the 8 bytes of the sequence number are
// re-masked per message. Every echoed byte (header and payload) is
// compared with the expected server frame as it arrives. It costs the
// client about a write and a read system call per round trip and little
// else, so that the client is cheaper than the servers it measures.

type rawConn struct {
	fd      int
	key     [4]byte
	out     []byte // the masked frame to send
	outOff  int    // bytes of out written (a partial write waits for Writable)
	want    []byte // the frame the server must send back
	got     int    // bytes of want received so far
	seq     uint64
	sentAt  int64
	payload int // offset of the payload in out
}

func (c *rawConn) setSeq(seq uint64) {
	c.seq = seq
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seq)
	size := len(c.out) - c.payload
	copy(c.want[len(c.want)-size:], b[:]) // the payload follows the server's (shorter, unmasked) header
	for i := 0; i < 8; i++ {
		c.out[c.payload+i] = b[i] ^ c.key[i&3]
	}
}

type rawLoop struct {
	p     *poller.Poller
	conns map[int]*rawConn
	buf   []byte
}

// runRaw opens n connections and drives them until stop; it calls onRT for
// each verified round trip (on the loops) and fail on any error.
func runRaw(targets []string, path string, n, size int, running func() bool, onRT func(latency int64), fail func(error)) (stop func(), err error) {
	loops := make([]*rawLoop, runtime.GOMAXPROCS(0))
	for i := range loops {
		p, err := poller.New()
		if err != nil {
			return nil, err
		}
		loops[i] = &rawLoop{p: p, conns: map[int]*rawConn{}, buf: make([]byte, 64<<10)}
	}
	// Handshakes, 32 at a time.
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := rawDial(strings.TrimSpace(targets[i%len(targets)]), path, i, size)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			l := loops[i%len(loops)]
			l.conns[c.fd] = c
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	done := make(chan struct{})
	var exited sync.WaitGroup
	for _, l := range loops {
		for fd := range l.conns {
			if err := l.p.Add(fd, poller.Readable|poller.Writable); err != nil {
				return nil, err
			}
		}
		exited.Add(1)
		go func() {
			defer exited.Done()
			l.run(done, running, onRT, fail)
		}()
	}
	return func() {
		close(done)
		for _, l := range loops {
			l.p.Wake()
		}
		exited.Wait()
		for _, l := range loops {
			for fd := range l.conns {
				poller.Close(fd)
			}
			l.p.Close()
		}
	}, nil
}

func rawDial(addr, path string, id, size int) (*rawConn, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	host, _, _ := strings.Cut(addr, ":")
	cl := upgrade.Client{Host: addr, RequestURI: path, Origin: "http://" + host}
	var key [24]byte
	if err := upgrade.NewKey(&key); err != nil {
		nc.Close()
		return nil, err
	}
	req, err := cl.AppendRequest(nil, &key)
	if err == nil {
		_, err = nc.Write(req)
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	var head []byte
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		b, err := br.ReadByte()
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("reading the handshake response: %w", err)
		}
		head = append(head, b)
	}
	var resp upgrade.Response
	if st, _ := cl.ParseResponse(&resp, head); st != upgrade.Done {
		nc.Close()
		return nil, fmt.Errorf("handshake response %q: %v", head, resp.Err())
	}
	if _, err := cl.Verify(&resp, &key); err != nil {
		nc.Close()
		return nil, err
	}
	if br.Buffered() > 0 {
		nc.Close()
		return nil, fmt.Errorf("server sent data before any message")
	}
	nc.SetReadDeadline(time.Time{})
	fd, err := poller.TakeOver(nc)
	if err != nil {
		return nil, err
	}
	poller.SetNoDelay(fd, true)

	c := &rawConn{fd: fd}
	var k [24]byte
	upgrade.NewKey(&k) // 24 random base64 bytes; the first 4 make a fine key
	copy(c.key[:], k[:4])
	payload := bytes.Repeat([]byte{byte(id), 0x5a}, size/2+1)[:size]
	c.want = frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpBinary}, payload)
	c.out = frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Key: c.key}, payload)
	c.payload = len(c.out) - size
	return c, nil
}

func (l *rawLoop) run(done chan struct{}, running func() bool, onRT func(int64), fail func(error)) {
	for _, c := range l.conns {
		l.send(c, fail)
	}
	for {
		select {
		case <-done:
			return
		default:
		}
		events, _, err := l.p.Wait(100 * time.Millisecond)
		if err != nil {
			fail(err)
			return
		}
		for _, ev := range events {
			c := l.conns[ev.FD]
			if ev.Events&poller.Writable != 0 && c.outOff < len(c.out) {
				l.flush(c, fail)
			}
			if ev.Events&poller.Readable != 0 {
				l.read(c, running, onRT, fail)
			}
		}
	}
}

func (l *rawLoop) send(c *rawConn, fail func(error)) {
	c.setSeq(c.seq + 1)
	c.got = 0
	c.outOff = 0
	c.sentAt = time.Now().UnixNano()
	l.flush(c, fail)
}

func (l *rawLoop) flush(c *rawConn, fail func(error)) {
	for c.outOff < len(c.out) {
		n, err := poller.Write(c.fd, c.out[c.outOff:])
		c.outOff += n
		if err == poller.ErrWouldBlock {
			return
		}
		if err != nil {
			fail(fmt.Errorf("write: %w", err))
			return
		}
	}
}

func (l *rawLoop) read(c *rawConn, running func() bool, onRT func(int64), fail func(error)) {
	for {
		n, err := poller.Read(c.fd, l.buf)
		if n > 0 {
			if c.got+n > len(c.want) || !bytes.Equal(l.buf[:n], c.want[c.got:c.got+n]) {
				fail(fmt.Errorf("echo of message %d differs from what was sent", c.seq))
				return
			}
			c.got += n
			if c.got == len(c.want) {
				onRT(time.Now().UnixNano() - c.sentAt)
				if running() {
					l.send(c, fail)
				}
			}
		}
		if err == poller.ErrWouldBlock || err == nil && n < len(l.buf) {
			return // drained (a short read: new data raises a new edge)
		}
		if err != nil {
			if running() {
				fail(fmt.Errorf("read: %w", err))
			}
			return
		}
	}
}
