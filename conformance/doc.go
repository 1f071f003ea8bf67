// Package conformance is lull's own conformance suite for RFC 6455 and
// RFC 7692: the cases of the Autobahn|Testsuite, with their numbering
// (groups 1-7, 9, 10, 12 and 13: 517 cases), written anew and judged more
// strictly.
//
// CheckServer plays Autobahn's fuzzing client against a WebSocket echo
// server; FuzzingServer plays its fuzzing server for a client that echoes,
// with the same /getCaseCount, /runCase and /updateReports protocol, so a
// client written to drive Autobahn drives it unchanged. Command
// cmd/wsconform runs either from the command line.
//
// The suite drives raw TCP with a frame writer of its own, so it can send
// what no WebSocket library would: reserved bits and opcodes, fragmented
// control frames, oversized control payloads, invalid UTF-8, broken close
// frames. It chops its writes as each case says: in one write, frame by
// frame, byte by byte with pauses, or in chops of a given size. What the
// testee sends back is parsed by an equally independent reader that checks
// every rule (masking, minimal lengths, RSV bits, opcodes, fragmentation,
// UTF-8, close codes) and inflates compressed messages with compress/flate,
// keeping the peer's window across messages when the negotiation allows it.
//
// # Judging
//
// Each case ends with one of OK, INFORMATIONAL, UNIMPLEMENTED, NON-STRICT or
// FAILED. The rules are Autobahn's, made stricter:
//
//   - The events received (messages, pongs, close frames) must be exactly
//     the ones expected, in order; echoes are compared byte for byte, not
//     only by length.
//   - A testee that must fail the connection has to send a close frame
//     with the expected code (1002 or 1007) within the case's time (1 s,
//     0.5 s for the 6.5-6.23 UTF-8 vectors); dropping TCP alone is FAILED.
//   - The close frame answering the suite's close comes within 1 s, and a
//     server closes TCP within 1 s of the close handshake.
//   - Failing an invalid text message only once it is complete, rather than
//     at the first invalid byte (6.4.x), is NON-STRICT, as is failing the
//     connection without first echoing a valid message sent before the
//     offending frame (3.2 and the like). Both count as failures here.
//   - An invalid close code (7.9.x, and 5000 and 65535 in 7.13.x) must be
//     answered with 1002; answering 7.13.x with 1000 or the same code is
//     INFORMATIONAL.
//   - A server's permessage-deflate answer must accept one of the offers
//     and honour it (RFC 7692 §7.1): an offered server_max_window_bits must
//     be answered with a value at most the offer's, an offered
//     server_no_context_takeover must be answered. Declining an offer of
//     server_max_window_bits=9 (13.3, 13.5) is OK; declining any other
//     offer is UNIMPLEMENTED.
//
// Groups 9, 12 and 13 repeat round trips: 1000 per case with Options.Full,
// otherwise Options.RoundTrips (default 100).
package conformance
