package conformance

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FuzzingServer tests WebSocket clients, speaking the protocol of
// Autobahn's fuzzing server so that a client written to drive Autobahn
// drives it unchanged (catalogue §3.11):
//
//	/getCaseCount                  one text message: the number of cases
//	/runCase?case=N&agent=A        case N (from 1) against agent A; the client echoes every message
//	/updateReports?agent=A         the agent is done
//
// Each agent's results are kept until Report is called. A FuzzingServer
// is safe for concurrent use; it serves each connection on its own
// goroutine.
type FuzzingServer struct {
	opts  Options
	cases []*Case

	mu      sync.Mutex
	results map[string][]Result // by agent, indexed like cases
	started map[string]time.Time
	done    chan string
	conns   map[net.Conn]bool
	running map[string]int // cases in progress, by agent
	closed  bool
}

// NewFuzzingServer returns a server for the cases opts selects.
func NewFuzzingServer(opts Options) (*FuzzingServer, error) {
	cases, err := Select(opts.Cases)
	if err != nil {
		return nil, err
	}
	return &FuzzingServer{opts: opts, cases: cases, results: map[string][]Result{}, started: map[string]time.Time{},
		done: make(chan string, 16), conns: map[net.Conn]bool{}, running: map[string]int{}}, nil
}

// Done delivers the name of each agent that called /updateReports.
func (fs *FuzzingServer) Done() <-chan string { return fs.done }

// Report returns the results of agent's run so far; a case the agent did
// not run is reported as FAILED ("not run").
func (fs *FuzzingServer) Report(agent string) *Report {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	rep := &Report{Target: "client " + agent}
	got := fs.results[agent]
	for i, c := range fs.cases {
		if i < len(got) && got[i].Case != "" {
			rep.Results = append(rep.Results, got[i])
		} else {
			rep.Results = append(rep.Results, Result{Case: c.ID, Status: Failed, Detail: "not run: the client never asked for this case"})
		}
	}
	if t, ok := fs.started[agent]; ok {
		rep.Wall = time.Since(t)
	}
	return rep
}

// Serve accepts connections on ln until ln is closed or Close is called.
func (fs *FuzzingServer) Serve(ln net.Listener) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			fs.mu.Lock()
			closed := fs.closed
			fs.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		if !fs.track(conn, true) {
			conn.Close()
			return nil
		}
		go func() {
			defer fs.track(conn, false)
			defer conn.Close()
			fs.serveConn(conn)
		}()
	}
}

// Close ends the connections in progress. It does not close listeners.
func (fs *FuzzingServer) Close() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.closed = true
	for c := range fs.conns {
		c.Close()
	}
}

func (fs *FuzzingServer) track(c net.Conn, add bool) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if add {
		if fs.closed {
			return false
		}
		fs.conns[c] = true
	} else {
		delete(fs.conns, c)
	}
	return true
}

// request is the part of an opening handshake the server needs.
type request struct {
	path  string
	query url.Values
	key   string
	exts  string
}

func readRequest(br *bufio.Reader) (*request, error) {
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return nil, err
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "GET" || f[2] != "HTTP/1.1" {
		return nil, fmt.Errorf("request line %q, want GET ... HTTP/1.1", line)
	}
	u, err := url.ParseRequestURI(f[1])
	if err != nil {
		return nil, fmt.Errorf("request target %q: %v", f[1], err)
	}
	switch {
	case !hasToken(hdr.Values("Upgrade"), "websocket"):
		return nil, fmt.Errorf("Upgrade: %q, want websocket", hdr.Values("Upgrade"))
	case !hasToken(hdr.Values("Connection"), "upgrade"):
		return nil, fmt.Errorf("Connection: %q, want upgrade", hdr.Values("Connection"))
	case hdr.Get("Sec-WebSocket-Version") != "13":
		return nil, fmt.Errorf("Sec-WebSocket-Version: %q, want 13", hdr.Get("Sec-WebSocket-Version"))
	case hdr.Get("Host") == "":
		return nil, errors.New("no Host header")
	}
	key := hdr.Get("Sec-WebSocket-Key")
	if raw, err := base64Decode(key); err != nil || len(raw) != 16 {
		return nil, fmt.Errorf("Sec-WebSocket-Key %q is not 16 bytes in base64", key)
	}
	return &request{path: u.Path, query: u.Query(), key: key, exts: strings.Join(hdr.Values("Sec-WebSocket-Extensions"), ", ")}, nil
}

func writeResponse(conn net.Conn, key, exts string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n", acceptKey(key))
	if exts != "" {
		fmt.Fprintf(&b, "Sec-WebSocket-Extensions: %s\r\n", exts)
	}
	b.WriteString("\r\n")
	_, err := conn.Write([]byte(b.String()))
	return err
}

func refuse(conn net.Conn, status int, msg string) {
	fmt.Fprintf(conn, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, statusText(status), len(msg), msg)
}

func statusText(status int) string {
	if status == 404 {
		return "Not Found"
	}
	return "Bad Request"
}

func (fs *FuzzingServer) serveConn(conn net.Conn) {
	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	br := bufio.NewReaderSize(conn, 64<<10)
	req, err := readRequest(br)
	if err != nil {
		refuse(conn, 400, err.Error())
		return
	}
	agent := req.query.Get("agent")
	switch req.path {
	case "/getCaseCount":
		if writeResponse(conn, req.key, "") != nil {
			return
		}
		conn.SetDeadline(time.Time{})
		s := newSession(nil, conn, br, false, nil, nil, &fs.opts)
		defer s.stop()
		s.send(oneWrite, s.data(opText, []byte(strconv.Itoa(len(fs.cases)))))
		s.closeNormally()
	case "/updateReports":
		if writeResponse(conn, req.key, "") != nil {
			return
		}
		conn.SetDeadline(time.Time{})
		s := newSession(nil, conn, br, false, nil, nil, &fs.opts)
		defer s.stop()
		s.closeNormally()
		// The agent's last case may still be recording its verdict.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			fs.mu.Lock()
			n := fs.running[agent]
			fs.mu.Unlock()
			if n == 0 {
				break
			}
		}
		select {
		case fs.done <- agent:
		default:
		}
	case "/runCase":
		n, err := strconv.Atoi(req.query.Get("case"))
		if err != nil || n < 1 || n > len(fs.cases) {
			refuse(conn, 404, fmt.Sprintf("no case %q: cases are 1 to %d", req.query.Get("case"), len(fs.cases)))
			return
		}
		fs.mu.Lock()
		fs.running[agent]++
		fs.mu.Unlock()
		res := fs.runCase(conn, br, req, fs.cases[n-1])
		fs.mu.Lock()
		fs.running[agent]--
		if _, ok := fs.started[agent]; !ok {
			fs.started[agent] = time.Now().Add(-res.Duration)
		}
		rs := fs.results[agent]
		if len(rs) < len(fs.cases) {
			rs = append(rs, make([]Result, len(fs.cases)-len(rs))...)
		}
		rs[n-1] = res
		fs.results[agent] = rs
		fs.mu.Unlock()
		if fs.opts.OnResult != nil {
			fs.opts.OnResult(res)
		}
	default:
		refuse(conn, 404, "unknown path "+req.path+": want /getCaseCount, /runCase or /updateReports")
	}
}

// runCase runs case c as the server, the client under test having asked
// for it.
func (fs *FuzzingServer) runCase(conn net.Conn, br *bufio.Reader, req *request, c *Case) Result {
	start := time.Now()
	var (
		infl     *inflater
		defl     *deflater
		respExt  string
		status   = OK
		declined string
	)
	if c.offers != nil {
		offers, _, err := parseExtensions(req.exts)
		if err != nil {
			refuse(conn, 400, err.Error())
			return failed(c, start, "the client's permessage-deflate offer does not parse: %v", err)
		}
		if r, ok := c.accept(offers); ok {
			respExt = r.String()
			infl = newInflater(!r.clientNoContext, r.clientBits)
			defl = newDeflater(r.serverBits > 0 && r.serverBits < 15)
		} else {
			status = Unimplemented
			declined = "the client's offer lacks what this case needs: " + req.exts
			if req.exts == "" {
				declined = "the client offered no permessage-deflate"
			}
		}
	}
	if err := writeResponse(conn, req.key, respExt); err != nil {
		return failed(c, start, "writing the handshake response: %v", err)
	}
	conn.SetDeadline(time.Time{})
	s := newSession(c, conn, br, false, infl, defl, &fs.opts)
	defer s.stop()
	s.status, s.detail = status, declined
	c.run(s)
	if !s.over && s.status == OK {
		s.fail("internal error: case %s ended without a verdict", c.ID)
	}
	return Result{Case: c.ID, Status: s.status, Detail: s.detail, Duration: time.Since(start)}
}
