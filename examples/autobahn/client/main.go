// Command client runs the Autobahn test suite's fuzzing-server cases
// against lull's compat package (gorilla/websocket's API) as a client.
//
//	go run ./examples/autobahn/client -url ws://127.0.0.1:9001 -agent lull-compat
//
// It asks URL/getCaseCount for the number of cases, then for each case N
// connects to URL/runCase?case=N&agent=AGENT and echoes every message back
// (NextReader → NextWriter → io.Copy) until the server closes, and finally
// connects to URL/updateReports?agent=AGENT so the suite writes its report.
// Text messages are checked for UTF-8 as they stream (compat, like
// gorilla, leaves that to the application): invalid text is answered with
// close 1007 and the connection is closed. -case N runs only case N.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"strconv"
	"strings"
	"time"

	websocket "github.com/lullws/lull/compat"
	"github.com/lullws/lull/frame"
)

func main() {
	base := flag.String("url", "ws://127.0.0.1:9001", "the fuzzing server's `URL`")
	agent := flag.String("agent", "lull-compat", "agent `name` the reports are filed under")
	only := flag.Int("case", 0, "run only this case `number` (0: all)")
	timeout := flag.Duration("timeout", 60*time.Second, "longest a single case may take")
	verbose := flag.Bool("v", false, "log how each case's connection ended when it was not a close from the server")
	flag.Parse()

	c := &Client{Base: strings.TrimSuffix(*base, "/"), Agent: *agent, CaseTimeout: *timeout}
	first, last := 1, 0
	if *only > 0 {
		first, last = *only, *only
	} else {
		n, err := c.CaseCount()
		if err != nil {
			log.Fatalf("getCaseCount: %v", err)
		}
		last = n
		log.Printf("%d cases", n)
	}
	ended := 0
	for i := first; i <= last; i++ {
		// Many cases end with this client failing the connection on
		// purpose (a protocol violation sent by the server): the fuzzing
		// server judges the case, not this error.
		if err := c.RunCase(i); err != nil {
			ended++
			if *verbose {
				log.Printf("case %d: %v", i, err)
			}
		}
	}
	log.Printf("ran cases %d-%d (%d ended by an error on this side)", first, last, ended)
	if err := c.UpdateReports(); err != nil {
		log.Fatalf("updateReports: %v", err)
	}
}

// Client talks to one fuzzing server.
type Client struct {
	Base        string // ws://host:port of the fuzzing server
	Agent       string
	CaseTimeout time.Duration // bounds one case (0: no bound)
}

var dialer = websocket.Dialer{HandshakeTimeout: 10 * time.Second, EnableCompression: true}

func (c *Client) dial(path string, query url.Values) (*websocket.Conn, error) {
	conn, _, err := dialer.Dial(c.Base+path+"?"+query.Encode(), nil)
	if err != nil {
		return nil, err
	}
	if c.CaseTimeout > 0 {
		conn.SetReadDeadline(time.Now().Add(c.CaseTimeout))
	}
	return conn, nil
}

// CaseCount asks the server for the number of cases.
func (c *Client) CaseCount() (int, error) {
	conn, err := c.dial("/getCaseCount", nil)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	_, p, err := conn.ReadMessage()
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(p)))
	if err != nil {
		return 0, fmt.Errorf("case count %q: %v", p, err)
	}
	return n, nil
}

// RunCase runs case n: it echoes every message until the connection ends.
// A normal end (the server's close, however it is coded) returns nil.
func (c *Client) RunCase(n int) error {
	conn, err := c.dial("/runCase", url.Values{"case": {strconv.Itoa(n)}, "agent": {c.Agent}})
	if err != nil {
		return err
	}
	defer conn.Close()
	err = Echo(conn)
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
		return nil // the server ended the case with a close frame
	}
	if err == errInvalidUTF8 {
		return nil // answered with 1007, as the case expects
	}
	return err
}

// UpdateReports asks the server to write its reports for the agent.
func (c *Client) UpdateReports() error {
	conn, err := c.dial("/updateReports", url.Values{"agent": {c.Agent}})
	if err != nil {
		return err
	}
	defer conn.Close()
	for {
		if _, _, err := conn.NextReader(); err != nil {
			if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
				return nil
			}
			return err
		}
	}
}

var errInvalidUTF8 = errors.New("invalid UTF-8 in a text message")

// Echo sends every message it reads on conn back, streaming, until a read
// or write fails, and returns that error. Invalid UTF-8 in a text message
// is answered with close 1007 and returns errInvalidUTF8.
func Echo(conn *websocket.Conn) error {
	for {
		mt, r, err := conn.NextReader()
		if err != nil {
			return err
		}
		if mt == websocket.TextMessage {
			r = &utf8Reader{r: r}
		}
		w, err := conn.NextWriter(mt)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, r); err != nil {
			if err == errInvalidUTF8 {
				conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, ""), time.Now().Add(time.Second))
			}
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
}

// utf8Reader fails with errInvalidUTF8 at the first read holding a byte
// that makes the text invalid, or at an end inside a character.
type utf8Reader struct {
	r io.Reader
	v frame.UTF8Validator
}

func (u *utf8Reader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if _, ok := u.v.Validate(p[:n]); !ok {
		return 0, errInvalidUTF8
	}
	if err == io.EOF && !u.v.Complete() {
		return 0, errInvalidUTF8
	}
	return n, err
}
