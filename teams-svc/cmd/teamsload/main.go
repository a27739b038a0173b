// Command teamsload drives the teams-svc benchmark (scripts/bench-teams.sh):
//
//	teamsload seed -gateway URL -db URL [-posts N] [-users N] -out state.json
//	    registers users through the gateway, creates a team with them as members, and
//	    bulk-inserts N posts (COPY) straight into teams-svc's Postgres database
//	teamsload read -gateway URL -state state.json -metrics URL [-readers N] [-duration D]
//	    N concurrent readers page through GET /api/v1/teams/{id}/posts (closed loop) and
//	    report latency percentiles and, from teams-svc's /metrics, SQL statements and
//	    users-svc calls per request
//	teamsload membership -grpc ADDR -secret S -state state.json [-n N] [-concurrency C]
//	    calls teams.v1 GetMembership with a warm cache and reports latency percentiles
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: teamsload seed|read|membership [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "seed":
		err = seed(os.Args[2:])
	case "read":
		err = read(os.Args[2:])
	case "membership":
		err = membership(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "teamsload:", err)
		os.Exit(1)
	}
}
