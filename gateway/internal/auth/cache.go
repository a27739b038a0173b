package auth

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"
)

// cacheShards spreads the verified-token cache over several locks so that concurrent
// requests on different tokens rarely wait for each other.
const cacheShards = 32

// tokenKey is the SHA-256 of a token: the cache never holds the token itself.
type tokenKey [sha256.Size]byte

// tokenCache remembers verified tokens until they expire, bounded in size.
type tokenCache struct {
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu      sync.RWMutex
	entries map[tokenKey]*Session
}

func newTokenCache(maxEntries int) *tokenCache {
	c := &tokenCache{perShard: max(maxEntries/cacheShards, 1)}
	for i := range c.shards {
		c.shards[i].entries = make(map[tokenKey]*Session)
	}
	return c
}

func (c *tokenCache) shard(k tokenKey) *cacheShard { return &c.shards[k[0]%cacheShards] }

// get returns the session of a verified token that has not expired at now.
func (c *tokenCache) get(k tokenKey, now time.Time) (*Session, bool) {
	s := c.shard(k)
	s.mu.RLock()
	sess, ok := s.entries[k]
	s.mu.RUnlock()
	if !ok || !now.Before(sess.Expires) {
		return nil, false
	}
	return sess, true
}

// put stores a session. A full shard first drops its expired entries; if it is still
// full, it drops arbitrary ones (map order), since any entry can be verified again.
func (c *tokenCache) put(k tokenKey, sess *Session, now time.Time) {
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) >= c.perShard {
		for key, e := range s.entries {
			if !now.Before(e.Expires) {
				delete(s.entries, key)
			}
		}
		for key := range s.entries {
			if len(s.entries) < c.perShard {
				break
			}
			delete(s.entries, key)
		}
	}
	s.entries[k] = sess
}

func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		c.shards[i].mu.RLock()
		n += len(c.shards[i].entries)
		c.shards[i].mu.RUnlock()
	}
	return n
}

// signedIdentity is an internal identity header and when it was signed.
type signedIdentity struct {
	header   string
	signedAt time.Time
}

// identityCache holds one session's signed identity so that it is signed again only when
// it is about to expire, not on every request.
type identityCache struct {
	p atomic.Pointer[signedIdentity]
}
