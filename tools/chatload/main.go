// Command chatload drives Convene's chat through the gateway like real clients: N users in
// M chats of K members, one realtime socket each, every user sending at a set rate. It
// reports messages persisted per second, deliveries per second, send→deliver latency
// (p50/p99/max), lost and duplicated deliveries, and what an idle socket costs each of the
// gateway and messages-svc (growth of resident memory, Go heap and goroutines, read from
// their /metrics, divided by the sockets).
//
//	chatload -gateway http://127.0.0.1:8080 -users 10000 -chat-size 10 -rate 0.1 -duration 60s \
//	         -metrics http://127.0.0.1:8080/metrics,http://127.0.0.1:8104/metrics
//
// -smoke runs a small size and exits non-zero unless every delivery arrived exactly once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Params is one run's shape.
type Params struct {
	Gateway  string
	Users    int
	ChatSize int
	Rate     float64
	Duration time.Duration
	Drain    time.Duration
	Metrics  []string
	// MetricsNames name the processes behind Metrics, when known.
	MetricsNames []string
	Prefix       string
	Concurrency  int
	Smoke        bool
	// PprofMessages is messages-svc's PPROF_ADDR in a stack of chatload's own.
	PprofMessages string
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "chatload:", err)
		os.Exit(1)
	}
}

func run() error {
	var p Params
	var metrics string
	flag.StringVar(&p.Gateway, "gateway", "http://127.0.0.1:8080", "gateway base URL")
	flag.IntVar(&p.Users, "users", 100, "users (one socket each)")
	flag.IntVar(&p.ChatSize, "chat-size", 10, "members per chat (chats = users / chat-size)")
	flag.Float64Var(&p.Rate, "rate", 1, "messages per second each user sends")
	flag.DurationVar(&p.Duration, "duration", 20*time.Second, "how long users send")
	flag.DurationVar(&p.Drain, "drain", 10*time.Second, "how long to wait at most for the last acks and deliveries")
	flag.StringVar(&metrics, "metrics", "", "comma-separated /metrics URLs of the gateway and messages-svc instances, for memory per socket")
	flag.StringVar(&p.Prefix, "prefix", "load", "username prefix; users are reused across runs with the same prefix")
	flag.IntVar(&p.Concurrency, "setup-concurrency", 8, "parallel requests while creating users and chats")
	flag.BoolVar(&p.Smoke, "smoke", false, "small run (20 users, chats of 5, 2 msg/s, 5s) that fails on any loss or duplicate")
	withStack := flag.Int("stack", 0, "start a stack of its own with this many messages-svc instances (0: use -gateway)")
	flag.StringVar(&p.PprofMessages, "pprof-messages", "", "with -stack 1: serve messages-svc's pprof on this loopback address (e.g. 127.0.0.1:6061)")
	flag.Parse()
	if metrics != "" {
		p.Metrics = strings.Split(metrics, ",")
	}
	if p.Smoke {
		p = smokeParams(p)
	}
	if p.PprofMessages != "" && *withStack != 1 {
		return errors.New("-pprof-messages needs -stack 1: instances cannot share one pprof address")
	}
	if p.Users < 2 || p.ChatSize < 2 || p.ChatSize > p.Users || p.Rate <= 0 || p.Duration <= 0 {
		return errors.New("need -users ≥ 2, 2 ≤ -chat-size ≤ -users, -rate > 0, -duration > 0")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *withStack > 0 {
		st, err := startStack(ctx, &p, *withStack, os.Stderr)
		if err != nil {
			return err
		}
		defer st.Stop()
	}
	rep, err := Run(ctx, p, os.Stderr)
	if err == nil {
		fmt.Print(rep.String())
		if p.Smoke {
			err = rep.smokeErr()
		}
	}
	return err
}

// smokeParams is the size CI runs (TestSmoke, scripts/bench-chat.sh smoke): 20 users in
// chats of 5, 2 messages a second each for 5 s.
func smokeParams(p Params) Params {
	p.Users, p.ChatSize, p.Rate, p.Duration, p.Drain = 20, 5, 2, 5*time.Second, 10*time.Second
	return p
}

// smokeErr fails a smoke run unless messages were persisted and every acknowledged one
// reached every member of its chat exactly once.
func (r Report) smokeErr() error {
	if r.Lost > 0 || r.Duplicates > 0 || r.Persisted == 0 || r.SendErrors > 0 {
		return fmt.Errorf("smoke run failed: %d persisted, %d lost, %d duplicated, %d send errors; every acknowledged message must reach every member once",
			r.Persisted, r.Lost, r.Duplicates, r.SendErrors)
	}
	return nil
}

// errSetup wraps failures before the measured phase.
var errSetup = errors.New("setup")
