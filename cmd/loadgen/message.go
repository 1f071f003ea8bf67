package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Every message starts with a header that identifies it, and the rest is a
// slice of a fixed pattern at an offset that depends on the message, so
// that a server that echoes another connection's message, an old message,
// a truncated or a corrupted one is caught by comparing bytes.
//
//	[0:4]   connection number, little-endian
//	[4:12]  sequence number on that connection, from 0
//	[12:20] scheduled send time, nanoseconds since the run began
//	[20:]   pattern[off : off+size-20], off = (seq*7 + conn) % 251

// payloads builds and checks messages of one size.
type payloads struct {
	size    int
	pattern []byte
}

func newPayloads(size int) *payloads {
	p := &payloads{size: size, pattern: make([]byte, size+256)}
	for i := range p.pattern {
		p.pattern[i] = byte(i*7 + i>>8 + 1)
	}
	return p
}

func patternOffset(conn uint32, seq uint64) int {
	return int((seq*7 + uint64(conn)) % 251)
}

// fill writes message seq of connection conn, scheduled at sched, into b,
// which must have length size.
func (p *payloads) fill(b []byte, conn uint32, seq uint64, sched int64) {
	binary.LittleEndian.PutUint32(b[0:], conn)
	binary.LittleEndian.PutUint64(b[4:], seq)
	binary.LittleEndian.PutUint64(b[12:], uint64(sched))
	off := patternOffset(conn, seq)
	copy(b[headerSize:], p.pattern[off:off+p.size-headerSize])
}

// echoError describes an echo that is not the message it should be.
type echoError struct {
	Conn   uint32
	Seq    uint64 // the sequence number expected
	Detail string
}

func (e *echoError) Error() string {
	return fmt.Sprintf("connection %d, message %d: %s", e.Conn, e.Seq, e.Detail)
}

// check verifies that b is message seq of connection conn and returns its
// scheduled send time. It does not allocate unless the message is wrong.
func (p *payloads) check(b []byte, conn uint32, seq uint64) (sched int64, err *echoError) {
	if len(b) != p.size {
		return 0, &echoError{conn, seq, fmt.Sprintf("echo is %d bytes, sent %d", len(b), p.size)}
	}
	if got := binary.LittleEndian.Uint32(b[0:]); got != conn {
		return 0, &echoError{conn, seq, fmt.Sprintf("echo carries connection %d's message", got)}
	}
	if got := binary.LittleEndian.Uint64(b[4:]); got != seq {
		return 0, &echoError{conn, seq, fmt.Sprintf("echo carries message %d", got)}
	}
	off := patternOffset(conn, seq)
	want := p.pattern[off : off+p.size-headerSize]
	if !bytes.Equal(b[headerSize:], want) {
		i := 0
		for b[headerSize+i] == want[i] {
			i++
		}
		return 0, &echoError{conn, seq, fmt.Sprintf("byte %d is %#02x, sent %#02x", headerSize+i, b[headerSize+i], want[i])}
	}
	return int64(binary.LittleEndian.Uint64(b[12:])), nil
}
