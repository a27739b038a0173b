package adapters

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/messages-svc/internal/domain"
	chatsv1 "github.com/convene/convene/proto/chats/v1"
)

// maxActivityBatch is the most chats.v1 RecordActivity takes in one call.
const maxActivityBatch = 1000

// ActivityReporterParams configures an ActivityReporter; zero values take the defaults.
type ActivityReporterParams struct {
	Chats chatsv1.ChatsServiceClient
	Log   *slog.Logger
	// FlushInterval is how long a report may wait to be batched (default 200ms).
	FlushInterval time.Duration
	// MaxBatch flushes at once when that many chats wait (default 500).
	MaxBatch int
	// MinBackoff and MaxBackoff bound the wait after a failed flush, which doubles per
	// failure in a row (defaults 200ms and 10s).
	MinBackoff time.Duration
	MaxBackoff time.Duration
}

// ActivityReporter is domain.ActivityRecorder over chats.v1 RecordActivity. Reports are
// coalesced per chat (only the latest time of each is sent) and flushed every
// FlushInterval or as soon as MaxBatch chats wait, off the send path. A failed flush keeps
// its reports and is retried with backoff; chats-svc only ever moves a chat's activity
// forward, so a batch that arrives late, twice or after a newer one changes nothing wrong.
type ActivityReporter struct {
	p ActivityReporterParams

	mu      sync.Mutex
	pending map[string]time.Time
	// full is signalled when MaxBatch chats wait.
	full chan struct{}
}

// NewActivityReporter returns a reporter; Run flushes its reports.
func NewActivityReporter(p ActivityReporterParams) *ActivityReporter {
	if p.FlushInterval <= 0 {
		p.FlushInterval = 200 * time.Millisecond
	}
	if p.MaxBatch <= 0 || p.MaxBatch > maxActivityBatch {
		p.MaxBatch = 500
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = 200 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 10 * time.Second
	}
	p.MaxBackoff = max(p.MaxBackoff, p.MinBackoff)
	return &ActivityReporter{p: p, pending: map[string]time.Time{}, full: make(chan struct{}, 1)}
}

var _ domain.ActivityRecorder = (*ActivityReporter)(nil)

// RecordActivity implements domain.ActivityRecorder; it never blocks on the network.
func (r *ActivityReporter) RecordActivity(chatID string, at time.Time) {
	r.mu.Lock()
	r.merge(chatID, at)
	n := len(r.pending)
	r.mu.Unlock()
	if n >= r.p.MaxBatch {
		select {
		case r.full <- struct{}{}:
		default:
		}
	}
}

// merge keeps the later of at and what waits for chatID; r.mu is held.
func (r *ActivityReporter) merge(chatID string, at time.Time) {
	if cur, ok := r.pending[chatID]; !ok || at.After(cur) {
		r.pending[chatID] = at
	}
}

// Run flushes until ctx ends, then flushes what is left once, within shutdownTimeout.
func (r *ActivityReporter) Run(ctx context.Context) {
	const shutdownTimeout = 3 * time.Second
	tick := time.NewTicker(r.p.FlushInterval)
	defer tick.Stop()
	var retryAt time.Time
	failures := 0
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
			defer cancel()
			if err := r.flush(fctx); err != nil {
				r.p.Log.Warn("activity: last reports lost at shutdown; chats keep their older order until their next message", "err", err)
			}
			return
		case <-tick.C:
		case <-r.full:
		}
		if time.Now().Before(retryAt) {
			continue
		}
		if err := r.flush(ctx); err != nil {
			failures++
			backoff := r.backoff(failures)
			retryAt = time.Now().Add(backoff)
			r.p.Log.Warn("activity: report to chats-svc failed, will retry", "failures", failures, "retry_in", backoff.String(), "err", err)
			continue
		}
		failures, retryAt = 0, time.Time{}
	}
}

// flush sends what waits, MaxBatch chats per call, until nothing does or a call fails.
func (r *ActivityReporter) flush(ctx context.Context) error {
	for {
		batch := r.take()
		if len(batch) == 0 {
			return nil
		}
		req := &chatsv1.RecordActivityRequest{Activities: make([]*chatsv1.ChatActivity, 0, len(batch))}
		for id, at := range batch {
			req.Activities = append(req.Activities, &chatsv1.ChatActivity{ChatId: id, LastActivityAt: at.UTC().Format(time.RFC3339Nano)})
		}
		_, err := r.p.Chats.RecordActivity(ctx, req)
		switch {
		case err == nil:
		case status.Code(err) == codes.InvalidArgument:
			// chats-svc will never take this batch; sending it again cannot help.
			r.p.Log.Error("activity: batch refused by chats-svc, dropped", "chats", len(batch), "err", err)
		default:
			r.putBack(batch)
			return err
		}
	}
}

// take removes up to MaxBatch waiting reports.
func (r *ActivityReporter) take() map[string]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) <= r.p.MaxBatch {
		batch := r.pending
		r.pending = map[string]time.Time{}
		return batch
	}
	batch := make(map[string]time.Time, r.p.MaxBatch)
	for id, at := range r.pending {
		if len(batch) == r.p.MaxBatch {
			break
		}
		batch[id] = at
		delete(r.pending, id)
	}
	return batch
}

// putBack returns a failed batch to the waiting reports, keeping newer ones that arrived
// meanwhile.
func (r *ActivityReporter) putBack(batch map[string]time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, at := range batch {
		r.merge(id, at)
	}
}

// backoff doubles from MinBackoff with each failure in a row, up to MaxBackoff.
func (r *ActivityReporter) backoff(failures int) time.Duration {
	d := r.p.MinBackoff
	for i := 1; i < failures && d < r.p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.p.MaxBackoff)
}
