package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/convene/convene/platform/logging"
	"github.com/convene/convene/platform/tracing"
)

// TestEngineTracingAndAccessLog sends requests through NewEngineWith and reads the access
// log line and the exported spans of each.
func TestEngineTracingAndAccessLog(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	tp, err := tracing.New(context.Background(), tracing.Params{Service: "teams-svc", Exporter: exporter, SampleRatio: 1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	var logs bytes.Buffer
	log, _ := logging.New(&logs, "teams-svc", "t1", "json", "info")
	health := NewHealth(nil)
	r := NewEngineWith(EngineParams{Log: log, Health: health, MaxBody: 1 << 10, Tracing: tp})
	r.GET("/api/v1/teams/:team_id", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{}) })

	const parentTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	cases := []struct {
		name      string
		path      string
		draining  bool
		wantLevel string
		wantSpan  string
		// wantTrace is the trace_id of the log line ("" for none).
		wantTrace string
	}{
		{"API request continues the caller's trace", "/api/v1/teams/t-1?access_token=secret-value", false, "INFO", "GET /api/v1/teams/:team_id", parentTrace},
		{"unknown route is traced too", "/api/v1/nope", false, "INFO", "GET", parentTrace},
		{"successful probe: debug, untraced", "/readyz", false, "", "", ""},
		{"failing probe: warned, untraced", "/readyz", true, "WARN", "", ""},
		{"metrics scrape: debug, untraced", "/metrics", false, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			exporter.Reset()
			if tc.draining {
				health.SetDraining()
			}
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			req.Header.Set("Traceparent", "00-"+parentTrace+"-00f067aa0ba902b7-01")
			r.ServeHTTP(httptest.NewRecorder(), req)
			require.NoError(t, tp.ForceFlush(context.Background()))

			spans := exporter.GetSpans()
			if tc.wantSpan == "" {
				require.Empty(t, spans)
			} else {
				require.Len(t, spans, 1)
				require.Equal(t, tc.wantSpan, spans[0].Name)
				require.Equal(t, parentTrace, spans[0].SpanContext.TraceID().String())
			}
			if tc.wantLevel == "" {
				require.Empty(t, logs.String(), "nothing at info level")
				return
			}
			var line map[string]any
			require.NoError(t, json.Unmarshal(logs.Bytes(), &line))
			require.Equal(t, tc.wantLevel, line["level"])
			require.NotEmpty(t, line["request_id"])
			require.NotContains(t, logs.String(), "secret-value")
			if tc.wantTrace != "" {
				require.Equal(t, tc.wantTrace, line["trace_id"])
				require.Equal(t, spans[0].SpanContext.SpanID().String(), line["span_id"])
			} else {
				require.Nil(t, line["trace_id"])
			}
		})
	}
}

// TestNewEngineUsesTheProcessProvider checks that NewEngine, which existing services
// call, traces through whatever provider the process installed.
func TestNewEngineUsesTheProcessProvider(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	tp, err := tracing.New(context.Background(), tracing.Params{Service: "users-svc", Exporter: exporter, SampleRatio: 1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tp.Install()
	var logs bytes.Buffer
	log, _ := logging.New(&logs, "users-svc", "u1", "json", "info")
	r := NewEngine(log, NewHealth(nil), 1<<10)
	r.GET("/api/v1/users/me", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v1/users/me", nil))
	require.NoError(t, tp.ForceFlush(context.Background()))
	spans := exporter.GetSpans()
	require.Len(t, spans, 1)
	var line map[string]any
	require.NoError(t, json.Unmarshal(logs.Bytes(), &line))
	require.Equal(t, spans[0].SpanContext.TraceID().String(), line["trace_id"])
}

// BenchmarkEngine measures a request through the services' middleware chain (access log
// to a discarded writer) with the tracing of a process whose export is off (the default)
// and on.
func BenchmarkEngine(b *testing.B) {
	off, err := tracing.New(context.Background(), tracing.Params{Service: "teams-svc"})
	require.NoError(b, err)
	on, err := tracing.New(context.Background(), tracing.Params{Service: "teams-svc", Exporter: tracetest.NewNoopExporter(), SampleRatio: 1})
	require.NoError(b, err)
	b.Cleanup(func() { _ = on.Shutdown(context.Background()) })
	for _, tc := range []struct {
		name string
		tp   *tracing.Provider
	}{{"export-off", off}, {"export-on", on}} {
		b.Run(tc.name, func(b *testing.B) {
			log, _ := logging.New(io.Discard, "teams-svc", "t1", "json", "info")
			r := NewEngineWith(EngineParams{Log: log, Health: NewHealth(nil), MaxBody: 1 << 10, Tracing: tc.tp})
			r.GET("/api/v1/teams/:team_id", func(c *gin.Context) { c.Status(http.StatusNoContent) })
			req := httptest.NewRequest(http.MethodGet, "/api/v1/teams/t-1", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				r.ServeHTTP(w, req)
			}
		})
	}
}
