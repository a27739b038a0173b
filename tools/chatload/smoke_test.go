package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// logWriter forwards the tool's progress lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestSmoke runs the smoke size against a stack of its own (gateway, users-svc, chats-svc
// and two messages-svc instances on Postgres, Redis and a Consul agent of its own) and
// fails on any lost or duplicated delivery. It is part of `make test`.
func TestSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := smokeParams(Params{Prefix: "smoke", Concurrency: 8})
	st, err := startStack(ctx, &p, 2, logWriter{t})
	require.NoError(t, err)
	defer st.Stop()

	rep, err := Run(ctx, p, logWriter{t})
	require.NoError(t, err)
	t.Log("\n" + rep.String())
	require.NoError(t, rep.smokeErr())
	require.Equal(t, rep.Persisted*int64(p.ChatSize), rep.Deliveries, "every acknowledged message reached all members of its chat")
}
