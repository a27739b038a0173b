package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/convene/convene/platform/cache"
	"github.com/convene/convene/teams-svc/internal/domain"
)

// MembershipReader is what CachedMemberships reads on a miss.
type MembershipReader interface {
	Membership(ctx context.Context, teamID, userID string) (domain.Membership, error)
	AllMembers(ctx context.Context, teamID string) ([]domain.Membership, error)
}

// CacheParams configure CachedMemberships; zero values take the defaults.
type CacheParams struct {
	Repo  MembershipReader
	Cache cache.Cache
	Log   *slog.Logger
	// TTL bounds how long an answer is served without the database (default 30s). It
	// also bounds staleness in the rare cases invalidation cannot reach the cache (Redis
	// down during a change, a crash between commit and invalidation).
	TTL time.Duration
	// NegativeTTL applies to "not a member" answers (default 10s).
	NegativeTTL time.Duration
	// OpTimeout bounds each cache operation (default 200ms), so that a hanging Redis
	// slows requests by that much at most.
	OpTimeout time.Duration
	// Cooldown is how long reads skip the cache after it failed (default 2s), so that a
	// Redis outage costs one failed call per cooldown rather than one per request.
	Cooldown time.Duration
	// SecondForget is when Forget deletes the keys again (default 1s): a reader that
	// read the database just before the change committed may store its stale answer just
	// after the first delete; the second one removes it.
	SecondForget time.Duration
}

// CachedMemberships implements domain.MembershipLookup: answers come from the cache
// (Redis, shared by every instance) and fall back to the database on a miss or when the
// cache fails. Every membership change calls Forget after its commit.
type CachedMemberships struct {
	p         CacheParams
	skipUntil atomic.Int64 // unix nanoseconds
	single    cacheCounters
	list      cacheCounters
}

type cacheCounters struct{ hit, miss, fail, bypass func() }

func countersFor(name string) cacheCounters {
	c := func(result string) func() { m := cacheRequests.WithLabelValues(name, result); return m.Inc }
	return cacheCounters{hit: c("hit"), miss: c("miss"), fail: c("error"), bypass: c("bypass")}
}

// NewCachedMemberships returns the cached lookup.
func NewCachedMemberships(p CacheParams) *CachedMemberships {
	if p.TTL <= 0 {
		p.TTL = 30 * time.Second
	}
	if p.NegativeTTL <= 0 {
		p.NegativeTTL = 10 * time.Second
	}
	if p.OpTimeout <= 0 {
		p.OpTimeout = 200 * time.Millisecond
	}
	if p.Cooldown <= 0 {
		p.Cooldown = 2 * time.Second
	}
	if p.SecondForget <= 0 {
		p.SecondForget = time.Second
	}
	return &CachedMemberships{p: p, single: countersFor("membership"), list: countersFor("members")}
}

var _ domain.MembershipLookup = (*CachedMemberships)(nil)

// cachedMembership is the cached answer to "is user in team": Member=false is cached too.
type cachedMembership struct {
	Member   bool      `json:"m"`
	ID       string    `json:"id,omitempty"`
	Role     string    `json:"r,omitempty"`
	JoinedAt time.Time `json:"j,omitzero"`
}

func membershipKey(teamID, userID string) string {
	return "teams:v1:membership:" + teamID + ":" + userID
}
func membersKey(teamID string) string { return "teams:v1:members:" + teamID }

// Membership implements domain.MembershipLookup.
func (c *CachedMemberships) Membership(ctx context.Context, teamID, userID string) (domain.Membership, error) {
	key := membershipKey(teamID, userID)
	var v cachedMembership
	if c.get(ctx, key, &v, c.single) {
		if !v.Member {
			return domain.Membership{}, domain.ErrNotMember
		}
		return domain.Membership{ID: v.ID, TeamID: teamID, UserID: userID, Role: domain.Role(v.Role), JoinedAt: v.JoinedAt}, nil
	}
	m, err := c.p.Repo.Membership(ctx, teamID, userID)
	switch {
	case err == nil:
		c.set(ctx, key, cachedMembership{Member: true, ID: m.ID, Role: string(m.Role), JoinedAt: m.JoinedAt}, c.p.TTL)
	case errors.Is(err, domain.ErrNotMember):
		c.set(ctx, key, cachedMembership{}, c.p.NegativeTTL)
	}
	return m, err
}

type cachedMember struct {
	ID       string    `json:"id"`
	UserID   string    `json:"u"`
	Role     string    `json:"r"`
	JoinedAt time.Time `json:"j"`
}

// AllMembers implements domain.MembershipLookup.
func (c *CachedMemberships) AllMembers(ctx context.Context, teamID string) ([]domain.Membership, error) {
	key := membersKey(teamID)
	var v []cachedMember
	if c.get(ctx, key, &v, c.list) {
		out := make([]domain.Membership, len(v))
		for i, m := range v {
			out[i] = domain.Membership{ID: m.ID, TeamID: teamID, UserID: m.UserID, Role: domain.Role(m.Role), JoinedAt: m.JoinedAt}
		}
		return out, nil
	}
	members, err := c.p.Repo.AllMembers(ctx, teamID)
	if err != nil {
		return nil, err
	}
	v = make([]cachedMember, len(members))
	for i, m := range members {
		v[i] = cachedMember{ID: m.ID, UserID: m.UserID, Role: string(m.Role), JoinedAt: m.JoinedAt}
	}
	c.set(ctx, key, v, c.p.TTL)
	return members, nil
}

// Forget implements domain.MembershipLookup. It always tries, even while reads skip the
// cache, because a missed invalidation is what makes a cache wrong.
func (c *CachedMemberships) Forget(ctx context.Context, teamID string, userIDs ...string) {
	keys := make([]string, 0, len(userIDs)+1)
	keys = append(keys, membersKey(teamID))
	for _, u := range userIDs {
		keys = append(keys, membershipKey(teamID, u))
	}
	ctx = context.WithoutCancel(ctx)
	c.delete(ctx, teamID, keys)
	time.AfterFunc(c.p.SecondForget, func() { c.delete(ctx, teamID, keys) })
}

func (c *CachedMemberships) delete(ctx context.Context, teamID string, keys []string) {
	ctx, cancel := context.WithTimeout(ctx, c.p.OpTimeout)
	defer cancel()
	if err := c.p.Cache.Delete(ctx, keys...); err != nil {
		c.trip()
		c.p.Log.WarnContext(ctx, "membership cache invalidation failed; entries expire by TTL", "team", teamID, "keys", len(keys), "err", err)
	}
}

func (c *CachedMemberships) get(ctx context.Context, key string, dst any, n cacheCounters) bool {
	if time.Now().UnixNano() < c.skipUntil.Load() {
		n.bypass()
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, c.p.OpTimeout)
	defer cancel()
	raw, err := c.p.Cache.Get(ctx, key)
	switch {
	case err == nil && json.Unmarshal(raw, dst) == nil:
		n.hit()
		return true
	case err == nil || errors.Is(err, cache.ErrMiss):
		n.miss()
	default:
		n.fail()
		c.trip()
		c.p.Log.WarnContext(ctx, "membership cache read failed; using the database", "err", err)
	}
	return false
}

func (c *CachedMemberships) set(ctx context.Context, key string, v any, ttl time.Duration) {
	if time.Now().UnixNano() < c.skipUntil.Load() {
		return
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, c.p.OpTimeout)
	defer cancel()
	if err := c.p.Cache.Set(ctx, key, raw, ttl); err != nil {
		c.trip()
	}
}

func (c *CachedMemberships) trip() { c.skipUntil.Store(time.Now().Add(c.p.Cooldown).UnixNano()) }
