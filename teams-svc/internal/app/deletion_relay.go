package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// RelayParams configure a DeletionRelay; zero durations take the defaults.
type RelayParams struct {
	Outbox   domain.Outbox
	Notifier domain.TeamDeletionNotifier
	Log      *slog.Logger
	// Poll is how often the outbox is checked without a Wake (default 2s); it picks up
	// events left by a crashed instance and retries that became due.
	Poll time.Duration
	// MaxBackoff caps the wait between attempts on one event (default 1m).
	MaxBackoff time.Duration
	// Lease is how long a claimed event is left alone by other instances' relays
	// (default 30s); it must exceed the delivery call's deadline.
	Lease time.Duration
	// CallTimeout bounds one delivery call (default 5s).
	CallTimeout time.Duration
	Now         func() time.Time
}

// DeletionRelay delivers stored team-deletion events to conference-svc, retrying with
// backoff until they are acknowledged. Each instance runs one; claims keep two instances
// from sending the same event at once, and the receiver's idempotence makes the rare
// double delivery (a lease that ran out) harmless.
type DeletionRelay struct {
	p    RelayParams
	wake chan struct{}
}

// relayBatch bounds the events handled per pass.
const relayBatch = 50

// NewDeletionRelay returns a relay; Run starts it.
func NewDeletionRelay(p RelayParams) *DeletionRelay {
	if p.Poll <= 0 {
		p.Poll = 2 * time.Second
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = time.Minute
	}
	if p.CallTimeout <= 0 {
		p.CallTimeout = 5 * time.Second
	}
	if p.Lease <= p.CallTimeout {
		p.Lease = max(30*time.Second, 2*p.CallTimeout)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return &DeletionRelay{p: p, wake: make(chan struct{}, 1)}
}

// Wake makes the relay look at the outbox now; it never blocks.
func (r *DeletionRelay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run delivers events until ctx ends.
func (r *DeletionRelay) Run(ctx context.Context) {
	t := time.NewTicker(r.p.Poll)
	defer t.Stop()
	for {
		// A full batch means more may be due right away.
		for r.pass(ctx) == relayBatch && ctx.Err() == nil {
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.wake:
		}
	}
}

// pass delivers the events that are due and returns how many it claimed.
func (r *DeletionRelay) pass(ctx context.Context) int {
	due, err := r.p.Outbox.Due(ctx, r.now(), relayBatch)
	if err != nil {
		if ctx.Err() == nil {
			r.p.Log.Warn("outbox: listing due events failed", "err", err)
		}
		return 0
	}
	claimed := 0
	for _, ev := range due {
		if ctx.Err() != nil {
			break
		}
		if r.deliver(ctx, ev) {
			claimed++
		}
	}
	return claimed
}

// deliver makes one attempt at ev and reports whether this relay claimed it.
func (r *DeletionRelay) deliver(ctx context.Context, ev domain.OutboxEvent) bool {
	ok, err := r.p.Outbox.Claim(ctx, ev, r.now().Add(r.p.Lease))
	if err != nil {
		r.p.Log.Warn("outbox: claim failed", "event", ev.ID, "err", err)
		return false
	}
	if !ok {
		return false
	}
	attempt := ev.Attempts + 1
	callCtx, cancel := context.WithTimeout(ctx, r.p.CallTimeout)
	err = r.send(callCtx, ev)
	cancel()
	if err == nil {
		if err := r.p.Outbox.Delivered(ctx, ev.ID); err != nil {
			// The lease runs out and the event is sent again; the receiver is idempotent.
			r.p.Log.Warn("outbox: marking delivered failed", "event", ev.ID, "err", err)
			return true
		}
		r.p.Log.Info("outbox: delivered", "event", ev.ID, "topic", ev.Topic, "key", ev.Key, "attempts", attempt)
		return true
	}
	next := r.now().Add(r.backoff(attempt))
	r.p.Log.Warn("outbox: delivery failed; will retry", "event", ev.ID, "topic", ev.Topic, "key", ev.Key,
		"attempts", attempt, "retry_at", next, "err", err)
	if err := r.p.Outbox.Retry(context.WithoutCancel(ctx), ev.ID, next, err.Error()); err != nil {
		r.p.Log.Warn("outbox: scheduling retry failed", "event", ev.ID, "err", err)
	}
	return true
}

func (r *DeletionRelay) send(ctx context.Context, ev domain.OutboxEvent) error {
	switch ev.Topic {
	case domain.TopicTeamDeleted:
		return r.p.Notifier.TeamDeleted(ctx, ev.Key)
	default:
		return fmt.Errorf("unknown outbox topic %q", ev.Topic)
	}
}

// backoff doubles from half a second up to MaxBackoff.
func (r *DeletionRelay) backoff(attempt int) time.Duration {
	d := 500 * time.Millisecond
	for i := 1; i < attempt && d < r.p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.p.MaxBackoff)
}

func (r *DeletionRelay) now() time.Time { return r.p.Now().UTC().Truncate(time.Microsecond) }
