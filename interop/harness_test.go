package interop

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitLimit bounds every wait for a peer: it turns a hang into a failure
// with a message, and is far above what any step needs.
const waitLimit = 60 * time.Second

// idleConn bounds each Read and Write of a connection by waitLimit, so
// that a stalled peer fails the test while a long run (16 MiB messages
// under the race detector) does not.
type idleConn struct{ net.Conn }

func (c idleConn) Read(p []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(waitLimit))
	return c.Conn.Read(p)
}

func (c idleConn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(waitLimit))
	return c.Conn.Write(p)
}

// fragSize is the frame size of fragmented messages: a prime, so that
// frames end inside UTF-8 sequences of the text payloads.
const fragSize = 1021

var sizesFlag = flag.String("sizes", "", "comma-separated message sizes in bytes (default: 0 B to 16 MiB, see sizes)")

// sizes are the message sizes of every run: the boundaries of the three
// length encodings, a message larger than the peers' default buffers, and
// 1 and 16 MiB.
var sizes = []int{0, 1, 125, 126, 127, 128, 1000, 65535, 65536, 65537, 1 << 20, 16 << 20}

// msgCase is one message of a run: its size and type, and the sizes of the
// frames to send it as (nil: one frame).
type msgCase struct {
	Size   int   `json:"size"`
	Binary bool  `json:"binary"`
	Frags  []int `json:"frags,omitempty"`
	// Kind names the content (see source); "" is payload's.
	Kind string `json:"kind,omitempty"`
	// Autofrag, when not nil, has a Node client send the message
	// compressed by itself, its compressed payload cut into frames of that
	// many bytes (0: one frame), as Autobahn's groups 12 and 13 do.
	Autofrag *int `json:"autofrag,omitempty"`
}

func (c msgCase) String() string {
	kind := "text"
	if c.Binary {
		kind = "binary"
	}
	if c.Kind != "" {
		kind = c.Kind + " " + kind
	}
	switch {
	case c.Frags != nil:
		return fmt.Sprintf("%s %d B in %d frames", kind, c.Size, len(c.Frags))
	case c.Autofrag != nil && *c.Autofrag > 0:
		return fmt.Sprintf("%s %d B, compressed payload in frames of %d B", kind, c.Size, *c.Autofrag)
	}
	return fmt.Sprintf("%s %d B", kind, c.Size)
}

// fragments splits size bytes into frames: at least two (empty ones for an
// empty message), three for small messages, else fragSize each.
func fragments(size int) []int {
	if size < 3*fragSize {
		a := size / 3
		return []int{a, a, size - 2*a}
	}
	var f []int
	for off := 0; off < size; off += fragSize {
		f = append(f, min(fragSize, size-off))
	}
	return f
}

// cases lists a run's messages: every size, text and binary, fragmented or
// not.
func cases(fragmented bool) []msgCase {
	var cs []msgCase
	for _, size := range sizes {
		for _, binary := range []bool{false, true} {
			c := msgCase{Size: size, Binary: binary}
			if fragmented {
				c.Frags = fragments(size)
			}
			cs = append(cs, c)
		}
	}
	return cs
}

var textCycle = []byte("aé€😀") // code points of 1, 2, 3 and 4 bytes

// payload builds message i of a run, as node/peer.js does: UTF-8 text of
// exactly size bytes, or xorshift32 bytes.
func payload(size int, binary bool, seed int) []byte {
	b := make([]byte, size)
	if binary {
		x := uint32(seed)*2654435761 + 1
		for i := range b {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			b[i] = byte(x)
		}
		return b
	}
	i := 0
	for ; size-i >= len(textCycle); i += len(textCycle) {
		copy(b[i:], textCycle)
	}
	for ; i < size; i++ {
		b[i] = 'z'
	}
	return b
}

// compareEcho says how an echo differs from what was sent, or returns nil.
func compareEcho(c msgCase, sent []byte, gotBinary bool, got []byte) error {
	if gotBinary != c.Binary {
		return fmt.Errorf("%v: echoed with the other message type", c)
	}
	if !bytes.Equal(sent, got) {
		at := 0
		for at < len(got) && at < len(sent) && got[at] == sent[at] {
			at++
		}
		return fmt.Errorf("%v: echo differs: %d bytes back, first difference at byte %d", c, len(got), at)
	}
	return nil
}

// clientRun is what a client does on one connection: send each case and
// check its echo, then close: by "client" (it sends the close frame with
// Code) or by "server" (it sends the text "close:Code" and the echo server
// starts the close handshake).
type clientRun struct {
	Cases   []msgCase
	CloseBy string
	Code    int
	// Deflate asks the client to offer permessage-deflate, allowing
	// context takeover if ContextTakeover (for peers that ask).
	Deflate         bool
	ContextTakeover bool
	// Subprotocols are offered by the client, in this order.
	Subprotocols []string
	// Ping has the client send a ping with pingPayload before the first
	// message and check the pong. Code 1005 (CloseNoStatus) closes with an
	// empty close payload.
	Ping bool
}

var pingPayload = []byte("interop ping \x00\xff")

// closeEvent is one side's view of the end of a connection.
type closeEvent struct {
	Code  int    // the close code received (or sent, when this side started)
	Clean bool   // a close frame went each way (as far as this side can tell)
	How   string // a description for failure messages
}

// clientResult is a client's view of a run.
type clientResult struct {
	Close closeEvent
	// CloseCode, if not 0, is the code the close was started with
	// instead of clientRun.Code, for a peer that cannot send that one.
	CloseCode   int
	Extensions  string // the negotiated Sec-WebSocket-Extensions
	Subprotocol string // the selected subprotocol
}

// server is a running echo server. A query "?frag=N" on the URL asks it
// to echo messages in frames of N bytes (peers that cannot choose their
// frame sizes ignore it).
//
// Every echo server supports the subprotocols serverSubprotocols and
// reports the one selected for each connection on Subprotocols.
type server struct {
	URL          string          // ws://127.0.0.1:port/echo
	Closes       chan closeEvent // one per connection that ended
	Subprotocols chan string     // one per connection opened (never blocks the server)
	Stop         func()
}

// serverSubprotocols are the echo servers' subprotocols, most preferred
// first (for the servers that have a preference).
var serverSubprotocols = []string{"lull.v2", "lull.v1"}

func newServer(url string, stop func()) *server {
	return &server{URL: url, Closes: make(chan closeEvent, 16), Subprotocols: make(chan string, 64), Stop: stop}
}

// opened reports a connection's subprotocol.
func (s *server) opened(subprotocol string) {
	select {
	case s.Subprotocols <- subprotocol:
	default:
	}
}

// forgetFailed arranges that when t fails (its client gave up on a
// connection), the end of that connection is taken off s.Closes, so that it
// is not mistaken for the next connection's. It waits at most 5 s.
func (s *server) forgetFailed(t *testing.T) {
	t.Cleanup(func() {
		if t.Failed() {
			select {
			case <-s.Closes:
			case <-time.After(5 * time.Second):
			}
		}
	})
}

func (s *server) nextClose(t *testing.T) closeEvent {
	t.Helper()
	select {
	case ev := <-s.Closes:
		return ev
	case <-time.After(waitLimit):
		t.Fatalf("server saw no end of the connection in %v", waitLimit)
		return closeEvent{}
	}
}

// The interop matrix: one row per peer, direction, compression and lull
// side, filled by the tests and printed by TestMain.
type matrixKey struct{ Peer, Direction, Compression, Side string }

var matrix = struct {
	sync.Mutex
	rows map[matrixKey]bool
}{rows: map[matrixKey]bool{}}

// record adds t's outcome to the matrix when t ends.
func record(t *testing.T, k matrixKey) {
	t.Cleanup(func() {
		matrix.Lock()
		defer matrix.Unlock()
		ok, seen := matrix.rows[k]
		matrix.rows[k] = (ok || !seen) && !t.Failed()
	})
}

func printMatrix() {
	matrix.Lock()
	defer matrix.Unlock()
	if len(matrix.rows) == 0 {
		return
	}
	keys := make([]matrixKey, 0, len(matrix.rows))
	for k := range matrix.rows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Peer != b.Peer {
			return a.Peer < b.Peer
		}
		if a.Direction != b.Direction {
			return a.Direction < b.Direction
		}
		if a.Compression != b.Compression {
			return a.Compression < b.Compression
		}
		return a.Side < b.Side
	})
	var sb strings.Builder
	fmt.Fprintf(&sb, "\ninterop matrix (messages %s, text+binary, whole+fragmented; ping; close by either side and empty):\n", sizeList())
	sb.WriteString("compression: off; deflate = lull's default policy (no context takeover), every message compressed;\n" +
		"deflate+ctx = context takeover allowed both ways; deflate 12+13 = Autobahn 12.1-12.5 and 13.1-13.7's\n" +
		"(size, autofrag) entries and offers, compressed payloads cut by the peer (-rounds each)\n")
	fmt.Fprintf(&sb, "| %-16s | %-26s | %-13s | %-14s | %-6s |\n", "peer", "direction", "compression", "lull", "result")
	fmt.Fprintf(&sb, "|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 18), strings.Repeat("-", 28), strings.Repeat("-", 15), strings.Repeat("-", 16), strings.Repeat("-", 8))
	for _, k := range keys {
		res := "pass"
		if !matrix.rows[k] {
			res = "FAIL"
		}
		fmt.Fprintf(&sb, "| %-16s | %-26s | %-13s | %-14s | %-6s |\n", k.Peer, k.Direction, k.Compression, k.Side, res)
	}
	fmt.Print(sb.String())
}

func sizeList() string {
	var s []string
	for _, n := range sizes {
		switch {
		case n >= 1<<20 && n%(1<<20) == 0:
			s = append(s, fmt.Sprintf("%d MiB", n>>20))
		case n >= 1<<10 && n%(1<<10) == 0:
			s = append(s, fmt.Sprintf("%d KiB", n>>10))
		default:
			s = append(s, fmt.Sprintf("%d", n))
		}
	}
	return strings.Join(s, ", ")
}

func TestMain(m *testing.M) {
	flag.Parse()
	if *sizesFlag != "" {
		sizes = nil
		for _, f := range strings.Split(*sizesFlag, ",") {
			var n int
			if _, err := fmt.Sscan(strings.TrimSpace(f), &n); err != nil || n < 0 {
				fmt.Fprintf(os.Stderr, "-sizes: bad size %q\n", f)
				os.Exit(2)
			}
			sizes = append(sizes, n)
		}
	}
	code := m.Run()
	printMatrix()
	os.Exit(code)
}
