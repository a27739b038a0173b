// Package cache is a small key-value cache with expiry: Redis when configured (shared by
// every instance), in-process otherwise. Callers treat it as best effort: an error means
// "ask the database", never a failed request.
package cache

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrMiss is returned by Get when the key is absent or expired.
var ErrMiss = errors.New("cache: miss")

// Cache stores byte values under string keys.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, keys ...string) error
}

// Redis is a Cache in a Redis server.
type Redis struct{ rdb redis.UniversalClient }

// NewRedis wraps a Redis client.
func NewRedis(rdb redis.UniversalClient) *Redis { return &Redis{rdb: rdb} }

// Get implements Cache.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := r.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrMiss
	}
	return v, err
}

// Set implements Cache.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return r.rdb.Set(ctx, key, value, ttl).Err()
}

// Delete implements Cache.
func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	return r.rdb.Del(ctx, keys...).Err()
}

// Memory is an in-process Cache for the embedded setup (one instance per service).
type Memory struct {
	mu      sync.Mutex
	entries map[string]memEntry
	now     func() time.Time
}

type memEntry struct {
	value   []byte
	expires time.Time
}

// maxMemoryEntries bounds the in-process cache; past it, expired entries are swept and,
// if still full, the map is reset (a cache may forget).
const maxMemoryEntries = 100_000

// NewMemory returns an empty in-process cache.
func NewMemory() *Memory { return &Memory{entries: map[string]memEntry{}, now: time.Now} }

// Get implements Cache.
func (m *Memory) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || (!e.expires.IsZero() && m.now().After(e.expires)) {
		delete(m.entries, key)
		return nil, ErrMiss
	}
	return append([]byte(nil), e.value...), nil
}

// Set implements Cache.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) >= maxMemoryEntries {
		now := m.now()
		for k, e := range m.entries {
			if !e.expires.IsZero() && now.After(e.expires) {
				delete(m.entries, k)
			}
		}
		if len(m.entries) >= maxMemoryEntries {
			m.entries = map[string]memEntry{}
		}
	}
	var exp time.Time
	if ttl > 0 {
		exp = m.now().Add(ttl)
	}
	m.entries[key] = memEntry{value: append([]byte(nil), value...), expires: exp}
	return nil
}

// Delete implements Cache.
func (m *Memory) Delete(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.entries, k)
	}
	return nil
}
