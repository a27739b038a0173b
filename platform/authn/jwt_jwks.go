package authn

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// maxJWKSBytes bounds the JWKS document read from users-svc.
const maxJWKSBytes = 1 << 20

// JWKSCacheParams configures a JWKSCache.
type JWKSCacheParams struct {
	// URL returns where the JWKS is now (discovery may move users-svc between fetches).
	URL func(ctx context.Context) (string, error)
	// Client fetches the document; a client with a 5 s timeout when nil.
	Client *http.Client
	// MinRefetch bounds how often unknown kids may trigger a fetch, so that tokens with
	// made-up kids cannot turn into a flood of requests to users-svc (default 5 s).
	MinRefetch time.Duration
	// RetryAfterFailure is the shorter bound used while no fetch has succeeded yet, so
	// that the gateway starts verifying soon after users-svc comes up (default 1 s).
	RetryAfterFailure time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// JWKSCache is a KeySource that holds the last JWKS fetched and fetches it again when a
// token names a kid it does not know (a rotated key), at most once per MinRefetch.
type JWKSCache struct {
	p JWKSCacheParams

	mu   sync.RWMutex
	keys map[string]ed25519.PublicKey

	// fetchMu serialises fetches; lastTry and lastOK are guarded by it.
	fetchMu sync.Mutex
	lastTry time.Time
	lastOK  bool
}

// NewJWKSCache returns an empty cache; the first token verified triggers the first fetch.
func NewJWKSCache(p JWKSCacheParams) *JWKSCache {
	if p.Client == nil {
		p.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if p.MinRefetch <= 0 {
		p.MinRefetch = 5 * time.Second
	}
	if p.RetryAfterFailure <= 0 {
		p.RetryAfterFailure = time.Second
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return &JWKSCache{p: p, keys: map[string]ed25519.PublicKey{}}
}

// PublicKey implements KeySource.
func (c *JWKSCache) PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	if k, ok := c.lookup(kid); ok {
		return k, nil
	}
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	// Another caller may have fetched while this one waited for the lock.
	if k, ok := c.lookup(kid); ok {
		return k, nil
	}
	wait := c.p.MinRefetch
	if !c.lastOK {
		wait = c.p.RetryAfterFailure
	}
	if now := c.p.Now(); !c.lastTry.IsZero() && now.Sub(c.lastTry) < wait {
		return nil, ErrUnknownKey
	}
	c.lastTry = c.p.Now()
	if err := c.Refresh(ctx); err != nil {
		c.lastOK = false
		return nil, fmt.Errorf("%w: %w", ErrUnknownKey, err)
	}
	c.lastOK = true
	if k, ok := c.lookup(kid); ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

func (c *JWKSCache) lookup(kid string) (ed25519.PublicKey, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	k, ok := c.keys[kid]
	return k, ok
}

// Refresh fetches the JWKS now and replaces the cached keys with it, so that keys users-svc
// retired stop verifying.
func (c *JWKSCache) Refresh(ctx context.Context) error {
	url, err := c.p.URL(ctx)
	if err != nil {
		return fmt.Errorf("jwks: locate: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	resp, err := c.p.Client.Do(req)
	if err != nil {
		return fmt.Errorf("jwks: fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("jwks: fetch: status %d", resp.StatusCode)
	}
	var set JWKS
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKSBytes)).Decode(&set); err != nil {
		return fmt.Errorf("jwks: decode: %w", err)
	}
	keys := set.Ed25519Keys()
	if len(keys) == 0 {
		return fmt.Errorf("jwks: no Ed25519 signing key in the set")
	}
	c.mu.Lock()
	c.keys = keys
	c.mu.Unlock()
	return nil
}
