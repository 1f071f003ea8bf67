package frame

import "testing"

func TestAtBoundary(t *testing.T) {
	var p Parser
	p.Client = true
	if !p.AtBoundary() {
		t.Fatal("zero parser not at a boundary")
	}
	msg := AppendFrame(nil, Header{Fin: false, Opcode: OpText}, []byte("ab"))
	msg = AppendFrame(msg, Header{Fin: true, Opcode: OpContinuation}, []byte("cd"))
	// Feed one byte at a time: the parser is at a boundary only before
	// the first byte and after the last.
	for i := range msg {
		if _, _, _, err := p.Next(msg[i : i+1]); err != nil {
			t.Fatal(err)
		}
		if got, want := p.AtBoundary(), i == len(msg)-1; got != want {
			t.Fatalf("after byte %d: AtBoundary() = %v", i, got)
		}
	}
	if _, _, _, err := p.Next([]byte{0x81 | 0x40, 0}); err == nil {
		t.Fatal("RSV1 accepted")
	}
	if p.AtBoundary() {
		t.Fatal("failed parser at a boundary")
	}
}
