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
// negotiated: with frame's deflate codec, as gorilla/websocket v1.5.3 does
// it (no context takeover either way).
const compressionSupported = true

// smallWindowLevel, as compressLevel, marks a client connection whose
// server limited the client's LZ77 window to under 15 bits
// (client_max_window_bits): messages are compressed with
// flate.HuffmanOnly, which emits no back-references, whatever
// SetCompressionLevel asks.
const smallWindowLevel = -128

// level returns the compression level to use for the next message.
func (c *Conn) level() int {
	if c.compressLevel == smallWindowLevel {
		return flate.HuffmanOnly
	}
	return int(c.compressLevel)
}

// enableDeflate turns on permessage-deflate for a connection whose
// handshake negotiated it.
func (c *Conn) enableDeflate() {
	c.deflate = true
	c.compressWrite = true
	c.rs.p.Compression = true
}

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
	if c.compressLevel != smallWindowLevel {
		c.compressLevel = int8(level)
	}
	c.msgMu.Unlock()
	return nil
}
