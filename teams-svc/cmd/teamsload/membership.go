package main

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"time"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/grpcx"
	teamsv1 "github.com/convene/convene/proto/teams/v1"
)

func membership(args []string) error {
	fs := flag.NewFlagSet("membership", flag.ExitOnError)
	addr := fs.String("grpc", "127.0.0.1:9102", "teams-svc gRPC address")
	secret := fs.String("secret", "", "INTERNAL_AUTH_SECRET of the stack")
	statePath := fs.String("state", "teamsload-state.json", "state written by seed")
	n := fs.Int("n", 20000, "calls per worker")
	concurrency := fs.Int("concurrency", 1, "concurrent callers")
	metricsURL := fs.String("metrics", "", "teams-svc's /metrics URL, for CPU and SQL per call")
	_ = fs.Parse(args)
	st, err := loadState(*statePath)
	if err != nil {
		return err
	}
	conn, err := grpcx.Dial(grpcx.ClientParams{
		Service: "teams-svc", Caller: "conference-svc", Signer: authn.NewSigner(*secret),
		Resolver: discovery.NewStatic(func(k string) string {
			if k == "TEAMS_SVC_GRPC_ADDRS" {
				return *addr
			}
			return ""
		}),
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	client := teamsv1.NewTeamsServiceClient(conn)
	ctx := context.Background()
	// Warm up the connection and every member's cache entry.
	for range 3 {
		for _, u := range st.UserIDs {
			res, err := client.GetMembership(ctx, &teamsv1.GetMembershipRequest{TeamId: st.TeamID, UserId: u})
			if err != nil {
				return err
			}
			if !res.GetMember() {
				return fmt.Errorf("user %s is not a member", u)
			}
		}
	}
	before, err := scrape(*metricsURL)
	if err != nil {
		return err
	}
	var (
		mu  sync.Mutex
		all []time.Duration
		wg  sync.WaitGroup
	)
	start := time.Now()
	for w := range *concurrency {
		wg.Go(func() {
			lat := make([]time.Duration, 0, *n)
			for i := range *n {
				u := st.UserIDs[(w+i)%len(st.UserIDs)]
				t0 := time.Now()
				_, err := client.GetMembership(ctx, &teamsv1.GetMembershipRequest{TeamId: st.TeamID, UserId: u})
				if err == nil {
					lat = append(lat, time.Since(t0))
				}
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Printf("teams.v1 GetMembership, warm cache: %d callers, %d calls in %s (%.0f/s), %d errors\n",
		*concurrency, len(all), elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds(), *n**concurrency-len(all))
	printPercentiles(all)
	if *metricsURL != "" {
		after, err := scrape(*metricsURL)
		if err != nil {
			return err
		}
		calls := float64(len(all))
		cpu := after.sum("process_cpu_seconds_total", "") - before.sum("process_cpu_seconds_total", "")
		stmts := after.sum("teams_sql_statements_total", "") - before.sum("teams_sql_statements_total", "")
		l1, shared := membershipHits(before, after)
		fmt.Printf("  teams-svc: %.3fms CPU per call, %.3f SQL statements per call, %.3f cache hits per call (%.3f in-process L1, %.3f Redis)\n",
			1000*cpu/calls, stmts/calls, (l1+shared)/calls, l1/calls, shared/calls)
	}
	return nil
}
