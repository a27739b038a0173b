// Command confload-livekit runs the same conference load against Convene and livekit-server
// in one run, interleaved round by round, and prints one comparison table. The load, the
// synthetic media and the measurements are tools/confload's (package load); this module adds
// only the LiveKit driver. It lives outside go.work, built with GOWORK=off, so that the
// LiveKit SDK's dependency versions never become the services'.
//
//	bash scripts/bench-conference.sh            # builds livekit-server once, then runs this
//	confload-livekit -livekit-bin .cache/bin/livekit-server-v1.13.5 -rooms 1 -step 1 -step-max 6
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
	protologger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/convene/convene/tools/confload/convene"
	"github.com/convene/convene/tools/confload/load"
)

type options struct {
	livekitBin, livekitURL string
	livekitPid             int
	conveneGateway         string
	convenePid             int
	servers                string
	step                   load.StepParams
}

func main() {
	var o options
	flag.StringVar(&o.livekitBin, "livekit-bin", "", "livekit-server binary to start (scripts/livekit.sh builds it)")
	flag.StringVar(&o.livekitURL, "livekit-url", "", "an already running livekit-server --dev (ws://…), instead of -livekit-bin")
	flag.IntVar(&o.livekitPid, "livekit-pid", 0, "its process id, with -livekit-url")
	flag.StringVar(&o.conveneGateway, "convene-gateway", "", "a running Convene gateway; default: start an embedded stack")
	flag.IntVar(&o.convenePid, "convene-pid", 0, "conference-svc's process id, with -convene-gateway")
	flag.StringVar(&o.servers, "servers", "convene,livekit", "servers to load, in the order each round visits them: convene, convene-pacing (MEDIA_PACING=true), livekit")
	load.RegisterFlags(flag.CommandLine, &o.step)
	flag.Parse()
	// The SDK logs every subscription at info level: hundreds of lines per round.
	lksdk.SetLogger(protologger.LogRLogger(logr.Discard()))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "confload-livekit:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	o.step.Run.Progress = out
	var servers []load.Server
	built := false // a second Convene stack reuses the first one's binaries
	for _, name := range strings.Split(o.servers, ",") {
		switch strings.TrimSpace(name) {
		case "convene", "convene-pacing":
			srv, stop, err := conveneServer(ctx, o, out, strings.TrimSpace(name), built)
			if err != nil {
				return err
			}
			built = true
			defer stop()
			servers = append(servers, srv)
		case "livekit":
			srv, stop, err := livekitServerFor(ctx, o, out)
			if err != nil {
				return err
			}
			defer stop()
			servers = append(servers, srv)
		default:
			return fmt.Errorf("%w: unknown server %q", load.ErrBadParams, name)
		}
	}
	if len(servers) == 0 {
		return fmt.Errorf("%w: no server", load.ErrBadParams)
	}
	reps := load.Step(ctx, servers, o.step)
	fmt.Fprintf(out, "\n%d CPUs, GOMAXPROCS %d; %d-participant rooms, each participant publishing Opus 50 pkt/s + VP8 %d bit/s and receiving all others\n\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), o.step.Run.RoomSize, o.step.Run.Media.VideoBitrate)
	return load.WriteTable(out, reps)
}

// conveneServer starts (or, with -convene-gateway, reaches) Convene; "convene-pacing" is the
// same build with the subscribers' pacer on (MEDIA_PACING=true), to tell the pacer's cost
// and queueing from the forwarding path's.
func conveneServer(ctx context.Context, o options, out io.Writer, name string, built bool) (load.Server, func(), error) {
	stop := func() {}
	gw, pid := o.conveneGateway, o.convenePid
	if name != "convene" && gw != "" {
		return nil, nil, fmt.Errorf("%w: %s needs a stack of its own (no -convene-gateway)", load.ErrBadParams, name)
	}
	if gw == "" {
		p := convene.StackParams{Prebuilt: built}
		if name == "convene-pacing" {
			p.ConferenceEnv = map[string]string{"MEDIA_PACING": "true"}
		}
		logs, err := logFile("confload-convene")
		if err != nil {
			return nil, nil, err
		}
		p.Logs = logs
		fmt.Fprintf(out, "starting %s (embedded stack; logs in %s)\n", name, logs.Name())
		st, err := convene.StartStack(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		stop = func() { st.Stop(); logs.Close() }
		gw, pid = st.Gateway, st.Pid
	}
	srv, err := convene.New(convene.Params{Gateway: gw, Pid: pid, Name: name})
	if err != nil {
		stop()
		return nil, nil, err
	}
	return srv, stop, nil
}

func livekitServerFor(ctx context.Context, o options, out io.Writer) (load.Server, func(), error) {
	if o.livekitURL != "" {
		if o.livekitPid == 0 {
			return nil, nil, errors.New("-livekit-pid is required with -livekit-url")
		}
		return &livekitServer{url: o.livekitURL, key: devKey, secret: devSecret, pid: o.livekitPid}, func() {}, nil
	}
	if o.livekitBin == "" {
		return nil, nil, errors.New("-livekit-bin or -livekit-url is required")
	}
	logs, err := logFile("confload-livekit")
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(out, "starting livekit-server (logs in %s)\n", logs.Name())
	lk, err := startLivekit(ctx, o.livekitBin, logs)
	if err != nil {
		logs.Close()
		return nil, nil, err
	}
	return &livekitServer{url: lk.url, key: devKey, secret: devSecret, pid: lk.pid()},
		func() { lk.stop(); logs.Close() }, nil
}
