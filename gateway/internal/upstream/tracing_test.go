package upstream

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/convene/convene/platform/tracing"
)

// traceEcho is a backend that answers the trace headers it received.
func traceEcho(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Got-Traceparent", r.Header.Get("Traceparent"))
		w.Header().Set("Got-Tracestate", r.Header.Get("Tracestate"))
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTraceHeaders(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	backend := traceEcho(t)
	resolver := staticResolver(map[string]string{"SVC_HTTP_ADDRS": strings.TrimPrefix(backend.URL, "http://")})
	const clientTrace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

	cases := []struct {
		name      string
		exporting bool
		wantFlags string
	}{
		{"tracing off: IDs still propagated, nothing sampled", false, "00"},
		{"tracing on: sampled", true, "01"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			exporter := tracetest.NewInMemoryExporter()
			params := tracing.Params{Service: "gateway", SampleRatio: 1}
			if tc.exporting {
				params.Exporter = exporter
			}
			tp, err := tracing.New(ctx, params)
			require.NoError(t, err)
			t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			b := NewBalancer(ctx, resolver, []string{"svc"}, EjectionParams{})
			srv := front(t, NewProxy(ProxyParams{Balancer: b, Tracing: tp}), "svc")

			req, err := http.NewRequest(http.MethodGet, srv.URL+"/x", nil)
			require.NoError(t, err)
			req.Header.Set("Traceparent", clientTrace)
			req.Header.Set("Tracestate", "vendor=client-chosen")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)

			got := resp.Header.Get("Got-Traceparent")
			parts := strings.Split(got, "-")
			require.Len(t, parts, 4, "a W3C traceparent reaches the service: %q", got)
			require.NotEqual(t, "0af7651916cd43dd8448eb211c80319c", parts[1], "the client's trace is not continued")
			require.Equal(t, tc.wantFlags, parts[3])
			require.Empty(t, resp.Header.Get("Got-Tracestate"), "the client's tracestate is dropped")

			require.NoError(t, tp.ForceFlush(ctx))
			spans := exporter.GetSpans()
			if !tc.exporting {
				require.Empty(t, spans)
				return
			}
			require.Len(t, spans, 1)
			require.Equal(t, trace.SpanKindClient, spans[0].SpanKind)
			require.Equal(t, parts[1], spans[0].SpanContext.TraceID().String())
			require.Equal(t, parts[2], spans[0].SpanContext.SpanID().String(), "the service's parent is the proxy span")
		})
	}
}

// BenchmarkServe measures the proxy's cost per request over loopback, with tracing through
// the process-wide default (no-op), a never-sampled provider (export off) and an exporting
// one. Allocation counts are the stable figure; times depend on the machine's load.
func BenchmarkServe(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	backend := traceEcho(b)
	resolver := staticResolver(map[string]string{"SVC_HTTP_ADDRS": strings.TrimPrefix(backend.URL, "http://")})
	off, err := tracing.New(ctx, tracing.Params{Service: "gateway"})
	require.NoError(b, err)
	on, err := tracing.New(ctx, tracing.Params{Service: "gateway", SampleRatio: 1, Exporter: tracetest.NewNoopExporter()})
	require.NoError(b, err)
	defer on.Shutdown(ctx)
	cases := []struct {
		name string
		tp   *tracing.Provider
	}{
		{"noop-global", nil},
		{"export-off", off},
		{"export-on", on},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			p := NewProxy(ProxyParams{Balancer: NewBalancer(ctx, resolver, []string{"svc"}, EjectionParams{}), Tracing: tc.tp})
			defer p.Close()
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, "/x", nil)
				if err := p.Serve(w, r, Outbound{Service: "svc", RequestID: "r1"}); err != nil {
					b.Fatal(err)
				}
				clear(w.h)
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so that the benchmark counts the
// proxy's allocations rather than a recorder's.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
