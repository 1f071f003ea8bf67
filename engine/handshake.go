package engine

import (
	"errors"

	"github.com/lullws/lull/upgrade"
)

// serverHandshake feeds bytes to the upgrade request parser. A request that
// arrives in one read is parsed where it lies; one that arrives in pieces is
// gathered in a pooled buffer (bounded by the upgrade limits). Bytes after
// the request are the client's first frames. Loop goroutine only.
func (c *Conn) serverHandshake(b []byte) {
	l := c.loop
	srv := &l.eng.cfg.Upgrade
	if c.hs == nil {
		c.hs = hsPool.Get().(*handshake)
	}
	req := &c.hs.req
	buf := b
	if c.in != nil {
		c.in.B = append(c.in.B, b...)
		buf = c.in.B
	}
	st, n := srv.Parse(req, buf)
	switch st {
	case upgrade.NeedMore:
		if c.in == nil {
			c.in = bufPool.Get()
			c.in.B = append(c.in.B, b...)
		}
		return
	case upgrade.Failed:
		c.refuse(req.Err())
		return
	}

	res, err := srv.Accept(req)
	if err != nil {
		var uerr *upgrade.Error
		if !errors.As(err, &uerr) {
			uerr = upgrade.ErrMalformed
		}
		c.refuse(uerr)
		return
	}
	var stack [512]byte
	resp, err := upgrade.AppendResponse(stack[:0], req.Key(), &res, nil)
	if err != nil {
		c.refuse(upgrade.ErrResponseHeader)
		return
	}
	hs := c.hs
	c.hs = nil
	releaseHandshake(hs)
	if err := c.writeHandshake(resp); err != nil {
		c.closeNow(err)
		return
	}
	gathered := c.in
	c.in = nil
	c.negotiated(&res, srv.Subprotocols)
	c.open()
	if rest := buf[n:]; len(rest) > 0 && c.state == stateOpen {
		c.frames(rest)
	}
	if gathered != nil {
		bufPool.Put(gathered)
	}
}

// refuse answers a failed handshake with its HTTP status and closes the
// connection.
func (c *Conn) refuse(e *upgrade.Error) {
	c.loop.stats.badHandshake.Add(1)
	if e == nil {
		e = upgrade.ErrMalformed
	}
	if c.in != nil {
		bufPool.Put(c.in)
		c.in = nil
	}
	var stack [512]byte
	resp := upgrade.AppendError(stack[:0], e.Status, e.Reason)
	c.setCloseErr(e)
	if c.writeHandshake(resp) != nil {
		c.closeNow(nil)
		return
	}
	c.flags |= fCloseRecv // read nothing more
	c.endTCP()
}

// writeHandshake writes an HTTP message (response or request) to the
// socket, queueing what it does not take.
func (c *Conn) writeHandshake(msg []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return ErrClosed
	}
	if c.out != nil {
		c.out.B = append(c.out.B, msg...)
		return nil
	}
	return c.send(msg, nil)
}
