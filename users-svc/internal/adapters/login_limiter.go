package adapters

import (
	"context"
	"sync/atomic"

	"github.com/convene/convene/platform/ratelimit"
	"github.com/convene/convene/users-svc/internal/domain"
)

// LoginLimiter bounds login attempts per account with the platform limiter (Redis when
// configured, so that the bound holds across instances). It complements the gateway's
// per-IP limit: it stops guessing one account's password from many addresses.
type LoginLimiter struct {
	limiter   ratelimit.Limiter
	perMinute atomic.Int64
}

// NewLoginLimiter allows perMinute attempts per key; 0 turns the limit off.
func NewLoginLimiter(l ratelimit.Limiter, perMinute int) *LoginLimiter {
	ll := &LoginLimiter{limiter: l}
	ll.perMinute.Store(int64(perMinute))
	return ll
}

// SetPerMinute changes the limit while the process runs (live config).
func (l *LoginLimiter) SetPerMinute(n int) { l.perMinute.Store(int64(n)) }

// Allow implements domain.AttemptLimiter.
func (l *LoginLimiter) Allow(ctx context.Context, key string) error {
	n := int(l.perMinute.Load())
	if n <= 0 {
		return nil
	}
	res, err := l.limiter.Allow(ctx, key, ratelimit.PerMinute(n))
	if err != nil {
		return err
	}
	if !res.Allowed {
		return &domain.RateLimitedError{RetryAfter: res.RetryAfter}
	}
	return nil
}
