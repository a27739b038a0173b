// Package tracing sets up OpenTelemetry tracing for one process: a TracerProvider that
// names the process (service.name, service.instance.id), W3C trace-context propagation,
// and OTLP export when an endpoint is configured.
//
// With export off (the default) the provider still hands out real trace and span IDs but
// samples nothing: no span is recorded, buffered or exported, so the cost per span is two
// random numbers and one small allocation. That keeps a trace_id on every log line and a
// traceparent on every call between processes even without a collector, so that one
// request's lines can be found across services in any log store; a no-op provider would
// save those few nanoseconds and lose the correlation.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Protocols the OTLP exporter speaks.
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// ErrProtocol is returned for an OTLP protocol other than ProtocolHTTP and ProtocolGRPC.
var ErrProtocol = errors.New("tracing: unknown OTLP protocol")

// Params configures a process's tracing.
type Params struct {
	// Service and Instance name the process in every span (service.name, service.instance.id).
	Service  string
	Instance string
	// Endpoint is the OTLP collector's URL (e.g. "http://otel-collector:4318"); empty
	// turns export off unless Exporter is set.
	Endpoint string
	// Protocol is ProtocolHTTP (default) or ProtocolGRPC.
	Protocol string
	// SampleRatio is the share of new traces recorded when export is on, from 0 (none)
	// to 1 (all); a trace that arrives with a parent keeps the parent's decision.
	SampleRatio float64
	// Exporter replaces the OTLP exporter and turns export on (tests use
	// tracetest.InMemoryExporter).
	Exporter sdktrace.SpanExporter
}

// Provider is a process's tracer provider with its propagator.
type Provider struct {
	trace.TracerProvider
	// Propagator reads and writes W3C traceparent/tracestate headers.
	Propagator propagation.TextMapPropagator
	sdk        *sdktrace.TracerProvider
	exporting  bool
}

// New builds the provider for p. It never dials: the exporter connects lazily and drops
// spans (with a log line from the SDK) while the collector is unreachable.
func New(ctx context.Context, p Params) (*Provider, error) {
	res := resource.NewSchemaless(
		attribute.String("service.name", p.Service),
		attribute.String("service.instance.id", p.Instance),
	)
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	exporter := p.Exporter
	if exporter == nil && p.Endpoint != "" {
		var err error
		if exporter, err = otlpExporter(ctx, p.Endpoint, p.Protocol); err != nil {
			return nil, err
		}
	}
	if exporter == nil {
		opts = append(opts, sdktrace.WithSampler(sdktrace.NeverSample()))
	} else {
		opts = append(opts,
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(p.SampleRatio))),
			sdktrace.WithBatcher(exporter),
		)
	}
	sdk := sdktrace.NewTracerProvider(opts...)
	return &Provider{
		TracerProvider: sdk,
		Propagator:     propagation.TraceContext{},
		sdk:            sdk,
		exporting:      exporter != nil,
	}, nil
}

// Exporting reports whether spans are recorded and exported.
func (p *Provider) Exporting() bool { return p.exporting }

// Install makes p the process-wide provider and propagator, which instrumentation uses
// when it is not handed one explicitly (httpx.NewEngine, grpcx.NewServer, grpcx.Dial).
func (p *Provider) Install() {
	otel.SetTracerProvider(p.TracerProvider)
	otel.SetTextMapPropagator(p.Propagator)
}

// ForceFlush exports every finished span now.
func (p *Provider) ForceFlush(ctx context.Context) error { return p.sdk.ForceFlush(ctx) }

// Shutdown exports the spans still buffered (bounded by ctx) and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error { return p.sdk.Shutdown(ctx) }

// otlpExporter builds the OTLP exporter for endpoint. The exporters also read the other
// standard OTEL_EXPORTER_OTLP_* variables (headers, certificates, timeout, compression).
func otlpExporter(ctx context.Context, endpoint, protocol string) (sdktrace.SpanExporter, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("tracing: OTLP endpoint %q is not a URL like http://collector:4318", endpoint)
	}
	switch protocol {
	case "", ProtocolHTTP:
		// Like OTEL_EXPORTER_OTLP_ENDPOINT, a bare base URL means the collector's standard
		// traces path.
		if strings.Trim(u.Path, "/") == "" {
			u.Path = "/v1/traces"
		}
		return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(u.String()))
	case ProtocolGRPC:
		return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(u.String()))
	default:
		return nil, fmt.Errorf("%w %q", ErrProtocol, protocol)
	}
}
