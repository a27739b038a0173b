package adapters

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// maxCachedChats bounds the membership cache; past it, expired entries are swept and, if it
// is still full, everything is forgotten (a cache may forget).
const maxCachedChats = 100_000

// CachedMembership is domain.Membership with each chat's member list kept in this process
// for a short TTL: every send, edit, read and typing notice checks membership, and asking
// chats-svc each time costs a gRPC round trip (and chats-svc a Redis one). Forget drops a
// chat when its members change; the TTL bounds how long a lost invalidation (the bus is at
// most once) can leave a stale list.
type CachedMembership struct {
	next domain.Membership
	ttl  time.Duration
	now  func() time.Time
	// loads shares one chats-svc call among the concurrent misses of a chat.
	loads singleflight.Group

	mu      sync.Mutex
	entries map[string]cachedMembers
	// version counts Forget calls: a load that overlapped one may have read the old list,
	// so it is returned to its callers but not kept.
	version uint64
}

type cachedMembers struct {
	members []string
	expires time.Time
}

// NewCachedMembership caches next's member lists for ttl.
func NewCachedMembership(next domain.Membership, ttl time.Duration) *CachedMembership {
	return &CachedMembership{next: next, ttl: ttl, now: time.Now, entries: map[string]cachedMembers{}}
}

var _ domain.Membership = (*CachedMembership)(nil)

// Members implements domain.Membership. The list is shared with other callers: it must not
// be modified.
func (c *CachedMembership) Members(ctx context.Context, chatID string) ([]string, error) {
	c.mu.Lock()
	e, ok := c.entries[chatID]
	version := c.version
	c.mu.Unlock()
	if ok && c.now().Before(e.expires) {
		return e.members, nil
	}
	// The key carries the version, so that a caller arriving after a Forget never joins a
	// load that started before it.
	v, err, _ := c.loads.Do(chatID+"@"+strconv.FormatUint(version, 10), func() (any, error) {
		// A caller that missed just before another load of the same version finished
		// arrives here after it: it takes that load's answer rather than a second call.
		if members, ok := c.fresh(chatID, version); ok {
			return members, nil
		}
		// Shared by every waiting caller: one caller going away must not fail the others.
		members, err := c.next.Members(context.WithoutCancel(ctx), chatID)
		if err != nil {
			return nil, err
		}
		c.store(chatID, members, version)
		return members, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]string), nil
}

// IsMember implements domain.Membership from the cached member list.
func (c *CachedMembership) IsMember(ctx context.Context, chatID, userID string) (bool, error) {
	members, err := c.Members(ctx, chatID)
	if err != nil {
		return false, err
	}
	return slices.Contains(members, userID), nil
}

// UserChats implements domain.Membership; it is asked once per socket, and not cached.
func (c *CachedMembership) UserChats(ctx context.Context, userID string) ([]string, error) {
	return c.next.UserChats(ctx, userID)
}

// Forget drops what is cached of chatID's members.
func (c *CachedMembership) Forget(chatID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, chatID)
	c.version++
}

// fresh returns chatID's cached members if they are unexpired and no Forget came since
// version.
func (c *CachedMembership) fresh(chatID string, version uint64) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[chatID]
	if !ok || c.version != version || !c.now().Before(e.expires) {
		return nil, false
	}
	return e.members, true
}

func (c *CachedMembership) store(chatID string, members []string, version uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != version {
		return
	}
	now := c.now()
	if len(c.entries) >= maxCachedChats {
		for id, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, id)
			}
		}
		if len(c.entries) >= maxCachedChats {
			c.entries = map[string]cachedMembers{}
		}
	}
	c.entries[chatID] = cachedMembers{members: members, expires: now.Add(c.ttl)}
}
