package adapters

import (
	"context"
	"log/slog"
	"time"

	"github.com/convene/convene/platform/cache"
	"github.com/convene/convene/platform/ratelimit"
	"github.com/convene/convene/teams-svc/internal/domain"
)

// JoinAttempts implements domain.JoinAttempts with the platform limiter (shared by every
// instance through Redis) and a "blocked" marker in the cache, which lets a blocked user
// be refused before the code is looked up. When Redis is down it fails open: a join code
// has ~2^59 values, so a few minutes without the limit do not make guessing practical.
type JoinAttempts struct {
	limiter ratelimit.Limiter
	cache   cache.Cache
	limit   ratelimit.Limit
	log     *slog.Logger
}

// NewJoinAttempts allows limit wrong codes per user.
func NewJoinAttempts(l ratelimit.Limiter, c cache.Cache, limit ratelimit.Limit, log *slog.Logger) *JoinAttempts {
	return &JoinAttempts{limiter: l, cache: c, limit: limit, log: log}
}

var _ domain.JoinAttempts = (*JoinAttempts)(nil)

// joinOpTimeout bounds each limiter or cache call on the join path.
const joinOpTimeout = 200 * time.Millisecond

func blockedKey(userID string) string { return "teams:v1:join-blocked:" + userID }

// Blocked implements domain.JoinAttempts.
func (j *JoinAttempts) Blocked(ctx context.Context, userID string) bool {
	ctx, cancel := context.WithTimeout(ctx, joinOpTimeout)
	defer cancel()
	_, err := j.cache.Get(ctx, blockedKey(userID))
	return err == nil
}

// Failed implements domain.JoinAttempts.
func (j *JoinAttempts) Failed(ctx context.Context, userID string) bool {
	ctx, cancel := context.WithTimeout(ctx, joinOpTimeout)
	defer cancel()
	res, err := j.limiter.Allow(ctx, "teams:join-fail:"+userID, j.limit)
	if err != nil {
		j.log.WarnContext(ctx, "join attempt limiter failed; not limiting", "err", err)
		return false
	}
	if res.Allowed {
		return false
	}
	if err := j.cache.Set(ctx, blockedKey(userID), []byte("1"), max(res.RetryAfter, time.Second)); err != nil {
		j.log.WarnContext(ctx, "join attempt block not stored", "err", err)
	}
	return true
}
