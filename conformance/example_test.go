package conformance_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"github.com/lullws/lull/conformance"
	"github.com/lullws/lull/engine"
	"github.com/lullws/lull/frame"
	"github.com/lullws/lull/upgrade"
)

// An echo server on lull's engine, checked with a few cases.
func ExampleCheckServer() {
	e, err := engine.New(engine.Config{
		Upgrade:   upgrade.Server{CheckOrigin: func(*upgrade.Request) bool { return true }},
		OnMessage: func(c *engine.Conn, op frame.Opcode, data []byte) { c.WriteMessage(op, data) },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	addr, err := e.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}

	rep, err := conformance.CheckServer(context.Background(), "ws://"+addr.String()+"/", conformance.Options{Cases: "1.1.1,2.5,6.3.1,7.9.1"})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rep.Results {
		fmt.Println(r.Case, r.Status)
	}
	fmt.Println("passed:", rep.Passed(false))
	// Output:
	// 1.1.1 OK
	// 2.5 OK
	// 6.3.1 OK
	// 7.9.1 OK
	// passed: true
}

// A fuzzing server for clients: a client that speaks Autobahn's
// fuzzing-server protocol (such as examples/autobahn-engine-client) runs
// the cases against it, and the report is read once it calls
// /updateReports.
func ExampleFuzzingServer() {
	fs, err := conformance.NewFuzzingServer(conformance.Options{Cases: "1,2,3"})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go fs.Serve(ln)
	defer fs.Close()

	// ... run the client against ws://<ln.Addr()>, then:
	//
	//	agent := <-fs.Done()
	//	fs.Report(agent).WriteSummary(os.Stdout)
	fmt.Println("ready")
	// Output: ready
}
