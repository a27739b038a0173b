package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

func TestRequestIDOnEveryLine(t *testing.T) {
	var buf bytes.Buffer
	l, lv := New(&buf, "users-svc", "u1", "json", "info")
	ctx := WithRequestID(context.Background(), "req-42")
	l.InfoContext(ctx, "hello")
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	require.Equal(t, "req-42", line["request_id"])
	require.Equal(t, "users-svc", line["service"])

	buf.Reset()
	l.DebugContext(ctx, "hidden")
	require.Empty(t, buf.String())
	lv.Set(slog.LevelDebug)
	l.DebugContext(ctx, "shown")
	require.Contains(t, buf.String(), "shown")
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "WARN": slog.LevelWarn, "error": slog.LevelError, "bogus": slog.LevelInfo, "": slog.LevelInfo} {
		require.Equal(t, want, ParseLevel(in), in)
	}
}

func TestTraceContextOnLines(t *testing.T) {
	traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	spanID, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	valid := trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: spanID})
	cases := []struct {
		name      string
		ctx       context.Context
		wantTrace any
		wantSpan  any
	}{
		{"span in context", trace.ContextWithSpanContext(context.Background(), valid), traceID.String(), spanID.String()},
		{"remote parent only", trace.ContextWithRemoteSpanContext(context.Background(), valid), traceID.String(), spanID.String()},
		{"no span", context.Background(), nil, nil},
		{"invalid span context", trace.ContextWithSpanContext(context.Background(), trace.SpanContext{}), nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			l, _ := New(&buf, "teams-svc", "t1", "json", "info")
			l.With("k", "v").InfoContext(WithRequestID(tc.ctx, "req-7"), "hello")
			var line map[string]any
			require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
			require.Equal(t, tc.wantTrace, line["trace_id"])
			require.Equal(t, tc.wantSpan, line["span_id"])
			require.Equal(t, "req-7", line["request_id"])
			require.Equal(t, "v", line["k"])
		})
	}
}
