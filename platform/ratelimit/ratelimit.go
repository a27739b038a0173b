// Package ratelimit limits how often a key (an IP, a user) may do something: GCRA in Redis
// (go-redis/redis_rate) so that the limit holds across instances, or token buckets in
// process (golang.org/x/time/rate) for the embedded setup.
package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Limit allows Rate events per Period with bursts of up to Burst.
type Limit struct {
	Rate   int
	Burst  int
	Period time.Duration
}

// PerMinute allows n events a minute with bursts of n.
func PerMinute(n int) Limit { return Limit{Rate: n, Burst: n, Period: time.Minute} }

// PerSecond allows n events a second with bursts of burst.
func PerSecond(n, burst int) Limit { return Limit{Rate: n, Burst: burst, Period: time.Second} }

// Result says whether the event is allowed and, if not, when to retry.
type Result struct {
	Allowed    bool
	RetryAfter time.Duration
}

// Limiter decides for one key at a time.
type Limiter interface {
	Allow(ctx context.Context, key string, l Limit) (Result, error)
}

// Redis is a Limiter shared by every instance through Redis.
type Redis struct{ l *redis_rate.Limiter }

// NewRedis wraps a Redis client.
func NewRedis(rdb redis.UniversalClient) *Redis { return &Redis{l: redis_rate.NewLimiter(rdb)} }

// Allow implements Limiter.
func (r *Redis) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	res, err := r.l.Allow(ctx, "ratelimit:"+key, redis_rate.Limit{Rate: l.Rate, Burst: l.Burst, Period: l.Period})
	if err != nil {
		return Result{}, err
	}
	return Result{Allowed: res.Allowed > 0, RetryAfter: max(res.RetryAfter, 0)}, nil
}

// Memory is an in-process Limiter. Idle keys are forgotten after a while so that memory
// stays bounded by the number of recently active keys.
type Memory struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	now     func() time.Time
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	conf Limit
	seen time.Time
}

// NewMemory returns an empty in-process limiter.
func NewMemory() *Memory {
	return &Memory{buckets: map[string]*bucket{}, now: time.Now}
}

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, key string, l Limit) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if now.Sub(m.swept) > time.Minute {
		for k, b := range m.buckets {
			if now.Sub(b.seen) > 2*b.conf.Period+time.Minute {
				delete(m.buckets, k)
			}
		}
		m.swept = now
	}
	b, ok := m.buckets[key]
	if !ok || b.conf != l {
		every := l.Period / time.Duration(max(l.Rate, 1))
		b = &bucket{lim: rate.NewLimiter(rate.Every(every), max(l.Burst, 1)), conf: l}
		m.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return Result{Allowed: false, RetryAfter: d}, nil
	}
	return Result{Allowed: true}, nil
}
