package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
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
