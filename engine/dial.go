package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"sync"

	"github.com/lullws/lull/poller"
	"github.com/lullws/lull/upgrade"
)

// DialOptions configures a client connection. The zero value is usable.
type DialOptions struct {
	// LocalAddr, if valid, is the local address to bind before connecting,
	// to spread many connections over several source addresses. A zero
	// port lets the kernel choose.
	LocalAddr netip.AddrPort

	// Origin, Subprotocols and Header are sent with the opening handshake;
	// see upgrade.Client.
	Origin       string
	Subprotocols []string
	Header       []upgrade.Field

	// Deflate lists permessage-deflate offers, most preferred first; nil
	// offers none. DeflateOffer is the usual choice. Any offer the upgrade
	// package accepts can be honoured, client_max_window_bits included
	// (a window under 15 bits is kept to with frame.HuffmanOnly).
	// Config.Compression applies to the connections that negotiate it.
	Deflate []upgrade.DeflateParams
}

// DeflateOffer offers permessage-deflate without context takeover in
// either direction, so that neither side keeps compression state between
// messages: what the server's zero upgrade.DeflatePolicy answers, and the
// cheapest for both sides.
var DeflateOffer = []upgrade.DeflateParams{{ServerNoContextTakeover: true, ClientNoContextTakeover: true}}

// dialState is a client connection's handshake state, dropped once open.
type dialState struct {
	request []byte // the handshake request, sent once TCP is connected
	client  upgrade.Client
	key     [24]byte
	resp    upgrade.Response
	once    sync.Once
	done    func(*Conn, error)
}

func (d *dialState) finish(c *Conn, err error) {
	d.once.Do(func() {
		if d.done != nil {
			d.done(c, err)
		}
	})
}

// ErrUnsupportedScheme: the engine dials only ws:// URLs; use the compat
// package for wss://.
var ErrUnsupportedScheme = errors.New("engine: only ws:// URLs can be dialled on the event loops (use compat for wss://)")

// Dial connects to a WebSocket server at rawURL (ws://host[:port]/path) on
// one of the engine's loops and returns the connection once the opening
// handshake is done. The connection's events then go to the Config's
// handlers, like a server connection's. Host names are resolved in the
// calling goroutine; ctx bounds the whole dial.
//
// A handshake the server refuses fails with an *upgrade.HandshakeError
// that holds the response's status and header fields.
func (e *Engine) Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, error) {
	type result struct {
		c   *Conn
		err error
	}
	ch := make(chan result, 1)
	c, err := e.dial(ctx, rawURL, opts, func(c *Conn, err error) { ch <- result{c, err} })
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r.c, r.err
	case <-ctx.Done():
		c.abort(ctx.Err())
		r := <-ch
		if r.err == nil {
			return r.c, nil // the handshake won the race
		}
		return nil, ctx.Err()
	}
}

// DialAsync starts dialing rawURL and returns at once; done is called,
// on the connection's loop, with the open connection or the error that
// ended the attempt. It is the way to open many connections without a
// goroutine each. rawURL's host must be an IP address: names are not
// resolved here.
func (e *Engine) DialAsync(rawURL string, opts *DialOptions, done func(*Conn, error)) error {
	_, err := e.dial(nil, rawURL, opts, done)
	return err
}

func (e *Engine) dial(ctx context.Context, rawURL string, opts *DialOptions, done func(*Conn, error)) (*Conn, error) {
	if e.stopping.Load() {
		return nil, ErrEngineClosed
	}
	if opts == nil {
		opts = &DialOptions{}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("engine: dial: %w", err)
	}
	if u.Scheme != "ws" {
		return nil, ErrUnsupportedScheme
	}
	if u.User != nil {
		return nil, fmt.Errorf("engine: dial %s: user information in the URL is not supported", rawURL)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("engine: dial %s: bad port %q", rawURL, port)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		if ctx == nil {
			return nil, fmt.Errorf("engine: dial %s: host must be an IP address", rawURL)
		}
		ips, lerr := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if lerr != nil {
			return nil, fmt.Errorf("engine: dial %s: %w", rawURL, lerr)
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("engine: dial %s: no address for %s", rawURL, host)
		}
		ip = ips[0]
	}
	raddr := netip.AddrPortFrom(ip.Unmap(), uint16(p))

	d := &dialState{done: done}
	d.client = upgrade.Client{
		Host:         u.Host,
		RequestURI:   u.RequestURI(),
		Origin:       opts.Origin,
		Subprotocols: append([]string(nil), opts.Subprotocols...), // the Conn keeps a pointer into it
		Header:       opts.Header,
		Deflate:      opts.Deflate,
		// Windows under 15 bits are kept to with HuffmanOnly.
		DeflateMinWindowBits: 8,
	}
	if err := upgrade.NewKey(&d.key); err != nil {
		return nil, err
	}
	var stack [1024]byte
	req, err := d.client.AppendRequest(stack[:0], &d.key)
	if err != nil {
		return nil, err
	}
	d.request = append([]byte(nil), req...)

	fd, err := poller.Connect(raddr, opts.LocalAddr)
	if err != nil {
		return nil, err
	}
	poller.SetNoDelay(fd, true)
	l := e.pickLoop()
	c := newConn(l, fd, true)
	c.state = stateConnecting
	c.hs = &handshake{dial: d}
	if !l.post(c.startDial) {
		poller.Close(fd)
		return nil, ErrEngineClosed
	}
	return c, nil
}

// startDial registers a connecting client with its loop. Loop goroutine
// only.
func (c *Conn) startDial() {
	l := c.loop
	if l.eng.stopping.Load() {
		c.closeNow(ErrEngineClosed)
		return
	}
	if err := l.register(c); err != nil {
		c.closeNow(err)
		return
	}
	c.deadline = l.tick + l.eng.handshakeTicks + 1 // + 1: ticks are floors; never early
	l.timers.schedule(c, c.deadline)
}

// connected runs on the first writable edge of a connecting client: the
// TCP connect has finished, successfully or not.
func (c *Conn) connected() {
	if err := poller.SocketError(int(c.fd)); err != nil {
		c.closeNow(err)
		return
	}
	if _, err := poller.RemoteAddr(int(c.fd)); err != nil {
		// Not connected yet: a stale event for an earlier user of the
		// descriptor number. The real edge is still to come.
		return
	}
	d := c.hs.dial
	req := d.request
	d.request = nil
	c.state = stateClientHandshake
	if err := c.writeHandshake(req); err != nil {
		c.closeNow(err)
	}
}

// clientHandshake feeds bytes to the response parser, gathering a response
// that arrives in pieces as serverHandshake does. Loop goroutine only.
func (c *Conn) clientHandshake(b []byte) {
	d := c.hs.dial
	buf := b
	if c.in != nil {
		c.in.B = append(c.in.B, b...)
		buf = c.in.B
	}
	st, n := d.client.ParseResponse(&d.resp, buf)
	switch st {
	case upgrade.NeedMore:
		if c.in == nil {
			c.in = bufPool.Get()
			c.in.B = append(c.in.B, b...)
		}
		return
	case upgrade.Failed:
		c.closeNow(d.resp.Err())
		return
	}
	res, err := d.client.Verify(&d.resp, &d.key)
	if err != nil {
		c.closeNow(err)
		return
	}
	gathered := c.in
	c.in = nil
	c.hs = nil
	c.negotiated(&res, d.client.Subprotocols)
	c.open()
	d.finish(c, nil)
	if rest := buf[n:]; len(rest) > 0 && c.state == stateOpen {
		c.frames(rest)
	}
	if gathered != nil {
		bufPool.Put(gathered)
	}
}

// abort ends a dial that is still in progress; from any goroutine.
func (c *Conn) abort(err error) {
	c.loop.post(func() {
		if c.state < stateOpen {
			c.closeNow(err)
		}
	})
}
