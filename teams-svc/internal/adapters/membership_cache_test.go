package adapters_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/bus"
	"github.com/convene/convene/platform/cache"
	"github.com/convene/convene/platform/testkit"
	"github.com/convene/convene/teams-svc/internal/adapters"
	"github.com/convene/convene/teams-svc/internal/domain"
)

// memberRepo is the database behind the cache: team → user → membership.
type memberRepo struct {
	mu    sync.Mutex
	teams map[string]map[string]domain.Membership
	calls atomic.Int64
}

func (r *memberRepo) Membership(_ context.Context, teamID, userID string) (domain.Membership, error) {
	r.calls.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	members, ok := r.teams[teamID]
	if !ok {
		return domain.Membership{}, domain.ErrNotFound
	}
	m, ok := members[userID]
	if !ok {
		return domain.Membership{}, domain.ErrNotMember
	}
	return m, nil
}

func (r *memberRepo) AllMembers(_ context.Context, teamID string) ([]domain.Membership, error) {
	r.calls.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	members, ok := r.teams[teamID]
	if !ok {
		return nil, domain.ErrNotFound
	}
	out := make([]domain.Membership, 0, len(members))
	for _, m := range members {
		out = append(out, m)
	}
	return out, nil
}

func (r *memberRepo) put(teamID, userID string, role domain.Role) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.teams[teamID] == nil {
		r.teams[teamID] = map[string]domain.Membership{}
	}
	r.teams[teamID][userID] = domain.Membership{
		ID: uuid.Must(uuid.NewV7()).String(), TeamID: teamID, UserID: userID, Role: role,
		JoinedAt: time.Now().UTC().Truncate(time.Second),
	}
}

func (r *memberRepo) remove(teamID, userID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.teams[teamID], userID)
}

// spyCache counts reads of the shared cache and can hold one read after it has its answer.
type spyCache struct {
	cache.Cache
	gets  atomic.Int64
	pause atomic.Pointer[gate]
}

type gate struct{ entered, release chan struct{} }

func (c *spyCache) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := c.Cache.Get(ctx, key)
	c.gets.Add(1)
	if g := c.pause.Swap(nil); g != nil {
		close(g.entered)
		<-g.release
	}
	return v, err
}

// cacheWorld is what the instances of teams-svc share: database, cache and bus.
type cacheWorld struct {
	repo  *memberRepo
	cache *spyCache
	bus   bus.Bus
	team  string
	alice string // admin
	bob   string // member
	carol string // not a member
}

// backends give every test both the embedded setup (in-process cache and bus) and Redis.
var backends = map[string]func(t *testing.T) (cache.Cache, bus.Bus){
	"memory": func(*testing.T) (cache.Cache, bus.Bus) { return cache.NewMemory(), bus.NewMemory() },
	"redis": func(t *testing.T) (cache.Cache, bus.Bus) {
		opt, err := redis.ParseURL(testkit.RequireRedis(t))
		require.NoError(t, err)
		rdb := redis.NewClient(opt)
		t.Cleanup(func() { rdb.Close() })
		return cache.NewRedis(rdb), bus.NewRedis(rdb)
	},
}

func newWorld(t *testing.T, backend string) *cacheWorld {
	c, b := backends[backend](t)
	id := func() string { return uuid.Must(uuid.NewV7()).String() }
	w := &cacheWorld{
		repo: &memberRepo{teams: map[string]map[string]domain.Membership{}}, cache: &spyCache{Cache: c}, bus: b,
		team: id(), alice: id(), bob: id(), carol: id(),
	}
	w.repo.put(w.team, w.alice, domain.RoleAdmin)
	w.repo.put(w.team, w.bob, domain.RoleMember)
	return w
}

// instance starts one teams-svc instance's lookup, listening until the test ends.
func (w *cacheWorld) instance(t *testing.T, l1TTL time.Duration) *adapters.CachedMemberships {
	c := adapters.NewCachedMemberships(adapters.CacheParams{
		Repo: w.repo, Cache: w.cache, Bus: w.bus, Log: slog.New(slog.DiscardHandler),
		OpTimeout: 5 * time.Second, L1TTL: l1TTL,
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c.Listen(ctx)
	return c
}

func forEachBackend(t *testing.T, test func(t *testing.T, w *cacheWorld)) {
	for name := range backends {
		t.Run(name, func(t *testing.T) { test(t, newWorld(t, name)) })
	}
}

// isMember asks c about userID and reports the answer, failing on anything but a yes or no.
func isMember(t *testing.T, c *adapters.CachedMemberships, teamID, userID string) bool {
	t.Helper()
	m, err := c.Membership(context.Background(), teamID, userID)
	if errors.Is(err, domain.ErrNotMember) {
		return false
	}
	require.NoError(t, err)
	require.Equal(t, userID, m.UserID)
	return true
}

func memberCount(t *testing.T, c *adapters.CachedMemberships, teamID string) int {
	t.Helper()
	list, err := c.AllMembers(context.Background(), teamID)
	require.NoError(t, err)
	return len(list)
}

// TestMembershipL1Hit: once an answer is warm, asking again touches neither the shared
// cache nor the database.
func TestMembershipL1Hit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *cacheWorld) {
		c := w.instance(t, time.Minute)
		cases := []struct {
			name string
			ask  func(t *testing.T) any
			want any
		}{
			{"member", func(t *testing.T) any { return isMember(t, c, w.team, w.bob) }, true},
			{"not a member", func(t *testing.T) any { return isMember(t, c, w.team, w.carol) }, false},
			{"member list", func(t *testing.T) any { return memberCount(t, c, w.team) }, 2},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				require.Equal(t, tc.want, tc.ask(t))
				gets, calls := w.cache.gets.Load(), w.repo.calls.Load()
				for range 5 {
					require.Equal(t, tc.want, tc.ask(t))
				}
				require.Equal(t, gets, w.cache.gets.Load(), "shared cache not asked")
				require.Equal(t, calls, w.repo.calls.Load(), "database not asked")
			})
		}
	})
}

// TestMembershipL1CopiesList: a caller changing the list it got cannot change the cache.
func TestMembershipL1CopiesList(t *testing.T) {
	w := newWorld(t, "memory")
	c := w.instance(t, time.Minute)
	for range 3 {
		list, err := c.AllMembers(context.Background(), w.team)
		require.NoError(t, err)
		for _, m := range list {
			require.NotEqual(t, domain.Role("changed"), m.Role)
		}
		list[0].Role = "changed"
	}
}

// TestMembershipL1Invalidation: a change is seen at once by the instance that made it
// (Forget returns with its L1 clean) and, through the bus, by the others. The L1 TTL is a
// minute here, so only the invalidation can explain a fresh answer.
func TestMembershipL1Invalidation(t *testing.T) {
	cases := []struct {
		name   string
		change func(w *cacheWorld)
		// forgets names the users Forget is told about.
		forgets func(w *cacheWorld) []string
		check   func(t *testing.T, w *cacheWorld, c *adapters.CachedMemberships) bool
	}{
		{
			"removed member",
			func(w *cacheWorld) { w.repo.remove(w.team, w.bob) },
			func(w *cacheWorld) []string { return []string{w.bob} },
			func(t *testing.T, w *cacheWorld, c *adapters.CachedMemberships) bool {
				return !isMember(t, c, w.team, w.bob) && memberCount(t, c, w.team) == 1
			},
		},
		{
			"added member",
			func(w *cacheWorld) { w.repo.put(w.team, w.carol, domain.RoleMember) },
			func(w *cacheWorld) []string { return []string{w.carol} },
			func(t *testing.T, w *cacheWorld, c *adapters.CachedMemberships) bool {
				return isMember(t, c, w.team, w.carol) && memberCount(t, c, w.team) == 3
			},
		},
		{
			"changed role",
			func(w *cacheWorld) { w.repo.put(w.team, w.bob, domain.RoleAdmin) },
			func(w *cacheWorld) []string { return []string{w.bob} },
			func(t *testing.T, w *cacheWorld, c *adapters.CachedMemberships) bool {
				m, err := c.Membership(context.Background(), w.team, w.bob)
				require.NoError(t, err)
				return m.Role == domain.RoleAdmin
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, w *cacheWorld) {
				here, there := w.instance(t, time.Minute), w.instance(t, time.Minute)
				for _, c := range []*adapters.CachedMemberships{here, there} {
					for _, u := range []string{w.alice, w.bob, w.carol} {
						isMember(t, c, w.team, u)
					}
					memberCount(t, c, w.team)
					require.False(t, tc.check(t, w, c), "warm answers are the old ones")
				}

				tc.change(w)
				here.Forget(context.Background(), w.team, tc.forgets(w)...)
				require.True(t, tc.check(t, w, here), "the instance that made the change sees it at once")
				require.Eventually(t, func() bool { return tc.check(t, w, there) }, 5*time.Second, 5*time.Millisecond,
					"another instance sees it after the pub/sub hop")
			})
		})
	}
}

// TestMembershipL1StaleFill: an answer read from the shared cache just before a change
// and stored just after Forget must not stay in the L1.
func TestMembershipL1StaleFill(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *cacheWorld) {
		warmer, c := w.instance(t, time.Minute), w.instance(t, time.Minute)
		require.True(t, isMember(t, warmer, w.team, w.bob), "the shared cache holds bob's membership")

		g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
		w.cache.pause.Store(g)
		read := make(chan bool)
		go func() {
			m, err := c.Membership(context.Background(), w.team, w.bob)
			read <- err == nil && m.UserID == w.bob
		}()
		<-g.entered // the read has the old answer from the shared cache
		w.repo.remove(w.team, w.bob)
		c.Forget(context.Background(), w.team, w.bob)
		close(g.release)
		require.True(t, <-read, "a read concurrent with the change may see the old answer")
		require.False(t, isMember(t, c, w.team, w.bob), "but it is not kept")
	})
}

// TestMembershipL1TTL: an L1 answer is served for L1TTL at most; then the shared cache is
// asked again.
func TestMembershipL1TTL(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *cacheWorld) {
		c := w.instance(t, 50*time.Millisecond)
		require.True(t, isMember(t, c, w.team, w.bob))
		gets := w.cache.gets.Load()
		require.Eventually(t, func() bool {
			require.True(t, isMember(t, c, w.team, w.bob))
			return w.cache.gets.Load() > gets
		}, 5*time.Second, 5*time.Millisecond, "the expired L1 entry sends the read to the shared cache")
	})
}

// flakyBus fails its first subscriptions, like Redis down when the instance starts.
type flakyBus struct {
	bus.Bus
	failures atomic.Int64
}

func (b *flakyBus) Subscribe(ctx context.Context, topics ...string) (bus.Subscription, error) {
	if b.failures.Add(-1) >= 0 {
		return nil, errors.New("connection refused")
	}
	return b.Bus.Subscribe(ctx, topics...)
}

// TestMembershipL1ListenRetries: an instance that could not subscribe at start keeps
// trying, and then receives the other instances' invalidations.
func TestMembershipL1ListenRetries(t *testing.T) {
	w := newWorld(t, "memory")
	flaky := &flakyBus{Bus: w.bus}
	flaky.failures.Store(2)
	there := adapters.NewCachedMemberships(adapters.CacheParams{
		Repo: w.repo, Cache: w.cache, Bus: flaky, Log: slog.New(slog.DiscardHandler),
		L1TTL: time.Minute, Cooldown: 10 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	there.Listen(ctx)
	here := w.instance(t, time.Minute)

	require.True(t, isMember(t, there, w.team, w.bob))
	w.repo.remove(w.team, w.bob)
	require.Eventually(t, func() bool {
		// Forget again on each try: messages published before the subscription are lost.
		here.Forget(context.Background(), w.team, w.bob)
		return !isMember(t, there, w.team, w.bob)
	}, 5*time.Second, 20*time.Millisecond)
	require.LessOrEqual(t, flaky.failures.Load(), int64(-1), "subscribed after the failures")
}
