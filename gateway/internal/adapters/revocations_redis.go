// Package adapters connects the gateway's auth to Redis.
package adapters

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	revokedKeyPrefix = "gateway:revoked:"
	revokedChannel   = "gateway:revoked"
)

// RedisRevocations keeps revoked access-token ids in Redis: one key per jti expiring with
// the token, plus a pub/sub notice so that other gateways add it to their memory at once.
type RedisRevocations struct{ rdb *redis.Client }

// NewRedisRevocations wraps a Redis client.
func NewRedisRevocations(rdb *redis.Client) *RedisRevocations { return &RedisRevocations{rdb: rdb} }

// Save implements auth.RevocationStore.
func (s *RedisRevocations) Save(ctx context.Context, jti string, exp time.Time) error {
	unix := strconv.FormatInt(exp.Unix(), 10)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, revokedKeyPrefix+jti, unix, 0)
		p.ExpireAt(ctx, revokedKeyPrefix+jti, exp)
		p.Publish(ctx, revokedChannel, unix+" "+jti)
		return nil
	})
	if err != nil {
		return fmt.Errorf("save revocation: %w", err)
	}
	return nil
}

// Load implements auth.RevocationStore.
func (s *RedisRevocations) Load(ctx context.Context) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	iter := s.rdb.Scan(ctx, 0, revokedKeyPrefix+"*", 1000).Iterator()
	var keys []string
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		vals, err := s.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return err
		}
		for i, v := range vals {
			str, ok := v.(string)
			if !ok {
				continue // expired between SCAN and MGET
			}
			if unix, err := strconv.ParseInt(str, 10, 64); err == nil {
				out[strings.TrimPrefix(keys[i], revokedKeyPrefix)] = time.Unix(unix, 0)
			}
		}
		keys = keys[:0]
		return nil
	}
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 1000 {
			if err := flush(); err != nil {
				return nil, fmt.Errorf("load revocations: %w", err)
			}
		}
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("load revocations: %w", err)
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("load revocations: %w", err)
	}
	return out, nil
}

// Subscribe implements auth.RevocationStore.
func (s *RedisRevocations) Subscribe(ctx context.Context, fn func(jti string, exp time.Time), subscribed func()) error {
	ps := s.rdb.Subscribe(ctx, revokedChannel)
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		return fmt.Errorf("subscribe revocations: %w", err)
	}
	subscribed()
	ch := ps.Channel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-ch:
			if !ok {
				return fmt.Errorf("subscribe revocations: channel closed")
			}
			unixStr, jti, found := strings.Cut(m.Payload, " ")
			unix, err := strconv.ParseInt(unixStr, 10, 64)
			if !found || err != nil || jti == "" {
				continue
			}
			fn(jti, time.Unix(unix, 0))
		}
	}
}
