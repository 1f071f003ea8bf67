package apicheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The peers' own tests that use only their exported API, run against lull's
// packages: each file is taken from the module cache (never copied into
// this repository), its package clause turned into an external test
// package that dot-imports the package under test, and compiled in a
// scratch module. A few unexported helpers such a file calls are supplied
// by upstreamShims, written here.
var upstreamRuns = []struct {
	name    string
	module  string   // the peer whose tests are run
	files   []string // its test files that need nothing unexported (beyond the shims)
	target  string   // the lull package they are pointed at
	shimmed bool
}{
	{"btcsuite tests on compat/btcsuite", btcsuite, []string{"client_server_test.go", "server_test.go"}, compatBtcd, false},
	{"btcsuite tests on compat", btcsuite, []string{"client_server_test.go", "server_test.go"}, compat, false},
	{"gorilla tests on compat", gorilla, []string{"client_server_test.go"}, compat, true},
}

// upstreamShims stands in for the unexported helpers gorilla's
// client_server_test.go calls.
const upstreamShims = `package upstream_test

import (
	"crypto/sha1"
	"encoding/base64"
)

func computeAcceptKey(challengeKey string) string {
	h := sha1.Sum([]byte(challengeKey + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}
`

var packageClause = regexp.MustCompile(`(?m)^package websocket$`)

func TestUpstreamTestsPass(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range upstreamRuns {
		t.Run(run.name, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", run.module).Output()
			if err != nil {
				t.Fatalf("locating %s: %v", run.module, err)
			}
			src := strings.TrimSpace(string(out))
			dir := t.TempDir()
			mod := "module upstream\n\ngo 1.24.0\n\nrequire github.com/lullws/lull v0.0.0\n\n" +
				"replace github.com/lullws/lull => " + root + "\n"
			write := func(name, data string) {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("go.mod", mod)
			write("go.sum", string(sum))
			if run.shimmed {
				write("shim_test.go", upstreamShims)
			}
			for _, f := range run.files {
				b, err := os.ReadFile(filepath.Join(src, f))
				if err != nil {
					t.Fatal(err)
				}
				s := string(b)
				if !packageClause.MatchString(s) || !strings.Contains(s, "\nimport (\n") {
					t.Fatalf("%s/%s: unexpected layout", run.module, f)
				}
				s = packageClause.ReplaceAllString(s, "package upstream_test")
				s = strings.Replace(s, "\nimport (\n", "\nimport (\n\t. \""+run.target+"\"\n", 1)
				write(f, s)
			}
			cmd := exec.Command("go", "test", "-count=1", "-v", ".")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
			b, err := cmd.CombinedOutput()
			passed := regexp.MustCompile(`(?m)^--- PASS: `).FindAll(b, -1)
			if err != nil {
				t.Fatalf("%s's %s against %s: %v\n%s", run.module, strings.Join(run.files, ", "), run.target, err, failures(string(b)))
			}
			t.Logf("%d upstream tests pass", len(passed))
		})
	}
}

// failures keeps the lines of go test -v output that explain failures.
func failures(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "=== RUN") || strings.HasPrefix(l, "--- PASS") || strings.Contains(l, "TLS handshake error") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}
