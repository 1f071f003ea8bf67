package websocket

import (
	"errors"

	"github.com/lullws/lull/frame"
)

// PreparedMessage caches on the wire representations of a message payload.
// Use PreparedMessage to efficiently send a message payload to multiple
// connections. PreparedMessage is especially useful when compression is
// used because the CPU and memory expensive compression operation can be
// executed once for a given set of compression options.
//
// A PreparedMessage is immutable and safe for concurrent use.
type PreparedMessage struct {
	messageType int
	data        []byte
	server      []byte // the message framed for a server connection (unmasked)
}

// NewPreparedMessage returns an initialized PreparedMessage. You can then
// send it to connection using WritePreparedMessage method. Valid wire
// representation will be calculated lazily only once for a set of current
// connection options.
func NewPreparedMessage(messageType int, data []byte) (*PreparedMessage, error) {
	if !isData(messageType) && !isControl(messageType) {
		return nil, errBadWriteOpCode
	}
	if isControl(messageType) && len(data) > maxControlPayload {
		return nil, errInvalidControlFrame
	}
	pm := &PreparedMessage{messageType: messageType, data: append([]byte(nil), data...)}
	h := frame.Header{Fin: true, Opcode: frame.Opcode(messageType), Length: int64(len(data))}
	pm.server = frame.AppendFrame(make([]byte, 0, h.Size()+len(data)), h, data)
	return pm, nil
}

// WritePreparedMessage writes prepared message into connection.
func (c *Conn) WritePreparedMessage(pm *PreparedMessage) error {
	if pm == nil {
		return errors.New("websocket: nil prepared message")
	}
	if !c.isServer || c.ev.Load() != nil {
		// A client masks every frame with a fresh key.
		return c.WriteMessage(pm.messageType, pm.data)
	}
	c.msgMu.Lock()
	if c.writer != nil {
		c.writer.closeLocked()
	}
	deadline := c.writeDeadline()
	c.wmu.Lock()
	err := c.writeErr()
	if err == nil {
		if deadline != c.connDeadline() {
			err = c.setConnWriteDeadline(deadline)
		}
		if err == nil {
			_, err = c.conn.Write(pm.server)
		}
		if err != nil {
			err = hideTempErr(err)
			c.setWriteErr(err)
		} else if pm.messageType == CloseMessage {
			c.setWriteErr(ErrCloseSent)
		}
	}
	c.wmu.Unlock()
	c.msgMu.Unlock()
	return err
}
