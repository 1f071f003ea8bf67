package frame

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"testing"
)

func TestHeaderRoundTrip(t *testing.T) {
	lengths := []int64{0, 1, 125, 126, 127, 128, 0xFFFF, 0x10000, 1 << 32, 1<<63 - 1}
	for _, length := range lengths {
		for _, masked := range []bool{false, true} {
			for op := Opcode(0); op <= 0xF; op++ {
				for rsv := uint8(0); rsv <= 7; rsv++ {
					for _, fin := range []bool{false, true} {
						h := Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: masked, Length: length}
						if masked {
							h.Key = [4]byte{1, 2, 3, byte(op)}
						}
						var buf [MaxHeaderSize]byte
						n := PutHeader(buf[:], h)
						if n != h.Size() {
							t.Fatalf("%+v: PutHeader wrote %d bytes, Size says %d", h, n, h.Size())
						}
						got, m, more, err := DecodeHeader(buf[:n])
						if err != nil || more != 0 || m != n || got != h {
							t.Fatalf("%+v: DecodeHeader = %+v, %d, %d, %v", h, got, m, more, err)
						}
						if app := AppendHeader([]byte{0xAA}, h); !bytes.Equal(app[1:], buf[:n]) || app[0] != 0xAA {
							t.Fatalf("%+v: AppendHeader = %x, want aa%x", h, app, buf[:n])
						}
					}
				}
			}
		}
	}
}

// TestHeaderWireBytes pins the encoding to RFC 6455 §5.2's layout.
func TestHeaderWireBytes(t *testing.T) {
	for _, tc := range []struct {
		h    Header
		want string
	}{
		{Header{Fin: true, Opcode: OpText, Length: 5}, "8105"},
		{Header{Fin: true, Opcode: OpText, Masked: true, Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5}, "818537fa213d"},
		{Header{Opcode: OpText, Length: 3}, "0103"},
		{Header{Fin: true, Opcode: OpPing, Length: 0}, "8900"},
		{Header{Fin: true, Opcode: OpBinary, Length: 256}, "827e0100"},
		{Header{Fin: true, Opcode: OpBinary, Length: 65536}, "827f0000000000010000"},
		{Header{Fin: true, Rsv: Rsv1, Opcode: OpText, Length: 7}, "c107"},
		{Header{Rsv: Rsv2 | Rsv3, Opcode: OpContinuation}, "3000"},
	} {
		got := hex.EncodeToString(AppendHeader(nil, tc.h))
		if got != tc.want {
			t.Errorf("%+v encodes as %s, want %s", tc.h, got, tc.want)
		}
	}
}

func TestDecodeHeaderShort(t *testing.T) {
	for _, h := range []Header{
		{Fin: true, Opcode: OpText, Length: 5},
		{Fin: true, Opcode: OpText, Length: 300, Masked: true, Key: [4]byte{9, 8, 7, 6}},
		{Fin: true, Opcode: OpBinary, Length: 1 << 40, Masked: true},
	} {
		full := AppendHeader(nil, h)
		for i := 0; i < len(full); i++ {
			_, n, more, err := DecodeHeader(full[:i])
			if err != nil || n != 0 {
				t.Fatalf("%x[:%d]: n=%d err=%v, want need-more", full, i, n, err)
			}
			want := len(full) - i
			if i < 2 {
				want = 2 - i // only the fixed part is known to be needed
			}
			if more != want {
				t.Fatalf("%x[:%d]: more = %d, want %d", full, i, more, want)
			}
		}
	}
}

func TestDecodeHeaderNonMinimalLength(t *testing.T) {
	for _, tc := range []struct {
		wire string
		len  int64
	}{
		{"827e0005", 5},                  // 16-bit form for a 7-bit length
		{"827f0000000000000005", 5},      // 64-bit form for a 7-bit length
		{"827f000000000000ffff", 0xffff}, // 64-bit form for a 16-bit length
		{"827e0000", 0},                  // zero in the 16-bit form
	} {
		b, _ := hex.DecodeString(tc.wire)
		h, n, _, err := DecodeHeader(b)
		if err != nil || n != len(b) || h.Length != tc.len {
			t.Errorf("%s: got length %d, n %d, err %v; want %d", tc.wire, h.Length, n, err, tc.len)
		}
	}
}

func TestDecodeHeaderLengthMSB(t *testing.T) {
	b, _ := hex.DecodeString("827f8000000000000000")
	if _, _, _, err := DecodeHeader(b); err != ErrLengthOverflow {
		t.Fatalf("err = %v, want ErrLengthOverflow", err)
	}
	var p Parser
	p.Client = true
	if _, _, _, err := p.Next(b); err != ErrLengthOverflow || err.(*Error).Code != CloseProtocolError {
		t.Fatalf("parser err = %v, want ErrLengthOverflow (1002)", err)
	}
}

func TestHeaderAllocs(t *testing.T) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Length: 70000}
	var buf [MaxHeaderSize]byte
	allocs := testing.AllocsPerRun(100, func() {
		n := PutHeader(buf[:], h)
		DecodeHeader(buf[:n])
	})
	if allocs != 0 {
		t.Fatalf("header encode+decode allocates %v times", allocs)
	}
}

func TestAppendFrame(t *testing.T) {
	payload := []byte("Hello")
	h := Header{Fin: true, Opcode: OpText, Masked: true, Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}}
	got := hex.EncodeToString(AppendFrame(nil, h, payload))
	// The masked "Hello" example of RFC 6455 §5.7.
	if want := "818537fa213d7f9f4d5158"; got != want {
		t.Fatalf("AppendFrame = %s, want %s", got, want)
	}
	if string(payload) != "Hello" {
		t.Fatalf("AppendFrame modified its payload argument")
	}
}

// FuzzHeader checks the header codec both ways. Any header PutHeader can
// encode decodes back unchanged, in the shortest form, from exactly Size
// bytes, and every shorter prefix asks for exactly the missing bytes once
// the first two are known. Any bytes DecodeHeader is given decode as the
// independent refDecodeHeader decodes them, and what they decode to
// encodes back to a header no longer than the original.
func FuzzHeader(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}, true, uint8(0), uint8(1), true, uint32(0x37fa213d), uint64(5))
	f.Add([]byte{0x82, 0x7e, 0x00, 0x05}, false, uint8(7), uint8(0xf), false, uint32(0), uint64(126))
	f.Add([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}, true, uint8(4), uint8(2), true, uint32(1), uint64(1<<63-1))
	f.Add([]byte{0x02, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4}, false, uint8(0), uint8(8), false, uint32(0), uint64(65536))
	f.Fuzz(func(t *testing.T, wire []byte, fin bool, rsv, op uint8, masked bool, key uint32, length uint64) {
		// Encode, then decode.
		h := Header{Fin: fin, Rsv: rsv & 7, Opcode: Opcode(op & 0xF), Masked: masked, Length: int64(length &^ (1 << 63))}
		if masked {
			binary.BigEndian.PutUint32(h.Key[:], key)
		}
		var buf [MaxHeaderSize]byte
		n := PutHeader(buf[:], h)
		if n != h.Size() {
			t.Fatalf("%+v: PutHeader wrote %d bytes, Size says %d", h, n, h.Size())
		}
		minimal := 2
		switch {
		case h.Length > 0xFFFF:
			minimal += 8
		case h.Length > 125:
			minimal += 2
		}
		if masked {
			minimal += 4
		}
		if n != minimal {
			t.Fatalf("%+v: encoded in %d bytes, the shortest form is %d", h, n, minimal)
		}
		got, m, more, err := DecodeHeader(buf[:n])
		if err != nil || m != n || more != 0 || got != h {
			t.Fatalf("%+v: DecodeHeader(%x) = %+v, %d, %d, %v", h, buf[:n], got, m, more, err)
		}
		if ref, size, _ := refDecodeHeader(buf[:n]); ref != h || size != n {
			t.Fatalf("%+v: reference decodes %x as %+v, %d", h, buf[:n], ref, size)
		}
		for k := 0; k < n; k++ {
			_, m, more, err := DecodeHeader(buf[:k])
			want := n - k
			if k < 2 {
				want = 2 - k
			}
			if m != 0 || more != want || err != nil {
				t.Fatalf("%x[:%d]: n=%d more=%d err=%v, want more=%d", buf[:n], k, m, more, err, want)
			}
		}

		// Decode arbitrary bytes.
		dh, dn, dmore, derr := DecodeHeader(wire)
		ref, size, overflow := refDecodeHeader(wire)
		switch {
		case overflow:
			if derr != ErrLengthOverflow || dn != 0 || dmore != 0 {
				t.Fatalf("%x: DecodeHeader = %d, %d, %v; want ErrLengthOverflow", wire, dn, dmore, derr)
			}
		case size == 0:
			if derr != nil || dn != 0 || dmore <= 0 || dmore > MaxHeaderSize-len(wire) {
				t.Fatalf("%x: DecodeHeader = %d, %d, %v; want a request for more bytes", wire, dn, dmore, derr)
			}
			if len(wire) >= 2 {
				full := 2
				switch wire[1] & 0x7F {
				case 126:
					full += 2
				case 127:
					full += 8
				}
				if wire[1]&0x80 != 0 {
					full += 4
				}
				if len(wire)+dmore != full {
					t.Fatalf("%x: DecodeHeader asks for %d more bytes, the header is %d bytes", wire, dmore, full)
				}
			}
		default:
			if derr != nil || dn != size || dmore != 0 || dh != ref {
				t.Fatalf("%x: DecodeHeader = %+v, %d, %d, %v; reference says %+v, %d", wire, dh, dn, dmore, derr, ref, size)
			}
			if dh.Size() > dn {
				t.Fatalf("%x: re-encoding %+v takes %d bytes, more than the %d read", wire, dh, dh.Size(), dn)
			}
			again, _, _, err := DecodeHeader(AppendHeader(nil, dh))
			if err != nil || again != dh {
				t.Fatalf("%x: %+v re-encodes and decodes as %+v, %v", wire, dh, again, err)
			}
		}
	})
}
