package websocket

import (
	"compress/flate"
	"errors"
)

const (
	minCompressionLevel     = -2 // flate.HuffmanOnly
	maxCompressionLevel     = flate.BestCompression
	defaultCompressionLevel = 1
)

// compressionSupported reports whether permessage-deflate can be
// negotiated. Until lull's deflate layer is available to this package,
// EnableCompression negotiates nothing, as gorilla/websocket does with
// compression off.
const compressionSupported = false

// enableDeflate turns on permessage-deflate for a connection whose
// handshake negotiated it.
func (c *Conn) enableDeflate() {}

// EnableWriteCompression enables and disables write compression of
// subsequent text and binary messages. This function is a noop if
// compression was not negotiated with the peer.
func (c *Conn) EnableWriteCompression(enable bool) {
	c.msgMu.Lock()
	c.compressWrite = enable
	c.msgMu.Unlock()
}

// SetCompressionLevel sets the flate compression level for subsequent text
// and binary messages. This function is a noop if compression was not
// negotiated with the peer. See the compress/flate package for a
// description of compression levels.
func (c *Conn) SetCompressionLevel(level int) error {
	if level < minCompressionLevel || level > maxCompressionLevel {
		return errors.New("websocket: invalid compression level")
	}
	c.msgMu.Lock()
	c.compressLevel = int8(level)
	c.msgMu.Unlock()
	return nil
}
