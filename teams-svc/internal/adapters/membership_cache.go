package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/convene/convene/platform/bus"
	"github.com/convene/convene/platform/cache"
	"github.com/convene/convene/teams-svc/internal/domain"
)

// MembershipReader is what CachedMemberships reads on a miss.
type MembershipReader interface {
	Membership(ctx context.Context, teamID, userID string) (domain.Membership, error)
	AllMembers(ctx context.Context, teamID string) ([]domain.Membership, error)
}

// MembershipChangedTopic carries the id of a team whose membership changed, so that every
// instance drops its in-process answers about it.
const MembershipChangedTopic = "teams:membership-changed"

// CacheParams configure CachedMemberships; zero values take the defaults.
type CacheParams struct {
	Repo  MembershipReader
	Cache cache.Cache
	// Bus carries invalidations between instances (MembershipChangedTopic).
	Bus bus.Bus
	Log *slog.Logger
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
	// L1TTL is how long an answer is served from this instance's memory without asking
	// the shared cache (default 2s): it bounds staleness when an invalidation from another
	// instance is lost.
	L1TTL time.Duration
	// L1Size bounds the number of in-memory answers (default 10000).
	L1Size int
}

// CachedMemberships implements domain.MembershipLookup: answers come from a short-lived
// in-process L1, then from the cache (Redis, shared by every instance), and fall back to
// the database on a miss or when the cache fails. Every membership change calls Forget
// after its commit; Forget tells the other instances over the bus, which Listen receives.
type CachedMemberships struct {
	p         CacheParams
	l1        *l1
	skipUntil atomic.Int64 // unix nanoseconds
	single    cacheCounters
	list      cacheCounters
}

type cacheCounters struct{ l1Hit, hit, miss, fail, bypass func() }

func countersFor(name string) cacheCounters {
	c := func(result string) func() { m := cacheRequests.WithLabelValues(name, result); return m.Inc }
	return cacheCounters{l1Hit: c("l1_hit"), hit: c("hit"), miss: c("miss"), fail: c("error"), bypass: c("bypass")}
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
	if p.L1TTL <= 0 {
		p.L1TTL = 2 * time.Second
	}
	if p.L1Size <= 0 {
		p.L1Size = 10000
	}
	return &CachedMemberships{
		p: p, l1: newL1(p.L1Size, p.L1TTL), single: countersFor("membership"), list: countersFor("members"),
	}
}

// Listen subscribes to the other instances' invalidations and applies them until ctx
// ends. It returns once the first subscription attempt is done; when that fails (Redis
// down at start), it retries every Cooldown in the background, and meanwhile L1TTL bounds
// what this instance can miss.
func (c *CachedMemberships) Listen(ctx context.Context) {
	sub, err := c.subscribe(ctx)
	go func() {
		for err != nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(c.p.Cooldown):
			}
			sub, err = c.subscribe(ctx)
		}
		c.consume(ctx, sub)
	}()
}

func (c *CachedMemberships) subscribe(ctx context.Context) (bus.Subscription, error) {
	sctx, cancel := context.WithTimeout(ctx, c.p.OpTimeout)
	defer cancel()
	sub, err := c.p.Bus.Subscribe(sctx, MembershipChangedTopic)
	if err != nil {
		c.p.Log.WarnContext(ctx, "membership invalidations: subscribe failed; retrying", "err", err)
	}
	return sub, err
}

func (c *CachedMemberships) consume(ctx context.Context, sub bus.Subscription) {
	defer func() {
		_ = sub.Close()
		// Drain so that the bus's delivery goroutine is not left blocked on a send.
		for range sub.Messages() {
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.Messages():
			if !ok {
				return
			}
			c.l1.dropTeam(string(e.Payload))
		}
	}
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
	k := l1Key{team: teamID, user: userID}
	if e, ok := c.l1.get(k); ok {
		c.single.l1Hit()
		return e.answer()
	}
	token := c.l1.begin()
	m, err := c.sharedMembership(ctx, teamID, userID)
	switch {
	case err == nil:
		c.l1.store(token, k, l1Entry{membership: m, member: true})
	case errors.Is(err, domain.ErrNotMember):
		c.l1.store(token, k, l1Entry{})
	}
	return m, err
}

func (c *CachedMemberships) sharedMembership(ctx context.Context, teamID, userID string) (domain.Membership, error) {
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
	k := l1Key{team: teamID}
	if e, ok := c.l1.get(k); ok {
		c.list.l1Hit()
		return e.members(), nil
	}
	token := c.l1.begin()
	members, err := c.sharedMembers(ctx, teamID)
	if err != nil {
		return nil, err
	}
	c.l1.store(token, k, l1Entry{list: slices.Clone(members)})
	return members, nil
}

func (c *CachedMemberships) sharedMembers(ctx context.Context, teamID string) ([]domain.Membership, error) {
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
// cache, because a missed invalidation is what makes a cache wrong. This instance's L1 is
// clean when Forget returns; the other instances' within the pub/sub hop.
func (c *CachedMemberships) Forget(ctx context.Context, teamID string, userIDs ...string) {
	keys := make([]string, 0, len(userIDs)+1)
	keys = append(keys, membersKey(teamID))
	for _, u := range userIDs {
		keys = append(keys, membershipKey(teamID, u))
	}
	ctx = context.WithoutCancel(ctx)
	c.invalidate(ctx, teamID, keys)
	time.AfterFunc(c.p.SecondForget, func() { c.invalidate(ctx, teamID, keys) })
}

// invalidate clears the shared cache before the L1s: an L1 refilled in between would
// otherwise copy the stale shared entry. Fills already under way when the L1 is dropped
// are discarded by the epoch check in l1.store.
func (c *CachedMemberships) invalidate(ctx context.Context, teamID string, keys []string) {
	c.delete(ctx, teamID, keys)
	c.l1.dropTeam(teamID)
	pctx, cancel := context.WithTimeout(ctx, c.p.OpTimeout)
	defer cancel()
	if err := c.p.Bus.Publish(pctx, MembershipChangedTopic, []byte(teamID)); err != nil {
		c.p.Log.WarnContext(ctx, "membership invalidation not sent to other instances; their entries expire by L1 TTL", "team", teamID, "err", err)
	}
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
