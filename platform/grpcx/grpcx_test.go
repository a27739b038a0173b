package grpcx

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/testkit"
)

// Health's List method stands in for any service method: it requires an identity, while
// Check stays open for Consul's probes.
func TestIdentityRequiredExceptHealthCheck(t *testing.T) {
	signer := authn.NewSigner(testkit.Secret)
	srv := NewServer(slog.New(slog.DiscardHandler), signer)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)

	raw, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { raw.Close() })
	ctx := context.Background()

	_, err = healthpb.NewHealthClient(raw).Check(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err, "health checks need no identity")

	_, err = healthpb.NewHealthClient(raw).List(ctx, &healthpb.HealthListRequest{})
	require.Equal(t, codes.Unauthenticated, status.Code(err), "no identity")

	forged := authn.NewSigner("some-other-secret-1234567").Sign(authn.Identity{UserID: "u1"})
	_, err = healthpb.NewHealthClient(raw).List(metadata.AppendToOutgoingContext(ctx, authn.MetadataKey, forged), &healthpb.HealthListRequest{})
	require.Equal(t, codes.Unauthenticated, status.Code(err), "forged identity")

	static := discovery.NewStatic(func(k string) string {
		if k == "PROBE_SVC_GRPC_ADDRS" {
			return l.Addr().String()
		}
		return ""
	})
	conn, err := Dial(ClientParams{Service: "probe-svc", Resolver: static, Signer: signer, Caller: "tests"})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = healthpb.NewHealthClient(conn).List(ctx, &healthpb.HealthListRequest{})
	require.NoError(t, err, "Dial signs the caller service's identity")
}
