package grpcx

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/test/bufconn"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/discovery"
	platformlog "github.com/convene/convene/platform/logging"
	"github.com/convene/convene/platform/testkit"
	"github.com/convene/convene/platform/tracing"
)

// BenchmarkUnaryChain measures one unary call through Dial's client chain and
// NewServerWith's server chain, as services run them in production: tracing on but not
// exporting, logging at warn, identity required. The transport is an in-memory pipe, so
// what differs between versions of the chain is the interceptors' own cost
// (go test -bench UnaryChain -benchmem ./grpcx).
func BenchmarkUnaryChain(b *testing.B) {
	signer := authn.NewSigner(testkit.Secret)
	log, _ := platformlog.New(discardWriter{}, "bench-svc", "b1", "json", "warn")
	tp, err := tracing.New(context.Background(), tracing.Params{Service: "bench-svc"})
	if err != nil {
		b.Fatal(err)
	}
	srv := NewServerWith(ServerParams{Log: log, Signer: signer, Tracing: tp})
	l := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(l) }()
	b.Cleanup(srv.Stop)

	conn, err := dialWith(ClientParams{
		Service:  "bench-svc",
		Resolver: discovery.NewStatic(func(string) string { return "bufnet" }),
		Signer:   signer,
		Caller:   "bench",
		Tracing:  tp,
	}, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return l.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	client := healthpb.NewHealthClient(conn)
	ctx := context.Background()
	if _, err := client.List(ctx, &healthpb.HealthListRequest{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := client.List(ctx, &healthpb.HealthListRequest{}); err != nil {
			b.Fatal(err)
		}
	}
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
