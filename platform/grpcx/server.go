// Package grpcx builds gRPC servers and clients with the interceptors every service needs:
// recovery, logging, Prometheus metrics, request IDs, the caller's identity, and a deadline
// on every outgoing call.
package grpcx

import (
	"context"
	"log/slog"
	"runtime/debug"

	"github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	promclient "github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/platform/authn"
	platformlog "github.com/convene/convene/platform/logging"
	"github.com/convene/convene/platform/tracing"
)

// RequestIDKey is the metadata key that carries the request ID between services.
const RequestIDKey = "x-request-id"

var (
	serverMetrics = prometheus.NewServerMetrics(prometheus.WithServerHandlingTimeHistogram())
	clientMetrics = prometheus.NewClientMetrics(prometheus.WithClientHandlingTimeHistogram())
)

func init() {
	promclient.MustRegister(serverMetrics, clientMetrics)
}

// Server is a gRPC server with the standard interceptors and the health service.
type Server struct {
	*grpc.Server
	Health *health.Server
}

// NewServer returns a server whose every method requires an identity signed with the
// internal secret (a user's, propagated, or a service's own). Health checks are exempt so
// that Consul can probe them. Spans go to the process-wide tracer provider (see
// tracing.Provider.Install), as installed when the server is built.
func NewServer(log *slog.Logger, signer *authn.Signer) *Server {
	return NewServerWith(ServerParams{Log: log, Signer: signer})
}

// ServerParams configures NewServerWith.
type ServerParams struct {
	Log    *slog.Logger
	Signer *authn.Signer
	// Tracing receives the server's spans; nil means the process-wide provider.
	Tracing *tracing.Provider
}

// NewServerWith is NewServer with every setting explicit.
func NewServerWith(p ServerParams) *Server {
	s := grpc.NewServer(serverOptions(p)...)
	h := health.NewServer()
	healthpb.RegisterHealthServer(s, h)
	return &Server{Server: s, Health: h}
}

// serverOptions builds the interceptor chain. Every call runs all of it, so each link
// avoids work it does not need: metadata is read by key rather than copied, a caller's
// identity token is verified once and then remembered until it expires, log lines are
// built only at an enabled level, and trace context goes through otelgrpc only when spans
// are recorded.
func serverOptions(p ServerParams) []grpc.ServerOption {
	log, ids := p.Log, newVerifiedIdentities(p.Signer)
	tr := newTraceSetup(p.Tracing)
	recoverer := recovery.UnaryServerInterceptor(recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in gRPC handler", "panic", p, "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	}))
	var opts []grpc.ServerOption
	unary := []grpc.UnaryServerInterceptor{serverMetrics.UnaryServerInterceptor()}
	stream := []grpc.StreamServerInterceptor{serverMetrics.StreamServerInterceptor()}
	if tr.lean {
		unary = append(unary, tr.unaryServer)
		stream = append(stream, tr.streamServer)
	} else {
		// The stats handler runs before the interceptors, so that their log lines carry
		// the span it continues from the caller's traceparent.
		opts = append(opts, grpc.StatsHandler(otelgrpc.NewServerHandler(otelOptions(p.Tracing)...)))
	}
	unary = append(unary, requestIDUnary, logUnary(log), recoverer, identityUnary(ids))
	stream = append(stream, recovery.StreamServerInterceptor())
	return append(opts, grpc.ChainUnaryInterceptor(unary...), grpc.ChainStreamInterceptor(stream...))
}

// otelOptions points otelgrpc at p (nil: the process-wide provider) and leaves health
// checks untraced: Consul probes every instance every few seconds.
func otelOptions(p *tracing.Provider) []otelgrpc.Option {
	opts := []otelgrpc.Option{otelgrpc.WithFilter(filters.Not(filters.HealthCheck()))}
	if p != nil {
		opts = append(opts, otelgrpc.WithTracerProvider(p.TracerProvider), otelgrpc.WithPropagators(p.Propagator))
	}
	return opts
}

func requestIDUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if v := metadata.ValueFromIncomingContext(ctx, RequestIDKey); len(v) > 0 && v[0] != "" {
		ctx = platformlog.WithRequestID(ctx, v[0])
	}
	return next(ctx, req)
}

func identityUnary(ids *verifiedIdentities) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		if info.FullMethod == healthpb.Health_Check_FullMethodName {
			return next(ctx, req)
		}
		v := metadata.ValueFromIncomingContext(ctx, authn.MetadataKey)
		if len(v) == 0 {
			return nil, status.Error(codes.Unauthenticated, "missing internal identity")
		}
		id, err := ids.Verify(v[0])
		if err != nil {
			return nil, status.Error(codes.Unauthenticated, "invalid internal identity")
		}
		return next(authn.WithIdentity(ctx, id), req)
	}
}
