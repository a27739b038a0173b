package ports

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/convene/convene/platform/tracing"
)

func TestTraceRequests(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	tp, err := tracing.New(context.Background(), tracing.Params{Service: "gateway", Exporter: exporter, SampleRatio: 1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	var seen trace.SpanContext
	r.Use(traceRequests(tp))
	r.NoRoute(func(c *gin.Context) {
		seen = trace.SpanContextFromContext(c.Request.Context())
		nameProxySpan(c, "/api/v1/teams", "teams-svc")
		c.Status(http.StatusBadGateway)
	})
	r.GET("/readyz", func(c *gin.Context) {
		seen = trace.SpanContextFromContext(c.Request.Context())
		c.Status(http.StatusOK)
	})

	cases := []struct {
		name     string
		path     string
		wantSpan string
	}{
		{"proxied request: a root span named after the route", "/api/v1/teams/t1/posts", "GET /api/v1/teams"},
		{"probe: no span", "/readyz", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			exporter.Reset()
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			req.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
			r.ServeHTTP(httptest.NewRecorder(), req)
			require.NoError(t, tp.ForceFlush(context.Background()))
			spans := exporter.GetSpans()
			if tc.wantSpan == "" {
				require.Empty(t, spans)
				require.False(t, seen.IsValid())
				return
			}
			require.Len(t, spans, 1)
			s := spans[0]
			require.Equal(t, tc.wantSpan, s.Name)
			require.Equal(t, trace.SpanKindServer, s.SpanKind)
			require.False(t, s.Parent.IsValid(), "the client's traceparent is not continued")
			require.Equal(t, s.SpanContext.SpanID(), seen.SpanID(), "the handler runs in the span")
			require.Equal(t, "Error", s.Status.Code.String())
		})
	}
}

// BenchmarkTraceRequests compares the gateway's server-span middleware with otelgin, with
// export off (the default): the reason the gateway does not use otelgin.
func BenchmarkTraceRequests(b *testing.B) {
	tp, err := tracing.New(context.Background(), tracing.Params{Service: "gateway"})
	require.NoError(b, err)
	cases := []struct {
		name string
		mw   gin.HandlerFunc
	}{
		{"none", func(c *gin.Context) { c.Next() }},
		{"traceRequests", traceRequests(tp)},
		{"otelgin", otelgin.Middleware("", otelgin.WithTracerProvider(tp), otelgin.WithPropagators(tp.Propagator))},
	}
	gin.SetMode(gin.ReleaseMode)
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			r := gin.New()
			r.Use(tc.mw)
			r.NoRoute(func(c *gin.Context) { c.Status(http.StatusNoContent) })
			req := httptest.NewRequest(http.MethodGet, "/api/v1/teams", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				r.ServeHTTP(w, req)
			}
		})
	}
}
