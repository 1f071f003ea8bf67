package websocket

import (
	"errors"

	"github.com/lullws/lull/frame"
)

// errEvented is returned by the read methods of a connection whose reads
// have been handed to ServeEvents.
var errEvented = errors.New("websocket: connection is served by ServeEvents; its messages go to the handler")

// evented is the state of a connection served by an engine.
type evented struct{}

func (e *evented) close() error                                          { return nil }
func (e *evented) write(op frame.Opcode, fin bool, payload []byte) error { return nil }
