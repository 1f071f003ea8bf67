//go:build linux || darwin || freebsd

package poller_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/lullws/lull/poller"
)

// A minimal event loop over loopback TCP: a listener and a client are
// registered once, edge-triggered, and every edge is drained (Accept and
// Read until ErrWouldBlock) because the poller will not report it again.
func Example() {
	p, err := poller.New()
	if err != nil {
		panic(err)
	}
	defer p.Close()

	lfd, addr, err := poller.Listen("tcp", "127.0.0.1:0", false, 0)
	if err != nil {
		panic(err)
	}
	defer poller.Close(lfd)
	cfd, err := poller.Connect(addr, netip.AddrPort{})
	if err != nil {
		panic(err)
	}
	defer poller.Close(cfd)
	p.Add(lfd, poller.Readable)
	p.Add(cfd, poller.Readable|poller.Writable) // Writable: the connect completes

	sfd := -1
	buf := make([]byte, 64)
	for done := false; !done; {
		events, _, err := p.Wait(5 * time.Second)
		if err != nil || len(events) == 0 {
			panic(fmt.Sprint("no event: ", err))
		}
		for _, ev := range events {
			switch {
			case ev.FD == lfd:
				for { // drain the accept queue
					fd, _, err := poller.Accept(lfd)
					if err == poller.ErrWouldBlock {
						break
					} else if err != nil {
						panic(err)
					}
					sfd = fd
					p.Add(sfd, poller.Readable|poller.Writable)
					fmt.Println("accepted")
				}
			case ev.FD == cfd && ev.Events&poller.Writable != 0:
				if err := poller.SocketError(cfd); err != nil {
					panic(err)
				}
				poller.Write(cfd, []byte("hello"))
				p.Modify(cfd, poller.Readable) // nothing more to write
			case ev.FD == sfd && ev.Events&poller.Readable != 0:
				for { // drain the socket
					n, err := poller.Read(sfd, buf)
					if err == poller.ErrWouldBlock {
						break
					} else if err != nil {
						panic(err)
					}
					fmt.Printf("read %q\n", buf[:n])
					done = true
				}
			}
		}
	}
	poller.Close(sfd)
	// Output:
	// accepted
	// read "hello"
}
