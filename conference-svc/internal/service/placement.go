package service

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/httpx"
)

const (
	// InstanceHeader names, on a 421 answer, the instance that hosts the conference's room:
	// its discovery (Consul service) id. The gateway re-sends the request there.
	InstanceHeader = "X-Convene-Instance"
	// CodeWrongInstance is the error code of that 421.
	CodeWrongInstance = "wrong_instance"
	// placementTTL bounds how long a room stays bound to an instance that stopped renewing
	// it (crashed, or cut off from Redis). A crashed holder is passed over sooner, as soon
	// as Consul's health check fails (every 2 s); the TTL is the bound when Consul lags.
	placementTTL = 15 * time.Second
	// renewEvery leaves two renewals' slack before a live holder's claim could expire.
	renewEvery   = placementTTL / 3
	placementKey = "conference:room:"
	// claimAttempts bounds the retries when other instances change a room's claim between
	// our read and our write; each retry follows a real change, so contention ends fast.
	claimAttempts = 4
)

// Scripts that change a placement only while the expected instance holds it.
var (
	// renewPlacement extends this instance's claim, and claims the room again if the claim
	// expired meanwhile (Redis was out of reach): 1 renewed, 2 claimed again, 0 lost to
	// another instance.
	renewPlacement = redis.NewScript(`
local v = redis.call("GET", KEYS[1])
if v == ARGV[1] then redis.call("PEXPIRE", KEYS[1], ARGV[2]) return 1 end
if not v then redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2]) return 2 end
return 0`)
	dropPlacement = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)
	takePlacement = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3]) return 1 end return 0`)
)

// errPlacementContended: the room's claim kept changing under us; the caller serves locally.
var errPlacementContended = errors.New("room placement: claim contended")

// Placement keeps each conference's room on one instance: the media of one room must meet
// in one SFU. A room is claimed in Redis (SET NX with a TTL its host renews) for the
// least-loaded passing instance when its first join arrives; every other instance refuses
// the room's signaling with 421 and the owner's id, which the gateway follows. A holder
// that Consul no longer lists as passing loses its rooms to the instance the reconnecting
// clients reach. Without Redis (the embedded setup, one instance) every room is local.
type Placement struct {
	rdb      *redis.Client
	self     string
	resolver discovery.Resolver
	load     func() Load
	log      *slog.Logger
}

// PlacementParams builds a Placement.
type PlacementParams struct {
	// Redis holds claims and loads; nil keeps every room local.
	Redis *redis.Client
	// Self is this instance's discovery id (Consul service id).
	Self     string
	Resolver discovery.Resolver
	// Load tells what this instance hosts now.
	Load func() Load
	Log  *slog.Logger
}

// NewPlacement returns the placement of instance p.Self.
func NewPlacement(p PlacementParams) *Placement {
	if p.Load == nil {
		p.Load = func() Load { return Load{} }
	}
	return &Placement{rdb: p.Redis, self: p.Self, resolver: p.Resolver, load: p.Load, log: p.Log}
}

// Owner returns the instance that hosts the conference's room; local is true when it is
// this one. A room nobody holds is placed on the least-loaded passing instance, claimed for
// it at once (so that concurrent first joins on several instances agree on one owner); a
// room whose holder is no longer passing is taken over here.
func (p *Placement) Owner(ctx context.Context, confID string) (owner discovery.Instance, local bool, err error) {
	if p.rdb == nil {
		return discovery.Instance{}, true, nil
	}
	key := placementKey + confID
	for range claimAttempts {
		holder, err := p.rdb.Get(ctx, key).Result()
		switch {
		case errors.Is(err, redis.Nil):
			target := p.leastLoaded(ctx)
			ok, err := p.rdb.SetNX(ctx, key, target.ID, placementTTL).Result()
			if err != nil {
				return discovery.Instance{}, true, err
			}
			if !ok {
				continue // placed by another instance meanwhile: follow that
			}
			p.reserved(ctx, target.ID)
			if target.ID == p.self {
				return discovery.Instance{}, true, nil
			}
			return target, false, nil
		case err != nil:
			return discovery.Instance{}, true, err
		case holder == p.self:
			return discovery.Instance{}, true, nil
		}
		in, alive, known := p.passing(ctx, holder)
		if alive || !known {
			// Unknown is not dead: a discovery outage must not move every room.
			return in, false, nil
		}
		// The holder is gone (Consul's check failed): its clients are reconnecting, and the
		// first of them to reach an instance brings the room there.
		took, err := takePlacement.Run(ctx, p.rdb, []string{key}, holder, p.self, placementTTL.Milliseconds()).Int()
		if err != nil {
			return discovery.Instance{}, true, err
		}
		if took == 1 {
			p.log.Info("room taken over from a failed instance", "conference_id", confID, "previous", holder)
			p.reserved(ctx, p.self)
			return discovery.Instance{}, true, nil
		}
	}
	return discovery.Instance{}, true, errPlacementContended
}

// passing looks the holder up among the passing instances that can take requests; known
// is false when discovery cannot answer (then in names the holder only).
func (p *Placement) passing(ctx context.Context, id string) (in discovery.Instance, alive, known bool) {
	all, err := p.instances(ctx)
	if err != nil {
		return discovery.Instance{ID: id}, false, false
	}
	for _, x := range all {
		if x.ID == id {
			return x, true, true
		}
	}
	return discovery.Instance{}, false, true
}

// instances are the passing instances of the service that can take requests; none (not an
// error) when discovery knows no passing instance.
func (p *Placement) instances(ctx context.Context) ([]discovery.Instance, error) {
	all, err := p.resolver.Instances(ctx, Name)
	if errors.Is(err, discovery.ErrNoInstance) {
		return nil, nil
	}
	if err != nil {
		p.log.Warn("room placement: instances unknown", "err", err)
		return nil, err
	}
	out := all[:0]
	for _, in := range all {
		if in.HTTPAddr != "" {
			out = append(out, in)
		}
	}
	return out, nil
}

// Redirect answers a signaling request for a room another instance hosts: 421 Misdirected
// Request naming the owner. A request the gateway already re-sent gets the same answer if
// the room moved meanwhile; the client then retries from the start.
func (p *Placement) Redirect(c *gin.Context, owner discovery.Instance) {
	c.Header(InstanceHeader, owner.ID)
	// The instance id stays in the header, which the gateway strips: clients need not learn
	// the internal topology.
	httpx.Abort(c, httpx.NewError(http.StatusMisdirectedRequest, CodeWrongInstance,
		"the conference moved to another server; retry"))
}

// Renew extends this instance's claims on the rooms it hosts and returns those another
// instance holds now (this instance's claim expired while Redis was out of reach, or
// Consul reported it failed and a client's join took the room over): their local rooms
// must close, so that their clients reconnect to the room's one owner.
func (p *Placement) Renew(ctx context.Context, confIDs []string) (lost []string) {
	if p.rdb == nil || len(confIDs) == 0 {
		return nil
	}
	// One round trip for every room; EVAL rather than EVALSHA, as a pipeline cannot fall
	// back when Redis lost its script cache.
	results := make([]*redis.Cmd, len(confIDs))
	_, err := p.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, id := range confIDs {
			results[i] = renewPlacement.Eval(ctx, pipe, []string{placementKey + id}, p.self, placementTTL.Milliseconds())
		}
		return nil
	})
	if err != nil {
		p.log.Warn("room placements not renewed", "rooms", len(confIDs), "err", err)
		return nil
	}
	for i, r := range results {
		switch n, _ := r.Int(); n {
		case 0:
			p.log.Warn("room placement lost to another instance", "conference_id", confIDs[i])
			lost = append(lost, confIDs[i])
		case 2:
			p.log.Warn("room placement had expired; claimed again", "conference_id", confIDs[i])
		}
	}
	return lost
}

// Release gives up this instance's claim on a room that closed.
func (p *Placement) Release(ctx context.Context, confID string) {
	if p.rdb == nil {
		return
	}
	if err := dropPlacement.Run(ctx, p.rdb, []string{placementKey + confID}, p.self).Err(); err != nil {
		p.log.Warn("room placement not released", "conference_id", confID, "err", err)
	}
}

// Adopt claims a room nobody holds for this instance; the sweeper uses it for live
// conferences whose instance died. A claim that is still held (even by a failed instance,
// until its TTL ends) is left alone: joins take those over, and the sweeper is in no hurry.
func (p *Placement) Adopt(ctx context.Context, confID string) (bool, error) {
	if p.rdb == nil {
		return true, nil
	}
	return p.rdb.SetNX(ctx, placementKey+confID, p.self, placementTTL).Result()
}
