package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/tools/confload/convene"
	"github.com/convene/convene/tools/confload/load"
)

// logWriter forwards the tool's progress lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestSmoke runs the load at smoke size — one room of three participants for a few seconds —
// against an embedded stack of its own, through the gateway like the real tool, and checks
// that media was forwarded to everyone with little loss and that every report field was
// measured. It is part of `make test`.
func TestSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	st, err := convene.StartStack(ctx, convene.StackParams{Logs: logWriter{t}})
	require.NoError(t, err)
	defer st.Stop()
	srv, err := convene.New(convene.Params{Gateway: st.Gateway, Pid: st.Pid})
	require.NoError(t, err)

	rep, err := load.Run(ctx, srv, load.Params{
		Rooms: 1, RoomSize: 3, Warmup: time.Second, Duration: 3 * time.Second,
		Progress: logWriter{t}, ProgressEvery: time.Second,
	})
	require.NoError(t, err)
	t.Log(rep.Line())

	require.Empty(t, rep.Incomplete, "every participant received every other one's audio and video")
	require.Equal(t, 3*2*2, rep.Streams)
	// Three publishers of ~50 audio + ~130 video packets/s, each reaching two subscribers.
	require.Greater(t, rep.ForwardedPPS, 600.0)
	require.Greater(t, rep.ForwardedMbps, 3.0)
	require.Less(t, rep.Loss, 0.02)
	require.Positive(t, rep.ServerCores)
	require.Positive(t, rep.CPUPerPacket)
	require.Positive(t, rep.PacketsPerCPUSecond)
	require.Positive(t, rep.P50)
	require.GreaterOrEqual(t, rep.P99, rep.P50)
	require.Equal(t, 2, rep.Joins, "everyone but the first participant times its join")
	require.Positive(t, rep.JoinMedian)
	require.GreaterOrEqual(t, rep.JoinP95, rep.JoinMedian)
	require.Positive(t, rep.LoadToolCores)
	require.NotEmpty(t, rep.LoadAvg)

	var table bytes.Buffer
	require.NoError(t, load.WriteTable(&table, []load.Report{rep}))
	require.Contains(t, table.String(), "| convene | 1×3 |")
}
