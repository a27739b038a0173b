// Command confload puts Convene's SFU under conference load through the gateway, like real
// clients: rooms of participants that each publish synthetic Opus (50 packets/s) and VP8
// (~1 Mbit/s, browser-sized packets, periodic and requested key frames) and receive everyone
// else. It reports forwarded packets/s and bit/s, conference-svc's CPU seconds per forwarded
// packet (from /proc/<pid>/stat), send→receive latency p50/p99, loss and join time.
//
// With -step-max it grows the number of rooms until the server drops packets (loss > 1 %),
// p99 passes 100 ms, or -step-max is reached. The same load against LiveKit, in one run with
// Convene, is tools/confload-livekit (scripts/bench-conference.sh).
//
//	go run ./tools/confload -stack -rooms 1 -size 10 -duration 20s
//	go run ./tools/confload -stack -rooms 1 -step 1 -step-max 8
//	go run ./tools/confload -gateway http://127.0.0.1:8080 -server-addr 127.0.0.1:8105
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/convene/convene/tools/confload/convene"
	"github.com/convene/convene/tools/confload/load"
)

type options struct {
	ownStack   bool
	gateway    string
	pid        int
	serverAddr string
	step       load.StepParams
}

func main() {
	var o options
	flag.BoolVar(&o.ownStack, "stack", false, "build and start a private embedded stack (gateway, users, teams, conference) on free ports")
	flag.StringVar(&o.gateway, "gateway", "http://127.0.0.1:8080", "gateway base URL (without -stack)")
	flag.IntVar(&o.pid, "pid", 0, "conference-svc's process id (without -stack)")
	flag.StringVar(&o.serverAddr, "server-addr", "127.0.0.1:8105", "an address conference-svc listens on, to find its process when -pid is not given")
	load.RegisterFlags(flag.CommandLine, &o.step)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "confload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	reps, err := runConvene(ctx, o, out)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	if err := load.WriteTable(out, reps); err != nil {
		return err
	}
	for _, r := range reps {
		if r.Wall == 0 {
			return errors.New(r.Incomplete)
		}
	}
	return nil
}

// runConvene runs the step load against Convene and returns one report per round.
func runConvene(ctx context.Context, o options, out io.Writer) ([]load.Report, error) {
	o.step.Run.Progress = out
	if o.ownStack {
		fmt.Fprintln(out, "starting an embedded stack (building gateway, users-svc, teams-svc, conference-svc)")
		st, err := convene.StartStack(ctx, convene.StackParams{})
		if err != nil {
			return nil, err
		}
		defer st.Stop()
		o.gateway, o.pid = st.Gateway, st.Pid
	}
	if o.pid == 0 {
		pid, err := load.PidListening(o.serverAddr)
		if err != nil {
			return nil, err
		}
		o.pid = pid
	}
	srv, err := convene.New(convene.Params{Gateway: o.gateway, Pid: o.pid})
	if err != nil {
		return nil, err
	}
	return load.Step(ctx, []load.Server{srv}, o.step), nil
}
