package auth

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// RevocationStore shares revoked token ids between gateway instances (Redis).
type RevocationStore interface {
	// Save records jti as revoked until exp and notifies the other instances.
	Save(ctx context.Context, jti string, exp time.Time) error
	// Load returns every revoked jti that has not expired.
	Load(ctx context.Context) (map[string]time.Time, error)
	// Subscribe calls subscribed once it listens, then fn for every jti an instance
	// revokes, until ctx ends or the subscription fails.
	Subscribe(ctx context.Context, fn func(jti string, exp time.Time), subscribed func()) error
}

// Revocations is the set of revoked access-token ids, held in memory so that checking it
// costs no network round trip; with a store, it is shared by every gateway instance.
type Revocations struct {
	store RevocationStore
	log   *slog.Logger
	// Resync is how often the whole set is reloaded from the store, to recover notices
	// lost while the subscription was reconnecting (pub/sub is at most once).
	resync time.Duration

	mu   sync.RWMutex
	jtis map[string]time.Time
}

// NewRevocations returns an empty set; store may be nil (one gateway, memory only).
func NewRevocations(store RevocationStore, log *slog.Logger) *Revocations {
	return &Revocations{store: store, log: log, resync: 30 * time.Second, jtis: map[string]time.Time{}}
}

// IsRevoked reports whether jti is revoked; entries past their token's expiry no longer
// matter, since the token is refused as expired anyway.
func (r *Revocations) IsRevoked(jti string, now time.Time) bool {
	r.mu.RLock()
	exp, ok := r.jtis[jti]
	r.mu.RUnlock()
	return ok && now.Before(exp)
}

// Revoke records jti until exp, locally at once and then in the store.
func (r *Revocations) Revoke(ctx context.Context, jti string, exp time.Time) error {
	r.add(jti, exp)
	if r.store == nil {
		return nil
	}
	return r.store.Save(ctx, jti, exp)
}

func (r *Revocations) add(jti string, exp time.Time) {
	r.mu.Lock()
	r.jtis[jti] = exp
	r.mu.Unlock()
}

// Start follows the store (when there is one) and forgets expired entries until ctx ends.
// It returns once the subscription is live and the set loaded (or after a short wait
// when the store is unreachable), so that a gateway starts with every revocation known.
func (r *Revocations) Start(ctx context.Context) {
	if r.store != nil {
		ready := make(chan struct{}, 1)
		go r.follow(ctx, ready)
		select {
		case <-ready:
		case <-time.After(2 * time.Second):
			r.log.Warn("revocation store not reachable yet; following it in the background")
		case <-ctx.Done():
		}
	}
	go r.maintain(ctx)
}

// follow keeps a subscription to the store open. Each time it is (re)established the
// whole set is loaded again, which covers the notices sent while it was down.
func (r *Revocations) follow(ctx context.Context, ready chan<- struct{}) {
	for ctx.Err() == nil {
		err := r.store.Subscribe(ctx, r.add, func() {
			r.reload(ctx)
			select {
			case ready <- struct{}{}:
			default:
			}
		})
		if err != nil && ctx.Err() == nil {
			r.log.Warn("revocation subscription failed", "err", err)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
		}
	}
}

// maintain drops expired entries and, with a store, reloads the set now and then: the
// subscription may have lost notices without noticing (pub/sub is at most once).
func (r *Revocations) maintain(ctx context.Context) {
	t := time.NewTicker(r.resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.sweep(time.Now())
			if r.store != nil {
				r.reload(ctx)
			}
		}
	}
}

func (r *Revocations) reload(ctx context.Context) {
	all, err := r.store.Load(ctx)
	if err != nil {
		r.log.Warn("loading revoked tokens failed", "err", err)
		return
	}
	r.mu.Lock()
	for jti, exp := range all {
		r.jtis[jti] = exp
	}
	r.mu.Unlock()
}

func (r *Revocations) sweep(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for jti, exp := range r.jtis {
		if !now.Before(exp) {
			delete(r.jtis, jti)
		}
	}
}
