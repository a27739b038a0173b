package adapters

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	chatsv1 "github.com/convene/convene/proto/chats/v1"
)

// fakeActivity stands in for chats-svc's RecordActivity: it fails while err is set and
// keeps, like chats-svc, the latest time of each chat.
type fakeActivity struct {
	chatsv1.ChatsServiceClient
	mu      sync.Mutex
	err     error
	calls   int
	batches []int
	latest  map[string]time.Time
}

func (f *fakeActivity) RecordActivity(_ context.Context, req *chatsv1.RecordActivityRequest, _ ...grpc.CallOption) (*chatsv1.RecordActivityResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	f.batches = append(f.batches, len(req.GetActivities()))
	for _, a := range req.GetActivities() {
		at, err := time.Parse(time.RFC3339Nano, a.GetLastActivityAt())
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, "bad time")
		}
		if at.After(f.latest[a.GetChatId()]) {
			f.latest[a.GetChatId()] = at
		}
	}
	return &chatsv1.RecordActivityResponse{}, nil
}

func (f *fakeActivity) snapshot() (map[string]time.Time, []int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]time.Time, len(f.latest))
	for k, v := range f.latest {
		out[k] = v
	}
	return out, append([]int(nil), f.batches...), f.calls
}

func (f *fakeActivity) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func startReporter(t *testing.T, p ActivityReporterParams) (*ActivityReporter, func()) {
	t.Helper()
	p.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	r := NewActivityReporter(p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return r, stop
}

func TestActivityReporter(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

	t.Run("coalesces per chat and keeps the latest", func(t *testing.T) {
		chats := &fakeActivity{latest: map[string]time.Time{}}
		// No tick during the test: the reports all wait for the flush at shutdown.
		r, stop := startReporter(t, ActivityReporterParams{Chats: chats, FlushInterval: time.Hour})
		for i := range 100 {
			r.RecordActivity("a", base.Add(time.Duration(i)*time.Millisecond))
		}
		r.RecordActivity("a", base) // older, reported late
		r.RecordActivity("b", base)
		stop()
		latest, batches, _ := chats.snapshot()
		require.Equal(t, base.Add(99*time.Millisecond), latest["a"])
		require.Equal(t, base, latest["b"])
		require.Equal(t, []int{2}, batches, "101 reports of two chats are one call of two")
	})

	t.Run("a full batch goes at once", func(t *testing.T) {
		chats := &fakeActivity{latest: map[string]time.Time{}}
		// An interval beyond the test's patience: only the batch size explains a flush.
		r, _ := startReporter(t, ActivityReporterParams{Chats: chats, FlushInterval: time.Hour, MaxBatch: 10})
		for i := range 25 {
			r.RecordActivity(string(rune('A'+i)), base)
		}
		require.Eventually(t, func() bool { _, b, _ := chats.snapshot(); return len(b) >= 2 }, 5*time.Second, time.Millisecond)
		_, batches, _ := chats.snapshot()
		for _, n := range batches {
			require.LessOrEqual(t, n, 10)
		}
	})

	t.Run("failures are retried without losing reports", func(t *testing.T) {
		chats := &fakeActivity{latest: map[string]time.Time{}}
		chats.fail(status.Error(codes.Unavailable, "chats-svc down"))
		r, _ := startReporter(t, ActivityReporterParams{Chats: chats, FlushInterval: 5 * time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
		r.RecordActivity("a", base)
		require.Eventually(t, func() bool { _, _, calls := chats.snapshot(); return calls >= 3 }, 5*time.Second, time.Millisecond)
		r.RecordActivity("a", base.Add(time.Second)) // newer, while the older waits for a retry
		chats.fail(nil)
		require.Eventually(t, func() bool { l, _, _ := chats.snapshot(); return l["a"].Equal(base.Add(time.Second)) }, 5*time.Second, time.Millisecond)
	})

	t.Run("a refused batch is dropped, not retried", func(t *testing.T) {
		chats := &fakeActivity{latest: map[string]time.Time{}}
		chats.fail(status.Error(codes.InvalidArgument, "never"))
		r, _ := startReporter(t, ActivityReporterParams{Chats: chats, FlushInterval: 5 * time.Millisecond})
		r.RecordActivity("a", base)
		require.Eventually(t, func() bool { _, _, calls := chats.snapshot(); return calls == 1 }, 5*time.Second, time.Millisecond)
		require.Never(t, func() bool { _, _, calls := chats.snapshot(); return calls > 1 }, 100*time.Millisecond, 5*time.Millisecond)
	})

	t.Run("reports go out every interval", func(t *testing.T) {
		chats := &fakeActivity{latest: map[string]time.Time{}}
		r, _ := startReporter(t, ActivityReporterParams{Chats: chats, FlushInterval: 5 * time.Millisecond})
		r.RecordActivity("a", base)
		require.Eventually(t, func() bool { l, _, _ := chats.snapshot(); return l["a"].Equal(base) }, 5*time.Second, time.Millisecond)
	})
}
