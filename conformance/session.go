package conformance

import (
	"bufio"
	"fmt"
	"net"
	"time"
)

// Time limits of the judging rules (catalogue §3.0).
const (
	closeReplyTimeout = time.Second     // the testee answers our close frame
	tcpCloseTimeout   = time.Second     // a server closes TCP after the close handshake
	writeTimeout      = 2 * time.Minute // one write of the suite (a testee that stops reading)
)

// session is one case on one connection: the suite's side of it, in either
// role. The case's script calls its methods in order; the first failure
// decides the verdict and makes the rest of the script a no-op.
type session struct {
	c        *Case
	conn     net.Conn
	masked   bool // we are the client: mask what we send
	testsSrv bool // the testee is a server: it must close TCP first
	events   chan event
	done     chan struct{}
	opts     *Options

	deflate *deflater // non-nil when permessage-deflate was negotiated
	pending []event   // events read but not yet consumed (lookahead)

	status        Status
	detail        string
	over          bool
	lastCloseCode int // the code of the testee's close reply (-1: none)
}

func newSession(c *Case, conn net.Conn, br *bufio.Reader, client bool, infl *inflater, defl *deflater, opts *Options) *session {
	events, done := make(chan event, 64), make(chan struct{})
	s := &session{c: c, conn: conn, masked: client, testsSrv: client, events: events, done: done, opts: opts, deflate: defl, status: OK}
	r := &reader{br: br, expectMasked: !client, inflate: infl, events: events, done: done}
	go r.run()
	return s
}

// stop ends the session: it closes the connection and lets the reader go.
func (s *session) stop() {
	s.conn.Close()
	close(s.done)
}

// fail records a FAILED verdict (the first reason wins) and ends the script.
func (s *session) fail(format string, args ...any) {
	if s.over {
		return
	}
	s.status, s.detail, s.over = Failed, fmt.Sprintf(format, args...), true
}

// downgrade records a lesser verdict without ending the script.
func (s *session) downgrade(st Status, format string, args ...any) {
	if s.over || st <= s.status {
		return
	}
	s.status, s.detail = st, fmt.Sprintf(format, args...)
}

// finish ends the script with a verdict other than FAILED.
func (s *session) finish(st Status, format string, args ...any) {
	if s.over {
		return
	}
	s.status, s.detail, s.over = st, fmt.Sprintf(format, args...), true
}

// frame builds one frame as this side must send it (masked if we are the
// client).
func (s *session) frame(fin bool, rsv, op byte, payload []byte) []byte {
	return appendFrame(nil, fin, rsv, op, payload, s.masked)
}

func (s *session) data(op byte, p []byte) []byte { return s.frame(true, 0, op, p) }
func (s *session) textFrame(p string) []byte     { return s.frame(true, 0, opText, []byte(p)) }
func (s *session) ping(p string) []byte          { return s.frame(true, 0, opPing, []byte(p)) }
func (s *session) closeFrame(code int, r string) []byte {
	return s.frame(true, 0, opClose, closePayload(code, r))
}

// send writes frames as c says. Write errors are ignored: a testee that
// failed the connection early may have closed TCP, and its events (read
// separately) are what the case judges.
func (s *session) send(c chop, frames ...[]byte) {
	if s.over {
		return
	}
	write := func(p []byte) bool {
		s.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, err := s.conn.Write(p)
		return err == nil
	}
	if c.perFrame {
		for i, f := range frames {
			if i > 0 && c.pause > 0 {
				time.Sleep(c.pause)
			}
			if !write(f) {
				return
			}
		}
		return
	}
	var all []byte
	if len(frames) == 1 {
		all = frames[0]
	} else {
		for _, f := range frames {
			all = append(all, f...)
		}
	}
	if c.size <= 0 {
		write(all)
		return
	}
	for i := 0; i < len(all); i += c.size {
		if i > 0 && c.pause > 0 {
			time.Sleep(c.pause)
		}
		if !write(all[i:min(i+c.size, len(all))]) {
			return
		}
	}
}

// next returns the testee's next event, or ok=false if none comes within d.
// Once the reader has stopped, next keeps returning its last event.
func (s *session) next(d time.Duration) (event, bool) {
	if len(s.pending) > 0 {
		e := s.pending[0]
		s.pending = s.pending[1:]
		return e, true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case e, ok := <-s.events:
		if !ok {
			return event{kind: evEOF, err: fmt.Errorf("connection already ended")}, true
		}
		return e, true
	case <-t.C:
		return event{}, false
	}
}

// scaled stretches a time limit by Options.TimeScale.
func (s *session) scaled(d time.Duration) time.Duration {
	if s.opts.TimeScale > 1 {
		return time.Duration(float64(d) * s.opts.TimeScale)
	}
	return d
}

// expect requires exactly the events want, in order, within d, and nothing
// else in between.
func (s *session) expect(d time.Duration, want ...event) {
	d = s.scaled(d)
	deadline := time.Now().Add(d)
	for i, w := range want {
		if s.over {
			return
		}
		e, ok := s.next(time.Until(deadline))
		if !ok {
			s.fail("timed out after %v waiting for %s (event %d of %d)", d, w, i+1, len(want))
			return
		}
		if !e.matches(w) {
			s.fail("got %s, want %s (event %d of %d)", e, w, i+1, len(want))
			return
		}
	}
}

// quiet requires that the testee send nothing for d.
func (s *session) quiet(d time.Duration, why string) {
	if s.over {
		return
	}
	if e, ok := s.next(s.scaled(d)); ok {
		s.fail("got %s %s", e, why)
	}
}

// closeNormally ends a case the suite closes: close 1000, which the testee
// must answer with close 1000 and nothing before it.
func (s *session) closeNormally() {
	s.closeWith(s.closeFrame(1000, ""), "close 1000", []int{1000}, false)
}

// closeWith sends the close frame f (described by what) and requires the
// testee to answer with a close whose code is in codes (or with no code if
// emptyOK), then the end of TCP.
func (s *session) closeWith(f []byte, what string, codes []int, emptyOK bool) {
	if s.over {
		return
	}
	s.send(oneWrite, f)
	s.closeReply(what, codes, emptyOK)
}

// closeReply requires the testee's answer to our close frame.
func (s *session) closeReply(what string, codes []int, emptyOK bool) {
	limit := s.scaled(closeReplyTimeout)
	e, ok := s.next(limit)
	if ok && e.kind == evClose {
		s.lastCloseCode = e.code
	}
	switch {
	case !ok:
		s.fail("no close frame within %v of our %s", limit, what)
		return
	case e.kind != evClose:
		s.fail("got %s, want the close reply to our %s", e, what)
		return
	case e.code < 0 && !emptyOK:
		s.fail("answered our %s with a close frame without a code, want %v", what, codes)
		return
	case e.code >= 0 && !contains(codes, e.code):
		s.fail("answered our %s with close %d, want %v", what, e.code, codes)
		return
	}
	s.endTCP()
}

// endTCP checks the end of the connection after the close handshake: a
// server must close TCP within a second (and send nothing more); with a
// client, the suite is the server and closes TCP itself.
func (s *session) endTCP() {
	if s.over {
		return
	}
	if !s.testsSrv {
		s.over = true
		return
	}
	limit := s.scaled(tcpCloseTimeout)
	e, ok := s.next(limit)
	switch {
	case !ok:
		s.fail("server did not close TCP within %v of the close handshake", limit)
	case e.kind != evEOF:
		s.fail("got %s after the close handshake, want the end of TCP", e)
	default:
		s.over = true
	}
}

// expectFail requires the testee to fail the connection within d with a
// close frame carrying code (dropping TCP alone is not enough). If the
// events in optional come first (in order), the verdict stays OK; failing
// without them is NON-STRICT. Any other event fails the case.
func (s *session) expectFail(code int, d time.Duration, optional ...event) {
	if s.over {
		return
	}
	d = s.scaled(d)
	deadline := time.Now().Add(d)
	seen := 0
	for {
		e, ok := s.next(time.Until(deadline))
		switch {
		case !ok:
			s.fail("did not fail the connection within %v (want close %d)", d, code)
			return
		case e.kind == evClose && e.code == code:
			if seen < len(optional) {
				if seen == 0 {
					s.downgrade(NonStrict, "failed the connection before echoing %s", optional[0])
				} else {
					s.fail("failed the connection after %d of the %d events it should send first", seen, len(optional))
					return
				}
			}
			s.send(oneWrite, s.closeFrame(code, ""))
			s.endTCP()
			return
		case e.kind == evClose:
			s.fail("failed the connection with %s, want close %d", e, code)
			return
		case e.kind == evEOF:
			s.fail("dropped TCP without a close frame (want close %d)", code)
			return
		case seen < len(optional) && e.matches(optional[seen]):
			seen++
		default:
			s.fail("got %s, want close %d", e, code)
			return
		}
	}
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
