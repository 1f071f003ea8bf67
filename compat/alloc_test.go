package websocket

import "testing"

// BenchmarkEcho measures a round trip of 1 KiB over loopback TCP:
// WriteMessage on one side, ReadMessage and WriteMessage (the echo) on the
// other, ReadMessage back.
func BenchmarkEcho(b *testing.B) {
	srv, cli := tcpPair(b)
	go echo(srv)
	msg := payload(1024)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := cli.WriteMessage(BinaryMessage, msg); err != nil {
			b.Fatal(err)
		}
		if _, _, err := cli.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}
