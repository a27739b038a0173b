package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/convene/convene/chats-svc/internal/domain"
)

// RelayParams configures an EventRelay; zero durations take the defaults.
type RelayParams struct {
	Outbox    domain.Outbox
	Publisher domain.EventPublisher
	Log       *slog.Logger
	// PollInterval bounds how long an event recorded by another instance waits before this
	// relay notices it (default 1s).
	PollInterval time.Duration
	// Lease is how long a claimed event is left to the relay that claimed it before
	// another may retry it; it must exceed a publish call's deadline (default 15s).
	Lease time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed delivery, which doubles per
	// attempt (defaults 250ms and 30s).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
}

// EventRelay delivers the outbox's events to messages-svc, oldest first, retrying until
// each is delivered. Delivery is at least once: an event whose publish succeeded but whose
// deletion failed is sent again, and frames carry an event_id for clients to drop repeats.
//
// Events go strictly in order, one at a time, even across instances (every relay takes
// the oldest event, and waits when it is not due): a member_removed must never overtake
// the member_added before it. A failing event therefore holds back the ones after it, which
// all go to the same messages-svc anyway.
type EventRelay struct {
	p    RelayParams
	wake chan struct{}
}

// NewEventRelay returns a relay; Run starts it.
func NewEventRelay(p RelayParams) *EventRelay {
	if p.PollInterval <= 0 {
		p.PollInterval = time.Second
	}
	if p.Lease <= 0 {
		p.Lease = 15 * time.Second
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = 250 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 30 * time.Second
	}
	p.MaxBackoff = max(p.MaxBackoff, p.MinBackoff)
	if p.Now == nil {
		p.Now = time.Now
	}
	return &EventRelay{p: p, wake: make(chan struct{}, 1)}
}

// Wake tells the relay that events were recorded; it never blocks.
func (r *EventRelay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run delivers events until ctx ends.
func (r *EventRelay) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait, err := r.deliverNext(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.p.Log.Error("event relay: outbox unavailable", "err", err)
			wait = r.p.PollInterval
		}
		if wait <= 0 {
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// deliverNext delivers the oldest event if it is due and says how long to wait before
// looking again (0: at once).
func (r *EventRelay) deliverNext(ctx context.Context) (time.Duration, error) {
	ev, err := r.p.Outbox.OldestEvent(ctx)
	if errors.Is(err, domain.ErrNoEvent) {
		return r.p.PollInterval, nil
	}
	if err != nil {
		return 0, err
	}
	now := r.p.Now()
	if due := ev.NextAttemptAt.Sub(now); due > 0 {
		return min(due, r.p.PollInterval), nil
	}
	claimed, err := r.p.Outbox.ClaimEvent(ctx, ev, now.Add(r.p.Lease))
	if err != nil || !claimed {
		return 0, err
	}
	attempt := ev.Attempts + 1
	pubErr := r.p.Publisher.Publish(ctx, ev.UserIDs, ev.Frame)

	// The bookkeeping outlives a shutdown that cancelled ctx: an event delivered just
	// before it must not be delivered again.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	switch {
	case pubErr == nil:
		return 0, r.p.Outbox.DeleteEvent(bctx, ev.ID)
	case errors.Is(pubErr, domain.ErrEventRejected):
		r.p.Log.Error("event relay: event rejected, dropped", "event_id", ev.ID, "attempt", attempt, "err", pubErr)
		return 0, r.p.Outbox.DeleteEvent(bctx, ev.ID)
	default:
		backoff := r.backoff(attempt)
		r.p.Log.Warn("event relay: delivery failed, will retry", "event_id", ev.ID, "attempt", attempt, "retry_in", backoff.String(), "err", pubErr)
		if err := r.p.Outbox.RescheduleEvent(bctx, ev.ID, now.Add(backoff)); err != nil {
			return 0, err
		}
		return backoff, nil
	}
}

// backoff doubles from MinBackoff with each attempt, up to MaxBackoff.
func (r *EventRelay) backoff(attempt int) time.Duration {
	d := r.p.MinBackoff
	for i := 1; i < attempt && d < r.p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.p.MaxBackoff)
}
