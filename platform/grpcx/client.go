package grpcx

import (
	"context"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/discovery"
	platformlog "github.com/convene/convene/platform/logging"
	"github.com/convene/convene/platform/tracing"
)

// DefaultCallTimeout bounds an outgoing call whose context has no deadline of its own.
const DefaultCallTimeout = 3 * time.Second

// ClientParams configures a connection to another service.
type ClientParams struct {
	// Service is the target's name in discovery, e.g. "users-svc".
	Service  string
	Resolver discovery.Resolver
	Signer   *authn.Signer
	// Caller is the name of the calling service; calls made without a user in the context
	// carry the identity ServicePrefix+Caller.
	Caller string
	// Timeout overrides DefaultCallTimeout.
	Timeout time.Duration
	// Tracing receives the client's spans; nil means the process-wide provider.
	Tracing *tracing.Provider
}

// Dial returns a client connection balanced round-robin over the healthy instances of the
// service, kept current by discovery. The connection is lazy: Dial never blocks. Every call
// is a client span whose traceparent goes along in the metadata.
func Dial(p ClientParams) (*grpc.ClientConn, error) {
	return dialWith(p)
}

// dialWith is Dial with extra options after the standard ones (tests dial in-memory).
func dialWith(p ClientParams, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	timeout := p.Timeout
	if timeout == 0 {
		timeout = DefaultCallTimeout
	}
	tr := newTraceSetup(p.Tracing)
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithResolvers(&resolverBuilder{resolver: p.Resolver}),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
		grpc.WithChainUnaryInterceptor(
			clientMetrics.UnaryClientInterceptor(),
			outgoingUnary(outgoingParams{ids: newSignedIdentities(p.Signer), caller: p.Caller, timeout: timeout, trace: tr}),
		),
	}
	if !tr.lean {
		opts = append(opts, grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelOptions(p.Tracing)...)))
	}
	return grpc.NewClient(scheme+":///"+p.Service, append(opts, extra...)...)
}

type outgoingParams struct {
	ids     *signedIdentities
	caller  string
	timeout time.Duration
	// trace, when lean, makes this interceptor the one that sends the traceparent.
	trace traceSetup
}

// outgoingUnary puts a deadline, the request ID, a signed identity and (when otelgrpc is
// not in use) the traceparent on every call, in one metadata append.
func outgoingUnary(p outgoingParams) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, p.timeout)
			defer cancel()
		}
		id, ok := authn.FromContext(ctx)
		if !ok {
			id = authn.Identity{UserID: authn.ServicePrefix + p.caller}
		}
		pairs := make([]string, 0, 8)
		pairs = append(pairs, authn.MetadataKey, p.ids.Sign(id))
		if rid := platformlog.RequestID(ctx); rid != "" {
			pairs = append(pairs, RequestIDKey, rid)
		}
		if p.trace.lean {
			var span trace.Span
			ctx, span = p.trace.clientSpan(ctx, method, &pairs)
			defer span.End()
		}
		ctx = metadata.AppendToOutgoingContext(ctx, pairs...)
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
