package grpcx

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/convene/convene/platform/tracing"
)

// tracerName names the tracer of the lean path's (never recorded) spans.
const tracerName = "github.com/convene/convene/platform/grpcx"

// traceSetup is how a server or client handles trace context. When the provider records
// nothing (export off, the default), otelgrpc's stats handler would still run for every
// event of every call (tagging, attributes, message events) only to hand its spans to a
// sampler that drops them; the lean interceptors keep what such spans are for here — the
// caller's trace ID on every log line and a traceparent on every outgoing call — and
// nothing else.
type traceSetup struct {
	lean       bool
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

// newTraceSetup resolves p (nil: the process-wide provider and propagator, as installed
// by tracing.Provider.Install before the server or client is built).
func newTraceSetup(p *tracing.Provider) traceSetup {
	if p != nil {
		return traceSetup{lean: !p.Exporting(), tracer: p.Tracer(tracerName), propagator: p.Propagator}
	}
	tp := otel.GetTracerProvider()
	return traceSetup{lean: !records(tp), tracer: tp.Tracer(tracerName), propagator: otel.GetTextMapPropagator()}
}

// records reports whether tp records any span: it starts one under a sampled parent, which
// every sampler that records anything at all (a ratio, parent-based or always-on) keeps.
func records(tp trace.TracerProvider) bool {
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	_, span := tp.Tracer(tracerName).Start(trace.ContextWithRemoteSpanContext(context.Background(), parent), "grpcx.probe")
	defer span.End()
	return span.IsRecording()
}

// incomingCarrier reads the trace headers straight from the incoming metadata, without
// metadata.FromIncomingContext's copy of the whole map.
type incomingCarrier struct{ ctx context.Context }

func (c incomingCarrier) Get(key string) string {
	if v := metadata.ValueFromIncomingContext(c.ctx, key); len(v) > 0 {
		return v[0]
	}
	return ""
}
func (incomingCarrier) Set(string, string) {}
func (incomingCarrier) Keys() []string     { return nil }

// outgoingCarrier collects the headers a propagator writes, as metadata pairs.
type outgoingCarrier struct{ pairs *[]string }

func (outgoingCarrier) Get(string) string { return "" }
func (c outgoingCarrier) Set(k, v string) { *c.pairs = append(*c.pairs, k, v) }
func (outgoingCarrier) Keys() []string    { return nil }

// serverSpan continues the caller's trace: the span it starts is never recorded, it gives
// the call's log lines the caller's trace ID.
func (t traceSetup) serverSpan(ctx context.Context, method string) (context.Context, trace.Span) {
	ctx = t.propagator.Extract(ctx, incomingCarrier{ctx})
	return t.tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer))
}

func (t traceSetup) unaryServer(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if info.FullMethod == healthpb.Health_Check_FullMethodName {
		return next(ctx, req)
	}
	ctx, span := t.serverSpan(ctx, info.FullMethod)
	defer span.End()
	return next(ctx, req)
}

func (t traceSetup) streamServer(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	ctx, span := t.serverSpan(ss.Context(), info.FullMethod)
	defer span.End()
	return next(srv, &contextStream{ServerStream: ss, ctx: ctx})
}

// contextStream is a server stream with a derived context.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }

// clientSpan starts the outgoing call's span and appends its traceparent to pairs.
func (t traceSetup) clientSpan(ctx context.Context, method string, pairs *[]string) (context.Context, trace.Span) {
	ctx, span := t.tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindClient))
	t.propagator.Inject(ctx, outgoingCarrier{pairs})
	return ctx, span
}
