// Package interop tests lull against real WebSocket peers: the Node `ws`
// package (8.23.0, node/peer.js), gorilla/websocket v1.5.3, gobwas/ws
// v1.5.0, coder/websocket v1.8.15 and headless Chromium. It is a nested
// module so that those peers never become dependencies of lull itself;
// everything in it is tests.
//
// Each peer runs in both directions: a lull server with the peer as
// client, and a lull client dialing the peer as server. The lull side is
// the engine (engine.New and Listen; Dial), the engine with Config.Workers,
// and the compat package (gorilla's API on lull). The originating side
// sends messages of 0 B to 16 MiB, text and binary, in one frame and
// fragmented (1021-byte frames), and compares every echoed byte; a ping's
// pong is checked; then one side starts the close handshake (4000 from the
// client, 4001 from the server, an empty close frame) and both sides' views
// of it (code, clean close) are checked. Subprotocol selection is checked
// the same way.
//
// With permessage-deflate (TestInteropDeflate, TestAutobahnDeflateNode,
// TestChromium), the same runs go compressed in two configurations (lull's
// default policy without context takeover, and context takeover allowed
// both ways), and Autobahn's groups 12 and 13 run as round trips against
// ws: every (message size, autofrag) entry, with 13.1-13.7's offers sent
// verbatim to a lull server and a ws server answering a lull client as
// Autobahn's fuzzer does, the Node side cutting its compressed payloads
// into frames of 256 B, 1, 4 and 32 KiB.
//
// Run it with
//
//	cd interop && npm ci --ignore-scripts && go test
//
// (no package argument, so that the matrix printed at the end shows). The
// Chromium test needs /usr/bin/chromium (Debian's package chromium), run
// headless in its own process group with a fresh profile and killed by its
// PID; Node processes are killed by PID too. Flags: -sizes (message sizes),
// -rounds (round trips per Autobahn entry, default 3), -chromium (the
// browser binary).
package interop
