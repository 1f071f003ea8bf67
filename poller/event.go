package poller

import (
	"errors"
	"strings"
	"time"
)

// Events is a set of readiness conditions: the interest passed to
// [Poller.Add] and [Poller.Modify], and what [Poller.Wait] reports.
type Events uint32

const (
	// Readable: data (or a pending connection, or end of stream) can be read
	// without blocking.
	Readable Events = 1 << iota
	// Writable: the send buffer has room, or a non-blocking connect has
	// finished (successfully or not; see [SocketError]).
	Writable
	// HangUp is reported, together with Readable, when the peer has shut
	// down its sending side or both sides. Reads will drain what is buffered
	// and then return io.EOF. It is ignored as interest.
	HangUp
	// Error is reported, together with Readable and Writable, when the
	// socket has a pending error; the next Read or Write returns it, as does
	// [SocketError]. It is ignored as interest.
	Error
)

// String returns the set as names joined by '|', such as "Readable|HangUp".
func (e Events) String() string {
	if e == 0 {
		return "0"
	}
	var b strings.Builder
	for i, name := range [...]string{"Readable", "Writable", "HangUp", "Error"} {
		if e&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(name)
		}
	}
	if rest := e &^ (Readable | Writable | HangUp | Error); rest != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString("0x")
		const hex = "0123456789abcdef"
		var buf [8]byte
		i := len(buf)
		for rest != 0 {
			i--
			buf[i] = hex[rest&0xf]
			rest >>= 4
		}
		b.Write(buf[i:])
	}
	return b.String()
}

// Event is one readiness report from [Poller.Wait].
type Event struct {
	FD     int
	Events Events
}

// DefaultBatch is the number of events one call to [Poller.Wait] can return
// at most when the Poller was made by [New].
const DefaultBatch = 1024

// ErrClosed is returned by the methods of a Poller after Close.
var ErrClosed = errors.New("poller: poller is closed")

// ceilMillis converts a non-negative timeout to whole milliseconds, rounding
// up so that a short positive timeout does not become a busy poll, and
// capping at what a 32-bit int holds (about 24 days).
func ceilMillis(d time.Duration) int64 {
	const max = 1<<31 - 1
	if d >= max*time.Millisecond {
		return max
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
