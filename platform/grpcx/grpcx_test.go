package grpcx

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/discovery"
	platformlog "github.com/convene/convene/platform/logging"
	"github.com/convene/convene/platform/testkit"
	"github.com/convene/convene/platform/tracing"
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

// TestCallLog checks that calls are logged with the caller's trace, carried over the wire
// with tracing export off, and Consul's health checks not at all.
func TestCallLog(t *testing.T) {
	signer := authn.NewSigner(testkit.Secret)
	var buf syncBuffer
	log, _ := platformlog.New(&buf, "probe-svc", "p1", "json", "info")
	tp, err := tracing.New(context.Background(), tracing.Params{Service: "probe-svc"})
	require.NoError(t, err)
	srv := NewServerWith(ServerParams{Log: log, Signer: signer, Tracing: tp})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	conn, err := Dial(ClientParams{
		Service:  "probe-svc",
		Resolver: discovery.NewStatic(func(string) string { return l.Addr().String() }),
		Signer:   signer,
		Caller:   "tests",
		Tracing:  tp,
	})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })

	cases := []struct {
		name  string
		call  func(ctx context.Context) error
		lines int
	}{
		{"health check: no line", func(ctx context.Context) error {
			_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			return err
		}, 0},
		{"service method: one line with the trace", func(ctx context.Context) error {
			_, err := healthpb.NewHealthClient(conn).List(ctx, &healthpb.HealthListRequest{})
			return err
		}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			buf.Reset()
			tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
			parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled})
			ctx := trace.ContextWithSpanContext(platformlog.WithRequestID(context.Background(), "req-1"), parent)
			require.NoError(t, tc.call(ctx))
			// The server logs after it answered: wait for the line rather than race it.
			require.Eventually(t, func() bool { return len(buf.Lines()) >= tc.lines }, 5*time.Second, 10*time.Millisecond)
			lines := buf.Lines()
			require.Len(t, lines, tc.lines)
			for _, line := range lines {
				require.Equal(t, "finished call", line["msg"])
				require.Equal(t, "req-1", line["request_id"])
				require.Equal(t, tid.String(), line["trace_id"])
			}
		})
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// Lines decodes every JSON line written so far.
func (b *syncBuffer) Lines() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, raw := range bytes.Split(bytes.TrimSpace(b.buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(raw, &m) == nil {
			out = append(out, m)
		}
	}
	return out
}
