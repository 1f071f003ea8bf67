package frame

import (
	"bytes"
	"testing"
)

func TestCloseCodeValid(t *testing.T) {
	for c := 0; c <= 0xFFFF; c++ {
		want := (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999)
		if got := CloseCode(c).Valid(); got != want {
			t.Errorf("CloseCode(%d).Valid() = %v, want %v", c, got, want)
		}
	}
}

func TestParseClose(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload []byte
		code    CloseCode
		reason  string
		err     error
	}{
		{"empty", nil, CloseNoStatus, "", nil},
		{"one byte", []byte{3}, 0, "", ErrCloseLength},
		{"code only", []byte{0x03, 0xe8}, 1000, "", nil},
		{"with reason", append([]byte{0x0f, 0xa0}, "bye"...), 4000, "bye", nil},
		{"max reason", append([]byte{0x03, 0xe8}, bytes.Repeat([]byte("x"), 123)...), 1000, string(bytes.Repeat([]byte("x"), 123)), nil},
		{"too long", append([]byte{0x03, 0xe8}, bytes.Repeat([]byte("x"), 124)...), 0, "", ErrControlTooLong},
		{"1005 on the wire", []byte{0x03, 0xed}, 0, "", ErrCloseCode},
		{"1015", []byte{0x03, 0xf7}, 0, "", ErrCloseCode},
		{"5000", []byte{0x13, 0x88}, 0, "", ErrCloseCode},
		{"bad utf8", []byte{0x03, 0xe8, 0xed, 0xa0, 0x80}, 0, "", ErrCloseReasonUTF8},
		{"truncated utf8", []byte{0x03, 0xe8, 0xce}, 0, "", ErrCloseReasonUTF8},
	} {
		code, reason, err := ParseClose(tc.payload)
		if code != tc.code || string(reason) != tc.reason || err != tc.err {
			t.Errorf("%s: ParseClose = %v, %q, %v; want %v, %q, %v", tc.name, code, reason, err, tc.code, tc.reason, tc.err)
		}
	}
}

func TestPutClose(t *testing.T) {
	var buf [MaxControlPayload]byte
	n, err := PutClose(buf[:], CloseGoingAway, "restart")
	if err != nil || !bytes.Equal(buf[:n], append([]byte{0x03, 0xe9}, "restart"...)) {
		t.Fatalf("PutClose = %x, %v", buf[:n], err)
	}
	if n, err := PutClose(buf[:], CloseNoStatus, ""); n != 0 || err != nil {
		t.Fatalf("PutClose(1005, \"\") = %d, %v; want an empty payload", n, err)
	}
	for _, tc := range []struct {
		code   CloseCode
		reason string
		err    error
	}{
		{CloseAbnormal, "", ErrCloseCodeNotSendable},
		{CloseNoStatus, "x", ErrCloseCodeNotSendable},
		{999, "", ErrCloseCodeNotSendable},
		{CloseNormal, string(bytes.Repeat([]byte("x"), 124)), ErrCloseReasonTooLong},
		{CloseNormal, "\xed\xa0\x80", ErrCloseReasonNotUTF8},
	} {
		if _, err := PutClose(buf[:], tc.code, tc.reason); err != tc.err {
			t.Errorf("PutClose(%d, %q) err = %v, want %v", tc.code, tc.reason, err, tc.err)
		}
	}
	b, err := AppendClose([]byte("x"), CloseNormal, "ok")
	if err != nil || string(b) != "x\x03\xe8ok" {
		t.Fatalf("AppendClose = %q, %v", b, err)
	}
	// Everything PutClose accepts, ParseClose accepts back unchanged.
	code, reason, err := ParseClose(b[1:])
	if code != CloseNormal || string(reason) != "ok" || err != nil {
		t.Fatalf("round trip = %v %q %v", code, reason, err)
	}
}

func TestCloseCodeString(t *testing.T) {
	if s := CloseMessageTooBig.String(); s != "1009 (message too big)" {
		t.Errorf("String = %q", s)
	}
	if s := CloseCode(4001).String(); s != "4001" {
		t.Errorf("String = %q", s)
	}
}

func TestCloseAllocs(t *testing.T) {
	var buf [MaxControlPayload]byte
	allocs := testing.AllocsPerRun(100, func() {
		n, err := PutClose(buf[:], CloseGoingAway, "server restarting: please reconnect")
		if err != nil {
			panic(err)
		}
		if _, _, err := ParseClose(buf[:n]); err != nil {
			panic(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("close payload encode+decode allocates %v times", allocs)
	}
}
