package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/upgrade"
)

func TestEchoVerification(t *testing.T) {
	p := newPayloads(100)
	msg := make([]byte, 100)
	p.fill(msg, 7, 42, 123456789)
	sched, err := p.check(msg, 7, 42)
	if err != nil || sched != 123456789 {
		t.Fatalf("the message sent does not check: %v, sched %d", err, sched)
	}
	corrupt := func(f func(b []byte) []byte) []byte {
		b := append([]byte(nil), msg...)
		return f(b)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		conn uint32
		seq  uint64
		want string
	}{
		{"flipped byte", corrupt(func(b []byte) []byte { b[77] ^= 1; return b }), 7, 42, "byte 77"},
		{"last byte", corrupt(func(b []byte) []byte { b[99]++; return b }), 7, 42, "byte 99"},
		{"truncated", msg[:99], 7, 42, "echo is 99 bytes, sent 100"},
		{"longer", append(append([]byte(nil), msg...), 0), 7, 42, "echo is 101 bytes"},
		{"another connection's", msg, 8, 42, "connection 7's message"},
		{"an old message", msg, 7, 43, "carries message 42"},
	} {
		_, err := p.check(tc.b, tc.conn, tc.seq)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	// Messages of other sequence numbers differ beyond the header, so a
	// server that echoes a stale body with a fresh header is caught too.
	other := make([]byte, 100)
	p.fill(other, 7, 43, 0)
	copy(other[:headerSize], msg[:headerSize])
	if _, err := p.check(other, 7, 42); err == nil {
		t.Error("a stale body under the right header passes")
	}
}

func TestCheckDoesNotAllocate(t *testing.T) {
	p := newPayloads(1024)
	msg := make([]byte, 1024)
	p.fill(msg, 1, 2, 3)
	if n := testing.AllocsPerRun(100, func() { p.check(msg, 1, 2) }); n != 0 {
		t.Errorf("check allocates %v times", n)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("poller: connect 1.2.3.4:5: %w", syscall.ECONNREFUSED), causeRefused},
		{engine.ErrHandshakeTimeout, causeTimeout},
		{context.DeadlineExceeded, causeTimeout},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), causeReset},
		{fmt.Errorf("x: %w", syscall.EPIPE), causeReset},
		{fmt.Errorf("bind: %w", syscall.EADDRNOTAVAIL), causeNoPort},
		{fmt.Errorf("socket: %w", syscall.EMFILE), causeFiles},
		{&upgrade.HandshakeError{StatusCode: 403, Err: upgrade.ErrResponseStatus}, "handshake status 403"},
		{&upgrade.HandshakeError{StatusCode: 101, Err: upgrade.ErrResponseAccept}, "handshake: " + upgrade.ErrResponseAccept.Error()},
		{&engine.CloseError{Code: 1001, Remote: true}, "close code 1001 from the server"},
		{fmt.Errorf("something odd"), "other"},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
