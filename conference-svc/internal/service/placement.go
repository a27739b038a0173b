package service

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/convene/convene/platform/discovery"
)

const (
	// placedHeader marks a signaling request one instance forwarded to the room's owner, so
	// that the owner serves it whatever it believes, and a request is forwarded at most once.
	placedHeader = "X-Convene-Room-Placed"
	// placementTTL bounds how long a room stays bound to an instance that stopped renewing
	// it (crashed): after that, the next join opens the room elsewhere.
	placementTTL = 15 * time.Second
	placementKey = "conference:room:"
)

// Scripts that change a placement only while this instance holds it.
var (
	renewPlacement = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`)
	dropPlacement  = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)
	takePlacement  = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3]) return 1 end return 0`)
)

// Placement keeps each conference's room on one instance: media of one room must meet in
// one SFU. The first instance that opens a room claims it in Redis and renews the claim
// while the room lives; another instance that receives a join for it forwards the
// signaling socket to the owner, whose own UDP port then carries the media. Without Redis
// (the embedded setup, one instance) every room is local.
type Placement struct {
	rdb      *redis.Client
	self     string
	resolver discovery.Resolver
	log      *slog.Logger
}

// NewPlacement returns the placement of this instance (self = its discovery id).
func NewPlacement(rdb *redis.Client, self string, resolver discovery.Resolver, log *slog.Logger) *Placement {
	return &Placement{rdb: rdb, self: self, resolver: resolver, log: log}
}

// Owner returns the instance that holds the conference's room, claiming it for this one
// when nobody holds it or its holder is gone. local is true when this instance holds it.
func (p *Placement) Owner(ctx context.Context, confID string) (owner discovery.Instance, local bool, err error) {
	if p.rdb == nil {
		return discovery.Instance{}, true, nil
	}
	key := placementKey + confID
	var holder string
	for holder == "" {
		ok, err := p.rdb.SetNX(ctx, key, p.self, placementTTL).Result()
		if err != nil || ok {
			return discovery.Instance{}, true, err
		}
		// Someone holds it, unless they released it just now (then claim it again).
		holder, err = p.rdb.Get(ctx, key).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return discovery.Instance{}, true, err
		}
	}
	if holder == p.self {
		return discovery.Instance{}, true, nil
	}
	instances, err := p.resolver.Instances(ctx, Name)
	if err != nil && !errors.Is(err, discovery.ErrNoInstance) {
		return discovery.Instance{}, true, err
	}
	for _, in := range instances {
		if in.ID == holder && in.HTTPAddr != "" {
			return in, false, nil
		}
	}
	// The holder is no longer a healthy instance: take the room over.
	if _, err := takePlacement.Run(ctx, p.rdb, []string{key}, holder, p.self, placementTTL.Milliseconds()).Result(); err != nil {
		return discovery.Instance{}, true, err
	}
	return discovery.Instance{}, true, nil
}

// Renew extends this instance's claims on the rooms it holds.
func (p *Placement) Renew(ctx context.Context, confIDs []string) {
	if p.rdb == nil {
		return
	}
	for _, id := range confIDs {
		if err := renewPlacement.Run(ctx, p.rdb, []string{placementKey + id}, p.self, placementTTL.Milliseconds()).Err(); err != nil {
			p.log.Warn("room placement not renewed", "conference_id", id, "err", err)
		}
	}
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

// Forward proxies the signaling request (the WebSocket upgrade and then the socket) to the
// instance that holds the room. The owner checks the caller again.
func (p *Placement) Forward(w http.ResponseWriter, r *http.Request, owner discovery.Instance) {
	target := &url.URL{Scheme: "http", Host: owner.HTTPAddr}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Set(placedHeader, p.self)
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			p.log.Warn("forward to room owner failed", "owner", owner.ID, "err", err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"the conference's instance is unreachable"}}`))
		},
	}
	proxy.ServeHTTP(w, r)
}
