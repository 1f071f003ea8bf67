package websocket

import (
	"net"

	"github.com/lullws/lull/compat/internal/hooks"
)

// compat/btcsuite performs btcsuite's own handshakes and then runs the
// connection on this package's core: see package hooks.
func init() {
	hooks.NewConn = func(nc net.Conn, isServer bool, readBufSize, writeBufSize int, leftover []byte, subprotocol string) any {
		c := newConn(nc, isServer, readBufSize, writeBufSize, nil, leftover)
		c.setSubprotocol(subprotocol)
		return c
	}
}
