// Package websocket is lull's drop-in replacement for
// github.com/gorilla/websocket v1.5.3: the same exported API (types,
// struct fields in the same order, functions, methods, constants, error
// values and error texts) on top of lull's frame parser, handshake code and
// event loops. Changing the import path to github.com/lullws/lull/compat is
// the only change an existing program needs.
//
// # Overview
//
// A Conn is one WebSocket connection. A server gets one from an Upgrader
// inside an HTTP handler:
//
//	var upgrader = websocket.Upgrader{} // default options
//
//	func handler(w http.ResponseWriter, r *http.Request) {
//		conn, err := upgrader.Upgrade(w, r, nil)
//		if err != nil {
//			log.Println(err) // Upgrade has already answered the client
//			return
//		}
//		// use conn
//	}
//
// and a client from a Dialer (DefaultDialer.Dial, or Dialer.DialContext).
//
// Messages are sent and received whole, as byte slices, with WriteMessage
// and ReadMessage:
//
//	for {
//		messageType, p, err := conn.ReadMessage()
//		if err != nil {
//			return
//		}
//		if err := conn.WriteMessage(messageType, p); err != nil {
//			return
//		}
//	}
//
// or as streams: NextWriter returns an io.WriteCloser for the next message
// (Close sends its end), NextReader an io.Reader for the next received
// one (io.EOF at its end).
//
// # Data messages
//
// TextMessage and BinaryMessage are the two kinds of data message. Text is
// meant to be UTF-8, but, as in gorilla/websocket, the package checks
// neither what it sends nor what it receives by default: that is the
// application's job. Conn.EnableTextValidation, a lull addition, has
// received text checked as it arrives, the connection failing with close
// 1007 at the first invalid byte, before the rest of the message.
//
// # Control messages
//
// Close, ping and pong messages are sent with WriteControl (or
// WriteMessage and NextWriter). Received ones are handled inside the read
// methods (NextReader, ReadMessage and the message reader's Read) by the
// handlers set with SetCloseHandler, SetPingHandler and SetPongHandler.
// By default a ping is answered with a pong carrying the same data, a
// pong is ignored, and a close message is answered with a close message
// carrying the same code, after which the read methods return a
// *CloseError. An application must therefore keep reading the connection
// to see control messages; one that has no use for what the peer sends
// can read and discard in a goroutine:
//
//	go func() {
//		for {
//			if _, _, err := c.NextReader(); err != nil {
//				c.Close()
//				return
//			}
//		}
//	}()
//
// # Concurrency
//
// A Conn supports one concurrent reader and one concurrent writer: one
// goroutine at a time may call the read methods (NextReader,
// SetReadDeadline, ReadMessage, ReadJSON, SetReadLimit, the handler
// setters), and one goroutine at a time the write methods (NextWriter,
// SetWriteDeadline, WriteMessage, WriteJSON, WritePreparedMessage,
// EnableWriteCompression, SetCompressionLevel). Close and WriteControl may
// be called from any goroutine at any time.
//
// Unlike gorilla/websocket, which panics or corrupts the stream when two
// goroutines write at once, this package serialises writers: each message
// goes on the wire whole, and a control message never lands inside a
// frame (it may come between two frames of a message being written with
// NextWriter). Programs should still keep to one writer, since the order
// of concurrent messages is not defined.
//
// # Origin
//
// Browsers let any page open a WebSocket connection to any host, so the
// server must check the Origin header itself. Upgrader.CheckOrigin decides;
// when it is nil the Upgrader refuses (with status 403) a request whose
// Origin header is present and names a host other than the request's Host
// header. To accept every origin:
//
//	var upgrader = websocket.Upgrader{
//		CheckOrigin: func(r *http.Request) bool { return true },
//	}
//
// The deprecated package-level Upgrade function checks no origin.
//
// # Memory
//
// Buffers are pooled. ReadBufferSize and WriteBufferSize set the size of
// the buffers a connection borrows while it reads or writes; none is held
// while the connection is idle. On a plain TCP (or Unix) connection a
// goroutine blocked in ReadMessage or NextReader waits in Go's network
// poller without a buffer and on the smallest goroutine stack, so an idle
// connection costs under 4 KiB in all (3.9 measured), half of it that
// stack (gorilla's cost three times as much). TLS connections and other net.Conn
// implementations are read with blocking Read calls that hold a buffer
// while they wait; their behaviour is otherwise the same.
//
// # Evented connections
//
// ServeEvents (or Upgrader.UpgradeEvented) hands a connection's reads to
// lull's event loops: its messages are then delivered to the callbacks of
// an Events value, and the connection needs no goroutine at all while
// idle (under 1 KiB in all). It is opt-in, per connection, so a program
// can move from the blocking style one connection at a time; the write
// methods, the handlers and the read limit work as before. These names
// are lull's additions to gorilla/websocket's API.
//
// # Compression
//
// permessage-deflate (RFC 7692) is negotiated as gorilla/websocket v1.5.3
// does it, with no context takeover in either direction: an Upgrader with
// EnableCompression accepts a client's offer, a Dialer with
// EnableCompression makes one. Unlike gorilla, the window parameters are
// honoured as RFC 7692 requires: the Upgrader echoes an offered
// server_max_window_bits of 15 and declines an offer of a smaller window
// (taking the client's next offer, if any); the Dialer offers
// client_max_window_bits, and if the server limits its window below 15
// bits compresses with Huffman coding only. On a connection that
// negotiated it, text and binary messages are compressed unless
// EnableWriteCompression(false)
// (SetCompressionLevel sets the level, 1 by default), and compressed
// messages are inflated within the read limit. No compression state stays
// with the connection between messages.
package websocket
