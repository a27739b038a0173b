package service

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/redis/go-redis/v9"

	"github.com/convene/convene/platform/discovery"
)

const (
	// loadKey + instance id is a Redis hash {rooms, participants}: what the instance hosts.
	// Redis rather than Consul service meta: a meta change is a catalog write that wakes
	// every blocking query on conference-svc (the gateway's and every service's watchers)
	// every few seconds per instance, while a hash with a TTL costs one write, is read in one
	// pipelined round trip next to the claim it decides, and vanishes by itself with its
	// instance.
	loadKey = "conference:load:"
	// loadEvery is how often an instance reports its load; loadTTL outlives two missed
	// reports.
	loadEvery = 2 * time.Second
	loadTTL   = 3 * loadEvery
)

// bumpLoad counts a room placed on an instance before that instance reports it, so that a
// burst of new rooms spreads instead of all going to the instance that was least loaded at
// the last report. It never creates the hash: an instance without one is not reporting.
var bumpLoad = redis.NewScript(`if redis.call("EXISTS", KEYS[1]) == 1 then return redis.call("HINCRBY", KEYS[1], "rooms", 1) end return 0`)

// Hosted load, per process, for dashboards and for tests that check where rooms landed.
var (
	roomsHosted = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "conference_rooms_hosted", Help: "Conference rooms open on this instance.",
	})
	participantsHosted = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "conference_participants_hosted", Help: "Participants in the rooms open on this instance.",
	})
)

// Load is what one instance hosts.
type Load struct {
	Rooms        int
	Participants int
}

// score orders instances for placement. A new room counts as one participant before anyone
// is in it: it was opened because someone is joining, and its media cost comes with them.
func (l Load) score() int { return l.Rooms + l.Participants }

// leastLoaded picks the passing instance with the lowest load. This instance wins ties (no
// redirect for nothing), then the lowest id. Without other instances, or without their
// loads, the room stays here: placing by load is an optimisation, not a requirement.
func (p *Placement) leastLoaded(ctx context.Context) discovery.Instance {
	self := discovery.Instance{ID: p.self}
	all, _ := p.instances(ctx)
	var others []discovery.Instance
	for _, in := range all {
		if in.ID != p.self {
			others = append(others, in)
		}
	}
	if len(others) == 0 {
		return self
	}
	cmds := make([]*redis.MapStringStringCmd, len(others))
	_, err := p.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, in := range others {
			cmds[i] = pipe.HGetAll(ctx, loadKey+in.ID)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		p.log.Warn("room placement: loads unknown; placing here", "err", err)
		return self
	}
	best, bestScore := self, p.load().score()
	for i, in := range others {
		// A passing instance that has not reported yet has just started: it hosts nothing.
		if s := parseLoad(cmds[i].Val()).score(); s < bestScore {
			best, bestScore = in, s
		}
	}
	return best
}

func parseLoad(h map[string]string) Load {
	rooms, _ := strconv.Atoi(h["rooms"])
	participants, _ := strconv.Atoi(h["participants"])
	return Load{Rooms: rooms, Participants: participants}
}

// reserved counts a room just placed on instance (this one or another) in its reported
// load, until that instance's next report tells the truth.
func (p *Placement) reserved(ctx context.Context, instance string) {
	if err := bumpLoad.Run(ctx, p.rdb, []string{loadKey + instance}).Err(); err != nil {
		p.log.Warn("room placement: load not bumped", "instance", instance, "err", err)
	}
}

// ReportLoad publishes this instance's load for the others' placement decisions, and on
// /metrics.
func (p *Placement) ReportLoad(ctx context.Context) {
	l := p.load()
	roomsHosted.Set(float64(l.Rooms))
	participantsHosted.Set(float64(l.Participants))
	if p.rdb == nil {
		return
	}
	key := loadKey + p.self
	_, err := p.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.HSet(ctx, key, "rooms", l.Rooms, "participants", l.Participants)
		pipe.PExpire(ctx, key, loadTTL)
		return nil
	})
	if err != nil {
		p.log.Warn("room placement: load not reported", "err", err)
	}
}

// WithdrawLoad removes this instance's load report: it is shutting down.
func (p *Placement) WithdrawLoad(ctx context.Context) {
	if p.rdb == nil {
		return
	}
	if err := p.rdb.Del(ctx, loadKey+p.self).Err(); err != nil {
		p.log.Warn("room placement: load not withdrawn", "err", err)
	}
}
