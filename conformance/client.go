package conformance

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"
)

const handshakeTimeout = 5 * time.Second

// CheckServer runs the cases opts selects against the WebSocket server at
// rawURL (ws://host:port/path), each on a new connection, as Autobahn's
// fuzzing client does, and returns their verdicts in case order. The
// server must echo every message it receives with the same type. An error
// means the run could not start (a bad URL or selection); a server that
// cannot be reached fails each case instead.
func CheckServer(ctx context.Context, rawURL string, opts Options) (*Report, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	if u.Scheme != "ws" || u.Host == "" {
		return nil, fmt.Errorf("conformance: server URL %q: want ws://host:port/path", rawURL)
	}
	cases, err := Select(opts.Cases)
	if err != nil {
		return nil, err
	}
	rep := &Report{Target: rawURL, Results: make([]Result, len(cases))}
	start := time.Now()
	par := max(opts.Parallel, 1)
	next := make(chan int)
	var wg sync.WaitGroup
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res := runClientCase(ctx, u, cases[i], &opts)
				rep.Results[i] = res
				if opts.OnResult != nil {
					opts.OnResult(res)
				}
			}
		}()
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()
	rep.Wall = time.Since(start)
	return rep, nil
}

func failed(c *Case, start time.Time, format string, args ...any) Result {
	return Result{Case: c.ID, Status: Failed, Detail: fmt.Sprintf(format, args...), Duration: time.Since(start)}
}

// runClientCase runs one case as the client.
func runClientCase(ctx context.Context, u *url.URL, c *Case, opts *Options) Result {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return failed(c, start, "not run: %v", err)
	}
	d := net.Dialer{Timeout: handshakeTimeout}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return failed(c, start, "dial: %v", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	br, respExt, err := clientHandshake(conn, u, c.offers)
	if err != nil {
		return failed(c, start, "opening handshake: %v", err)
	}
	var (
		infl     *inflater
		defl     *deflater
		declined string
		status   = OK
	)
	switch {
	case c.offers == nil && respExt != "":
		return failed(c, start, "server answered Sec-WebSocket-Extensions %q to a request that offered none", respExt)
	case c.offers != nil && respExt == "":
		declined = "server declined permessage-deflate"
		status = Unimplemented
		if c.declineOK {
			declined += " (correct if it cannot keep to server_max_window_bits=9)"
			status = OK
		}
	case c.offers != nil:
		if _, err := checkResponse(c.offers, respExt); err != nil {
			return failed(c, start, "permessage-deflate negotiation: %v", err)
		}
		resp, _, _ := parseExtensions(respExt)
		r := resp[0]
		infl = newInflater(!r.serverNoContext, r.serverBits)
		defl = newDeflater(r.clientBits > 0 && r.clientBits < 15)
	}
	s := newSession(c, conn, br, true, infl, defl, opts)
	defer s.stop()
	s.status, s.detail = status, declined
	c.run(s)
	if !s.over && s.status == OK {
		s.fail("internal error: case %s ended without a verdict", c.ID)
	}
	return Result{Case: c.ID, Status: s.status, Detail: s.detail, Duration: time.Since(start)}
}

// clientHandshake sends the fuzzer's opening handshake and checks the
// answer (RFC 6455 §4.1). It returns the reader positioned at the first
// frame and the Sec-WebSocket-Extensions answered.
func clientHandshake(conn net.Conn, u *url.URL, offers []pmdParams) (*bufio.Reader, string, error) {
	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	defer conn.SetDeadline(time.Time{})
	var keyBytes [16]byte
	rand.Read(keyBytes[:])
	key := base64.StdEncoding.EncodeToString(keyBytes[:])
	path := u.RequestURI()
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nUser-Agent: lull-conformance (AutobahnTestSuite-compatible)\r\nHost: %s\r\n", path, u.Host)
	b.WriteString("Upgrade: WebSocket\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key)
	if offers != nil {
		fmt.Fprintf(&b, "Sec-WebSocket-Extensions: %s\r\n", offerList(offers))
	}
	b.WriteString("\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return nil, "", err
	}
	br := bufio.NewReaderSize(conn, 64<<10)
	tp := textproto.NewReader(br)
	status, err := tp.ReadLine()
	if err != nil {
		return nil, "", fmt.Errorf("reading the status line: %v", err)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, "", fmt.Errorf("reading the response header: %v", err)
	}
	if f := strings.Fields(status); len(f) < 2 || f[0] != "HTTP/1.1" || f[1] != "101" {
		return nil, "", fmt.Errorf("status %q, want HTTP/1.1 101", status)
	}
	if !strings.EqualFold(hdr.Get("Upgrade"), "websocket") {
		return nil, "", fmt.Errorf("Upgrade: %q, want websocket", hdr.Get("Upgrade"))
	}
	if !hasToken(hdr.Values("Connection"), "upgrade") {
		return nil, "", fmt.Errorf("Connection: %q, want upgrade", hdr.Values("Connection"))
	}
	if got, want := hdr.Get("Sec-WebSocket-Accept"), acceptKey(key); got != want {
		return nil, "", fmt.Errorf("Sec-WebSocket-Accept: %q, want %q", got, want)
	}
	return br, strings.Join(hdr.Values("Sec-WebSocket-Extensions"), ", "), nil
}

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// hasToken reports whether a comma-separated header holds token.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func base64Decode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
