// Package apicheck compares the exported API of lull's compat packages with
// the packages they stand in for:
//
//	github.com/lullws/lull/compat          vs github.com/gorilla/websocket v1.5.3
//	github.com/lullws/lull/compat/btcsuite vs github.com/btcsuite/websocket (2015 snapshot)
//
// It is a nested module (its own go.mod) so that the two peers never enter
// lull's root go.mod. Its test builds export data for all four packages with
// `go list -export`, loads them with go/types, turns each into a listing in
// the spirit of `go doc -all` (constants with their types and values,
// variables, functions, types with their struct fields in declaration
// order, interface methods, and the methods of every type, all signatures
// without parameter names) and reports every entry that is missing,
// different or extra.
//
// The module also runs lull's contract tests (compat/contract) against the
// real peers, with the tests' imports rewritten: every expectation they
// hold compat and compat/btcsuite to must be the peer's actual behaviour,
// except the deviations listed (with reasons) in peers_test.go.
//
//	cd compat/apicheck && go test ./...
//	cd compat/apicheck && go test -run Matches -v   # also prints the listings
package apicheck
