package service

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/conference-svc/internal/adapters"
	"github.com/convene/convene/conference-svc/internal/domain"
	"github.com/convene/convene/conference-svc/internal/rtc"
	"github.com/convene/convene/conference-svc/migrations"
	"github.com/convene/convene/platform/db"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/testkit"
)

// placementCluster is a set of instances' placements over the real Redis, known to one
// resolver (Consul's view: the passing instances), each with a load it reports.
type placementCluster struct {
	t        *testing.T
	rdb      *redis.Client
	resolver *testResolver
	mu       sync.Mutex
	loads    map[string]Load
	byID     map[string]*Placement
	prefix   string
}

func newPlacementCluster(t *testing.T, ids ...string) *placementCluster {
	t.Helper()
	opt, err := redis.ParseURL(testkit.RequireRedis(t))
	require.NoError(t, err)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	c := &placementCluster{
		t: t, rdb: rdb, resolver: &testResolver{instances: map[string][]discovery.Instance{}},
		loads: map[string]Load{}, byID: map[string]*Placement{}, prefix: "t" + testkit.RandomHex(4) + "-",
	}
	for _, id := range ids {
		c.add(id)
	}
	return c
}

// add starts instance id (passing, with an empty load).
func (c *placementCluster) add(id string) *Placement {
	id = c.prefix + id
	c.resolver.add(Name, discovery.Instance{ID: id, HTTPAddr: "127.0.0.1:1"})
	p := NewPlacement(PlacementParams{
		Redis: c.rdb, Self: id, Resolver: c.resolver, Log: slog.New(slog.DiscardHandler),
		Load: func() Load {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.loads[id]
		},
	})
	c.byID[id] = p
	c.t.Cleanup(func() { c.rdb.Del(context.Background(), loadKey+id) })
	return p
}

func (c *placementCluster) get(id string) *Placement { return c.byID[c.prefix+id] }

// setLoad sets what instance id hosts and has it report that.
func (c *placementCluster) setLoad(id string, l Load) {
	c.mu.Lock()
	c.loads[c.prefix+id] = l
	c.mu.Unlock()
	c.get(id).ReportLoad(context.Background())
}

// conf is a fresh conference id whose claim the test cleans up.
func (c *placementCluster) conf() string {
	id := newID()
	c.t.Cleanup(func() { c.rdb.Del(context.Background(), placementKey+id) })
	return id
}

// owner is the instance id a placement's answer names.
func (c *placementCluster) owner(p *Placement, conf string) string {
	c.t.Helper()
	in, local, err := p.Owner(context.Background(), conf)
	require.NoError(c.t, err)
	if local {
		return p.self
	}
	return in.ID
}

func (c *placementCluster) holder(conf string) string {
	v, _ := c.rdb.Get(context.Background(), placementKey+conf).Result()
	return v
}

// TestPlacementConcurrentFirstJoins: first joins of one room reaching three instances at
// once, many of them, end on one owner, whatever each instance's view of the loads.
func TestPlacementConcurrentFirstJoins(t *testing.T) {
	c := newPlacementCluster(t, "a", "b", "c")
	c.setLoad("a", Load{Rooms: 1, Participants: 4})
	c.setLoad("b", Load{Rooms: 1, Participants: 1})
	for range 20 {
		conf := c.conf()
		answers := make(chan string, 30)
		var wg sync.WaitGroup
		for i := range 30 {
			p := c.get([]string{"a", "b", "c"}[i%3])
			wg.Go(func() { answers <- c.owner(p, conf) })
		}
		wg.Wait()
		close(answers)
		owner := c.holder(conf)
		require.NotEmpty(t, owner)
		for a := range answers {
			require.Equal(t, owner, a, "every instance names the one owner")
		}
	}
}

// TestPlacementLeastLoaded: a room nobody holds goes to the passing instance with the
// fewest rooms plus participants; the asked instance keeps it on a tie.
func TestPlacementLeastLoaded(t *testing.T) {
	cases := []struct {
		name  string
		loads map[string]Load // a is the instance asked; a missing load never reported
		down  []string        // instances Consul no longer lists
		want  string
	}{
		{"alone", map[string]Load{"a": {Rooms: 5, Participants: 50}}, []string{"b", "c"}, "a"},
		{"tie keeps it here", map[string]Load{"a": {1, 2}, "b": {2, 1}, "c": {3, 0}}, nil, "a"},
		{"the least loaded other", map[string]Load{"a": {2, 9}, "b": {1, 3}, "c": {1, 2}}, nil, "c"},
		{"ties between others: lowest id", map[string]Load{"a": {2, 9}, "b": {1, 1}, "c": {1, 1}}, nil, "b"},
		{"not reported yet: empty", map[string]Load{"a": {1, 1}, "b": {1, 0}}, nil, "c"},
		{"failed instance passed over", map[string]Load{"a": {3, 3}, "b": {0, 0}, "c": {2, 2}}, []string{"b"}, "c"},
		{"empty rooms count", map[string]Load{"a": {0, 0}, "b": {4, 0}}, nil, "a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newPlacementCluster(t, "a", "b", "c")
			for id, l := range tc.loads {
				c.setLoad(id, l)
			}
			if _, ok := tc.loads["c"]; !ok {
				c.rdb.Del(context.Background(), loadKey+c.prefix+"c")
			}
			for _, id := range tc.down {
				c.resolver.remove(Name, c.prefix+id)
			}
			conf := c.conf()
			require.Equal(t, c.prefix+tc.want, c.owner(c.get("a"), conf))
			require.Equal(t, c.prefix+tc.want, c.holder(conf), "claimed for the chosen instance at once")
			// The instance the gateway re-sends the join to finds the room its own.
			require.Equal(t, c.prefix+tc.want, c.owner(c.get(tc.want), conf))
		})
	}
}

// TestPlacementSpreadsABurst: rooms placed before the next load report count in the
// target's load, so that a burst of new rooms spreads over the instances.
func TestPlacementSpreadsABurst(t *testing.T) {
	c := newPlacementCluster(t, "a", "b", "c")
	for _, id := range []string{"a", "b", "c"} {
		c.setLoad(id, Load{})
	}
	got := map[string]int{}
	for range 6 {
		conf := c.conf()
		owner := c.owner(c.get("a"), conf)
		got[owner]++
		if owner == c.prefix+"a" {
			// a opens the room at once: its own load grows with it.
			c.mu.Lock()
			l := c.loads[owner]
			l.Rooms++
			c.loads[owner] = l
			c.mu.Unlock()
		}
	}
	require.Equal(t, map[string]int{c.prefix + "a": 2, c.prefix + "b": 2, c.prefix + "c": 2}, got)
}

// TestPlacementFailedHolder: a holder Consul lists is the owner; once its check fails it
// is taken over by the instance asked, long before its claim would expire.
func TestPlacementFailedHolder(t *testing.T) {
	c := newPlacementCluster(t, "a", "b")
	conf := c.conf()
	a, b := c.get("a"), c.get("b")
	require.Equal(t, a.self, c.owner(a, conf))
	require.Equal(t, a.self, c.owner(b, conf), "b names the owner")

	c.resolver.remove(Name, a.self)
	require.Equal(t, b.self, c.owner(b, conf), "taken over")
	require.Equal(t, b.self, c.holder(conf))
	ttl, err := c.rdb.PTTL(context.Background(), placementKey+conf).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, placementTTL-time.Second, "a fresh claim, not the dead one's")

	// A claim by an instance nobody lists (crashed before Consul knew it) is taken too.
	require.NoError(t, c.rdb.Set(context.Background(), placementKey+conf, "ghost", placementTTL).Err())
	require.Equal(t, b.self, c.owner(b, conf))

	// While discovery cannot answer, a holder is not presumed dead.
	blind := NewPlacement(PlacementParams{Redis: c.rdb, Self: "y", Resolver: unreachableResolver{}, Log: slog.New(slog.DiscardHandler)})
	in, local, err := blind.Owner(context.Background(), conf)
	require.NoError(t, err)
	require.False(t, local)
	require.Equal(t, b.self, in.ID)
	require.Equal(t, b.self, c.holder(conf))

	// Without Redis every room is local.
	_, local, err = NewPlacement(PlacementParams{Self: "x", Resolver: c.resolver, Log: slog.New(slog.DiscardHandler)}).Owner(context.Background(), conf)
	require.NoError(t, err)
	require.True(t, local)
}

// TestPlacementRenewAndRelease: renewing extends only one's own claims, claims again one
// that expired, and reports the rooms another instance holds now; releasing drops only
// one's own.
func TestPlacementRenewAndRelease(t *testing.T) {
	c := newPlacementCluster(t, "a", "b")
	ctx := context.Background()
	a, b := c.get("a"), c.get("b")
	mine, expired, taken := c.conf(), c.conf(), c.conf()
	for _, conf := range []string{mine, expired, taken} {
		require.Equal(t, a.self, c.owner(a, conf))
	}
	require.NoError(t, c.rdb.PExpire(ctx, placementKey+mine, time.Second).Err())
	require.NoError(t, c.rdb.Del(ctx, placementKey+expired).Err())
	require.NoError(t, c.rdb.Set(ctx, placementKey+taken, b.self, placementTTL).Err())

	require.Equal(t, []string{taken}, a.Renew(ctx, []string{mine, expired, taken}))
	for _, conf := range []string{mine, expired} {
		require.Equal(t, a.self, c.holder(conf))
		ttl, _ := c.rdb.PTTL(ctx, placementKey+conf).Result()
		require.Greater(t, ttl, placementTTL-time.Second)
	}
	require.Equal(t, b.self, c.holder(taken), "another's claim is left alone")

	a.Release(ctx, taken)
	require.Equal(t, b.self, c.holder(taken), "not a's to release")
	a.Release(ctx, mine)
	require.Empty(t, c.holder(mine))
	require.Equal(t, b.self, c.owner(b, mine), "a released room is placed anew")
}

// unreachableResolver is discovery while Consul does not answer.
type unreachableResolver struct{}

func (unreachableResolver) Instances(context.Context, string) ([]discovery.Instance, error) {
	return nil, errors.New("consul: connection refused")
}

func (unreachableResolver) Watch(context.Context, string, func([]discovery.Instance)) {}

// recordedStates is a roomObserver that remembers what it was told.
type recordedStates struct {
	mu    sync.Mutex
	live  map[string][]int
	ended map[string]int
}

func newRecordedStates() *recordedStates {
	return &recordedStates{live: map[string][]int{}, ended: map[string]int{}}
}

func (r *recordedStates) Live(id string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.live[id] = append(r.live[id], n)
}

func (r *recordedStates) Ended(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended[id]++
}

func (r *recordedStates) snapshot(id string) ([]int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.live[id]...), r.ended[id]
}

// TestOrphanSweeper: live conferences nobody holds are adopted by exactly one instance,
// recorded live with nobody in them, and ended after the empty-room timeout unless someone
// joins; those hosted anywhere are left alone.
func TestOrphanSweeper(t *testing.T) {
	c := newPlacementCluster(t, "a", "b")
	ctx := context.Background()
	orphan, rejoined, hostedB, hostedA := c.conf(), c.conf(), c.conf(), c.conf()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	type node struct {
		rooms    *Rooms
		states   *recordedStates
		sweeper  *orphanSweeper
		instance string
	}
	nodes := map[string]*node{}
	// The database's answer: live until some instance recorded the conference ended.
	live := func(context.Context) ([]string, error) {
		var out []string
		for _, conf := range []string{orphan, rejoined, hostedB, hostedA} {
			ended := 0
			for _, n := range nodes {
				_, e := n.states.snapshot(conf)
				ended += e
			}
			if ended == 0 {
				out = append(out, conf)
			}
		}
		return out, nil
	}
	for _, id := range []string{"a", "b"} {
		n := &node{states: newRecordedStates(), instance: c.prefix + id}
		n.rooms = NewRooms(func(d domain.Conference) rtc.RoomParams {
			return rtc.RoomParams{ConferenceID: d.ID, EmptyTimeout: time.Minute, Observer: n.states}
		})
		n.sweeper = newOrphanSweeper(orphanSweeperParams{
			Live: live, Rooms: n.rooms, Placement: c.get(id), Observer: n.states,
			Dormancy: 5 * time.Minute, Now: clock, Log: slog.New(slog.DiscardHandler),
		})
		nodes[id] = n
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.rooms.Shutdown()
		}
	})
	// hostedA is open on a (claimed and opened by a join); hostedB is claimed by b.
	require.Equal(t, c.prefix+"a", c.owner(c.get("a"), hostedA))
	_, err := nodes["a"].rooms.Get(domain.Conference{ID: hostedA})
	require.NoError(t, err)
	require.NoError(t, c.rdb.Set(ctx, placementKey+hostedB, c.prefix+"b", placementTTL).Err())

	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() { n.sweeper.sweep(ctx) })
	}
	wg.Wait()

	for _, conf := range []string{orphan, rejoined} {
		adopter := c.holder(conf)
		require.Contains(t, []string{c.prefix + "a", c.prefix + "b"}, adopter)
		adopted := 0
		for _, n := range nodes {
			lives, ended := n.states.snapshot(conf)
			require.Zero(t, ended)
			if n.instance == adopter {
				adopted++
				require.Equal(t, []int{0}, lives, "the adopter records it live with nobody in it")
				require.True(t, n.rooms.hosts(conf))
			} else {
				require.Empty(t, lives)
				require.False(t, n.rooms.hosts(conf))
			}
		}
		require.Equal(t, 1, adopted, "exactly one instance adopts it")
	}
	for _, n := range nodes {
		for _, conf := range []string{hostedA, hostedB} {
			lives, ended := n.states.snapshot(conf)
			require.Empty(t, lives, "%s is hosted: nothing recorded", conf)
			require.Zero(t, ended)
		}
	}
	require.Equal(t, c.prefix+"b", c.holder(hostedB))

	// Someone joins one adopted conference on its adopter: it is a room there now.
	adopter := nodes["a"]
	if c.holder(rejoined) == c.prefix+"b" {
		adopter = nodes["b"]
	}
	_, err = adopter.rooms.Get(domain.Conference{ID: rejoined})
	require.NoError(t, err)

	// Sweeping again changes nothing before the timeout; after it the orphan ends, once.
	for _, n := range nodes {
		n.sweeper.sweep(ctx)
	}
	mu.Lock()
	now = now.Add(5*time.Minute + time.Second)
	mu.Unlock()
	for _, n := range nodes {
		n.sweeper.sweep(ctx)
	}
	endedTotal := 0
	for _, n := range nodes {
		lives, ended := n.states.snapshot(orphan)
		require.LessOrEqual(t, len(lives), 1, "adopted once")
		endedTotal += ended
		_, ended = n.states.snapshot(rejoined)
		require.Zero(t, ended, "a conference someone joined is not ended by the sweeper")
	}
	require.Equal(t, 1, endedTotal, "the orphan ends once")
	require.Empty(t, c.holder(orphan), "its claim is released")
	require.True(t, adopter.rooms.hosts(rejoined))
}

// TestRedirectToOwner: an instance answers a join for a room another passing instance
// hosts with 421, the owner's id and API.md's error shape; the owner serves it.
func TestRedirectToOwner(t *testing.T) {
	first := startService(t, harnessOptions{})
	second := startService(t, harnessOptions{cluster: first})
	host, guest := newID(), newID()
	team := first.teams.team(host, guest)
	conf := first.createConference(t, team, host, false)

	h := first.dial(t, conf, host)
	h.send(map[string]string{"type": "join"})
	h.expect("joined")

	_, resp, err := second.dialOnce(second.base, conf, guest)
	require.Error(t, err)
	require.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode)
	require.Equal(t, first.instance, resp.Header.Get(InstanceHeader))
	raw := make([]byte, 512)
	n, _ := resp.Body.Read(raw)
	resp.Body.Close()
	require.Equal(t, CodeWrongInstance, response{body: raw[:n]}.code(t))

	// An outsider learns nothing about where the room is.
	_, resp, err = second.dialOnce(second.base, conf, newID())
	require.Error(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Empty(t, resp.Header.Get(InstanceHeader))

	// Once first's health check fails, second takes the room over.
	first.resolver.remove(Name, first.instance)
	g := second.dial(t, conf, guest)
	g.send(map[string]string{"type": "join"})
	joined := g.expect("joined")
	require.Len(t, joined.Participants, 1, "a new room on second")

	// first was alive after all: at its next renewal it finds the room taken and closes its
	// copy; the host reconnects and is sent to second, where the room is whole again.
	select {
	case <-h.done:
	case <-time.After(renewEvery + 3*time.Second):
		t.Fatal("first kept serving a room another instance holds")
	}
	h = first.dial(t, conf, host)
	h.send(map[string]string{"type": "join"})
	require.Len(t, h.expect("joined").Participants, 2, "one room again, on second")
}

// TestOrphanConferenceEnds: a conference the database shows live with people in it, that no
// instance hosts (its instance died and nobody came back), is adopted by a running instance:
// recorded live with nobody in it, then ended after the empty-room timeout.
func TestOrphanConferenceEnds(t *testing.T) {
	h := startService(t, harnessOptions{
		emptyTimeout: 2 * time.Second,
		configure:    func(c *Config) { c.PlacementSweep = 200 * time.Millisecond },
	})
	host := newID()
	team := h.teams.team(host)
	orphan := h.createConference(t, team, host, false)
	scheduled := h.createConference(t, team, host, false)

	gdb, err := db.Open(context.Background(), db.Params{URL: h.dbURL, Migrations: migrations.FS})
	require.NoError(t, err)
	t.Cleanup(func() { closeDB(gdb) })
	require.NoError(t, adapters.NewConferences(gdb).SetRoomState(context.Background(), orphan, domain.StatusLive, 3))

	require.Eventually(t, func() bool {
		c := h.conference(t, orphan, host).Conference
		return c.Status == "live" && c.ParticipantCount == 0
	}, 5*time.Second, 50*time.Millisecond, "adopted: live with nobody in it")
	require.Eventually(t, func() bool { return h.conference(t, orphan, host).Conference.Status == "ended" },
		10*time.Second, 100*time.Millisecond, "ended after the empty-room timeout")
	require.Equal(t, "scheduled", h.conference(t, scheduled, host).Conference.Status, "a scheduled one is left alone")
}
