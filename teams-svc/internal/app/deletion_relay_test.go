package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/convene/convene/teams-svc/internal/app"
	"github.com/convene/convene/teams-svc/internal/domain"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memOutbox is an in-memory domain.Outbox.
type memOutbox struct {
	mu     sync.Mutex
	events map[string]domain.OutboxEvent
	errors []string
}

func (o *memOutbox) Due(_ context.Context, now time.Time, limit int) ([]domain.OutboxEvent, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []domain.OutboxEvent
	for _, ev := range o.events {
		if !ev.NextAttemptAt.After(now) && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (o *memOutbox) Claim(_ context.Context, ev domain.OutboxEvent, until time.Time) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	cur, ok := o.events[ev.ID]
	if !ok || cur.Attempts != ev.Attempts {
		return false, nil
	}
	cur.Attempts++
	cur.NextAttemptAt = until
	o.events[ev.ID] = cur
	return true, nil
}

func (o *memOutbox) Delivered(_ context.Context, id string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.events, id)
	return nil
}

func (o *memOutbox) Retry(_ context.Context, id string, at time.Time, reason string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	ev := o.events[id]
	ev.NextAttemptAt = at
	o.events[id] = ev
	o.errors = append(o.errors, reason)
	return nil
}

func (o *memOutbox) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.events)
}

// flakyNotifier fails its first failures calls.
type flakyNotifier struct {
	mu       sync.Mutex
	failures int
	calls    []string
}

func (n *flakyNotifier) TeamDeleted(_ context.Context, teamID string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, teamID)
	if len(n.calls) <= n.failures {
		return errors.New("conference-svc unavailable")
	}
	return nil
}

func (n *flakyNotifier) callCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.calls)
}

func TestDeletionRelay(t *testing.T) {
	cases := []struct {
		name     string
		failures int
		events   int
	}{
		{"delivered at once", 0, 1},
		{"retried until acknowledged", 3, 1},
		{"many events", 0, 120},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := &memOutbox{events: map[string]domain.OutboxEvent{}}
			for range tc.events {
				ev := domain.NewTeamDeleted(domain.NewID(), time.Now().UTC())
				out.events[ev.ID] = ev
			}
			n := &flakyNotifier{failures: tc.failures}
			r := app.NewDeletionRelay(app.RelayParams{
				Outbox: out, Notifier: n, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Poll: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond,
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); r.Run(ctx) }()
			r.Wake()
			require.Eventually(t, func() bool { return out.pending() == 0 }, 5*time.Second, 5*time.Millisecond)
			cancel()
			<-done
			require.Equal(t, tc.events+tc.failures, n.callCount())
			require.Len(t, out.errors, tc.failures)
		})
	}
}
