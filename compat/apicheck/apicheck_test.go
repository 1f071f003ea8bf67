package apicheck

import (
	"strings"
	"sync"
	"testing"

	// The four packages compared. Blank imports keep them in go.mod and
	// make sure they compile before the listings are taken.
	_ "github.com/btcsuite/websocket"
	_ "github.com/gorilla/websocket"
	_ "github.com/lullws/lull/compat"
	_ "github.com/lullws/lull/compat/btcsuite"

	"go/types"
)

const (
	gorilla      = "github.com/gorilla/websocket"
	btcsuite     = "github.com/btcsuite/websocket"
	compat       = "github.com/lullws/lull/compat"
	compatBtcd   = "github.com/lullws/lull/compat/btcsuite"
	gorillaLabel = "gorilla/websocket v1.5.3"
)

// intendedGorillaAdditions lists the exported names compat adds on purpose to
// gorilla's API (key → why). Anything else compat exports beyond gorilla's
// API fails TestCompatMatchesGorilla: add a deliberate extension here, with
// its reason, in the same commit that adds it.
var intendedGorillaAdditions = map[string]string{
	"type Events":                        "evented mode (issue 5): the callbacks a connection served by the engine calls",
	"field Events.OnMessage":             "evented mode: called with each data message",
	"field Events.OnClose":               "evented mode: called once when the connection ends",
	"method (Conn).ServeEvents":          "evented mode: hands an upgraded or dialled Conn's reads to the engine",
	"method (Upgrader).UpgradeEvented":   "evented mode: Upgrade and ServeEvents in one call",
	"method (Conn).EnableTextValidation": "opt-in UTF-8 validation of text as it arrives (fail fast with 1007); off by default as in gorilla",
}

// compat/btcsuite must be exactly btcsuite's surface: no additions at all.
var intendedBtcsuiteAdditions = map[string]string{}

var (
	loadOnce sync.Once
	loaded   map[string]*types.Package
	loadErr  error
)

func load(t *testing.T) map[string]*types.Package {
	t.Helper()
	loadOnce.Do(func() { loaded, loadErr = Load(".", gorilla, btcsuite, compat, compatBtcd) })
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded
}

func check(t *testing.T, refPath, ourPath string, intended map[string]string) {
	pkgs := load(t)
	ref, ours := pkgs[refPath], pkgs[ourPath]
	if ref.Name() != ours.Name() {
		t.Errorf("package name: %s is %q, %s is %q", refPath, ref.Name(), ourPath, ours.Name())
	}
	want, got := Listing(ref), Listing(ours)
	if testing.Verbose() {
		t.Logf("%s: %d entries; %s: %d entries", refPath, len(want), ourPath, len(got))
		for _, e := range got {
			t.Logf("  %s", e)
		}
	}
	for _, d := range Compare(want, got, intended) {
		if d.Authorised != "" {
			t.Logf("%s", d)
			continue
		}
		t.Errorf("%s", d)
	}
	// An intended addition that is gone, or that the reference package has
	// after all, is a stale entry: keep the list honest.
	for key := range intended {
		found := false
		for _, e := range got {
			found = found || e.Key == key
		}
		for _, e := range want {
			if e.Key == key {
				t.Errorf("%s lists %q as an addition, but %s has it", ourPath, key, refPath)
			}
		}
		if !found {
			t.Errorf("%s lists %q as an addition, but it does not export it", ourPath, key)
		}
	}
}

// TestCompatMatchesGorilla: compat exports gorilla/websocket v1.5.3's API.
func TestCompatMatchesGorilla(t *testing.T) {
	check(t, gorilla, compat, intendedGorillaAdditions)
}

// TestBtcsuiteMatchesBtcsuite: compat/btcsuite exports btcsuite's API, no
// more, no less.
func TestBtcsuiteMatchesBtcsuite(t *testing.T) {
	check(t, btcsuite, compatBtcd, intendedBtcsuiteAdditions)
}

// TestCheckerSeesPeerDifferences runs the checker on the two peers, whose
// differences the contract file lists (§4): it must find exactly the kinds of
// difference it is there to find, so a checker that finds nothing cannot pass.
func TestCheckerSeesPeerDifferences(t *testing.T) {
	pkgs := load(t)
	diffs := Compare(Listing(pkgs[gorilla]), Listing(pkgs[btcsuite]), nil)
	byKey := make(map[string]Difference)
	for _, d := range diffs {
		byKey[d.Key] = d
	}
	// Present in gorilla only.
	for _, key := range []string{
		"const CloseServiceRestart", "const CloseTryAgainLater",
		"type CloseError", "method (CloseError).Error", "func IsCloseError", "func IsUnexpectedCloseError",
		"func IsWebSocketUpgrade", "func JoinMessages", "type BufferPool", "type PreparedMessage",
		"func NewPreparedMessage", "method (Conn).SetCloseHandler", "method (Conn).NetConn",
		"method (Conn).WritePreparedMessage", "method (Dialer).DialContext",
		"field Dialer.Proxy", "field Dialer.Jar", "field Upgrader.EnableCompression",
	} {
		d, ok := byKey[key]
		if !ok || d.Got != "" {
			t.Errorf("gorilla vs btcsuite: want %q reported missing from btcsuite, got %v", key, d)
		}
	}
	// Same names, different declarations: the struct field lists.
	for _, key := range []string{"type Dialer", "type Upgrader"} {
		d, ok := byKey[key]
		if !ok || d.Got == "" || d.Want == "" {
			t.Errorf("gorilla vs btcsuite: want %q reported different, got %v", key, d)
		}
	}
	// What the two share must not be reported (parameter names differ, the
	// declarations do not).
	for _, key := range []string{
		"func Upgrade", "func NewClient", "method (Conn).SetPingHandler", "method (Conn).ReadMessage",
		"type HandshakeError", "method (HandshakeError).Error", "var DefaultDialer", "var ErrBadHandshake",
		"const TextMessage", "field Dialer.NetDial", "field Upgrader.CheckOrigin", "func FormatCloseMessage",
	} {
		if d, ok := byKey[key]; ok {
			t.Errorf("gorilla vs btcsuite: %q reported but the declarations are the same: %v", key, d)
		}
	}
	if t.Failed() {
		for _, d := range diffs {
			t.Logf("%s", d)
		}
	}
}

// TestListingFormat pins the normalisation on declarations whose go doc form
// is known.
func TestListingFormat(t *testing.T) {
	pkgs := load(t)
	want := map[string]string{
		"func Upgrade":                  "func Upgrade(http.ResponseWriter, *http.Request, http.Header, int, int) (*Conn, error)",
		"method (Conn).ReadMessage":     "method (*Conn) ReadMessage() (int, []byte, error)",
		"method (HandshakeError).Error": "method (HandshakeError) Error() string",
		"const CloseNormalClosure":      "const CloseNormalClosure untyped int = 1000",
		"var ErrBadHandshake":           "var ErrBadHandshake error",
		"type Conn":                     "type Conn struct {  } // has unexported fields",
		"field Dialer.HandshakeTimeout": "field Dialer.HandshakeTimeout time.Duration",
		"type BufferPool":               "type BufferPool interface { Get() interface{}; Put(interface{}) }",
		"type Dialer": "type Dialer struct { NetDial; NetDialContext; NetDialTLSContext; Proxy; TLSClientConfig; " +
			"HandshakeTimeout; ReadBufferSize; WriteBufferSize; WriteBufferPool; Subprotocols; EnableCompression; Jar }",
	}
	got := make(map[string]string)
	for _, e := range Listing(pkgs[gorilla]) {
		got[e.Key] = e.Decl
	}
	for k, w := range want {
		if g := got[k]; g != w {
			t.Errorf("%s:\n\tgot  %s\n\twant %s", k, g, w)
		}
	}
	if s := (Difference{Want: "a", Got: "b"}).String(); !strings.Contains(s, "want a") || !strings.Contains(s, "got  b") {
		t.Errorf("Difference.String: %q", s)
	}
}
