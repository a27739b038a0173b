package logbatch

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sink records each write it receives; while blocked it makes writes wait.
type sink struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	writes  int
	blocked chan struct{}
}

func (s *sink) Write(p []byte) (int, error) {
	if s.blocked != nil {
		<-s.blocked
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.buf.Write(p)
}

func (s *sink) snapshot() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String(), s.writes
}

func TestLinesArriveInOrderInFewWrites(t *testing.T) {
	out := &sink{}
	w := New(Params{Out: out, FlushEvery: time.Hour})
	var want strings.Builder
	for i := range 1000 {
		line := fmt.Sprintf("{\"n\":%d}\n", i)
		want.WriteString(line)
		_, err := w.Write([]byte(line))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	_, err := w.Write([]byte("after close\n"))
	require.NoError(t, err)
	got, writes := out.snapshot()
	require.Equal(t, want.String()+"after close\n", got, "nothing lost, nothing reordered, later lines written at once")
	require.Less(t, writes, 10, "batched")
	require.NoError(t, w.Close(), "closing twice is harmless")
}

func TestPendingLinesAreWrittenWithoutClose(t *testing.T) {
	cases := []struct {
		name   string
		params Params
		line   string
	}{
		{"after FlushEvery", Params{FlushEvery: 10 * time.Millisecond}, "short\n"},
		{"once FlushAt bytes are pending", Params{FlushEvery: time.Hour, FlushAt: 16}, "a line longer than sixteen bytes\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := &sink{}
			tc.params.Out = out
			w := New(tc.params)
			defer w.Close()
			_, err := w.Write([]byte(tc.line))
			require.NoError(t, err)
			require.Eventually(t, func() bool { got, _ := out.snapshot(); return got == tc.line }, 5*time.Second, time.Millisecond)
		})
	}
}

func TestSlowOutputNeverBlocksWriters(t *testing.T) {
	out := &sink{blocked: make(chan struct{})}
	w := New(Params{Out: out, FlushEvery: time.Millisecond, FlushAt: 1, MaxPending: 64})
	line := []byte(strings.Repeat("x", 31) + "\n")
	// The flusher takes the first line and blocks in Out; the next two fill MaxPending,
	// the rest are dropped, and no Write waits.
	_, err := w.Write(line)
	require.NoError(t, err)
	require.Eventually(t, func() bool { w.mu.Lock(); defer w.mu.Unlock(); return len(w.pending) == 0 }, 5*time.Second, time.Millisecond)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10 {
			_, _ = w.Write(line)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Write waited for a blocked output")
	}
	require.Equal(t, int64(8), w.Dropped())
	close(out.blocked)
	require.NoError(t, w.Close())
	got, _ := out.snapshot()
	require.Equal(t, 3, strings.Count(got, string(line)))
	require.Contains(t, got, `"dropped":8`, "the loss is reported in the log itself")
}
