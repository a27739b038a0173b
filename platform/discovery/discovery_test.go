package discovery

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/convene/convene/platform/testkit"
)

func TestStatic(t *testing.T) {
	env := map[string]string{
		"TEAMS_SVC_HTTP_ADDRS": "127.0.0.1:1,127.0.0.1:2",
		"TEAMS_SVC_GRPC_ADDRS": "127.0.0.1:3,127.0.0.1:4",
	}
	s := NewStatic(func(k string) string { return env[k] })
	ctx := context.Background()

	cases := []struct {
		service string
		want    []Instance
		err     error
	}{
		{"teams-svc", []Instance{{ID: "teams-svc-a", HTTPAddr: "127.0.0.1:1", GRPCAddr: "127.0.0.1:3"}, {ID: "teams-svc-b", HTTPAddr: "127.0.0.1:2", GRPCAddr: "127.0.0.1:4"}}, nil},
		{"users-svc", []Instance{{ID: "users-svc-a", HTTPAddr: "127.0.0.1:8101", GRPCAddr: "127.0.0.1:9101"}}, nil},
		{"nope-svc", nil, ErrNoInstance},
	}
	for _, tc := range cases {
		t.Run(tc.service, func(t *testing.T) {
			got, err := s.Instances(ctx, tc.service)
			require.ErrorIs(t, err, tc.err)
			require.Equal(t, tc.want, got)
		})
	}
}

// healthServer is a real gRPC server with the health service, as every service runs one.
func healthServer(t *testing.T) (port int, stop func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer()
	h := health.NewServer()
	h.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s, h)
	go func() { _ = s.Serve(l) }()
	return l.Addr().(*net.TCPAddr).Port, s.Stop
}

func TestConsulRegisterWatchDeregister(t *testing.T) {
	client, err := NewConsulClient(testkit.RequireConsul(t))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	service := "disco-test-" + testkit.RandomHex(4)
	r := NewConsul(ctx, client, slog.New(slog.DiscardHandler))

	var deregs []func() error
	var stops []func()
	for i := range 2 {
		port, stop := healthServer(t)
		stops = append(stops, stop)
		dereg, err := Register(client, Registration{
			Service: service, ID: service + "-" + strconv.Itoa(i), Host: "127.0.0.1",
			HTTPPort: 10000 + i, GRPCPort: port, CheckInterval: 500 * time.Millisecond,
		})
		require.NoError(t, err)
		deregs = append(deregs, dereg)
	}
	t.Cleanup(func() {
		for _, d := range deregs {
			_ = d()
		}
		for _, s := range stops {
			s()
		}
	})

	changes := make(chan int, 16)
	r.Watch(ctx, service, func(in []Instance) { changes <- len(in) })
	waitFor := func(n int) {
		t.Helper()
		deadline := time.After(15 * time.Second)
		for {
			select {
			case got := <-changes:
				if got == n {
					return
				}
			case <-deadline:
				t.Fatalf("watch never reported %d passing instances", n)
			}
		}
	}
	waitFor(2)
	in, err := r.Instances(ctx, service)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:10000", in[0].HTTPAddr)
	require.NotEmpty(t, in[0].GRPCAddr)

	// A process that stops answering its health check leaves the healthy set by itself.
	stops[1]()
	waitFor(1)

	// A deregistered instance leaves at once.
	require.NoError(t, deregs[0]())
	waitFor(0)
	_, err = r.Instances(ctx, service)
	require.ErrorIs(t, err, ErrNoInstance)
}
