// Package interop tests lull against real WebSocket peers: the Node `ws`
// package, gorilla/websocket, gobwas/ws, coder/websocket and headless
// Chromium. It is a nested module so that those peers never become
// dependencies of lull itself; everything in it is tests.
//
// Each peer runs in both directions: a lull server with the peer as client,
// and a lull client dialing the peer as server. The originating side sends
// messages of 0 B to 16 MiB, text and binary, in one frame and fragmented,
// and compares every echoed byte; then one side starts the close handshake
// and both sides' views of it (code, clean close) are checked.
//
// Run it with
//
//	cd interop && npm ci --ignore-scripts && go test ./...
//
// The Chromium test needs /usr/bin/chromium (Debian's package chromium).
// After the tests, the interop matrix (peer × direction × compression →
// pass/fail) is printed.
package interop
