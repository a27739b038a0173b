// Package service wires teams-svc together: adapters, app and ports, from its config.
package service

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"google.golang.org/grpc"
	"gorm.io/gorm"

	"github.com/convene/convene/platform/cache"
	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/grpcx"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/ratelimit"
	"github.com/convene/convene/platform/server"
	conferencev1 "github.com/convene/convene/proto/conference/v1"
	teamsv1 "github.com/convene/convene/proto/teams/v1"
	usersv1 "github.com/convene/convene/proto/users/v1"
	"github.com/convene/convene/teams-svc/internal/adapters"
	"github.com/convene/convene/teams-svc/internal/app"
	"github.com/convene/convene/teams-svc/internal/ports"
	"github.com/convene/convene/teams-svc/migrations"
)

// Name is the service's name in discovery.
const Name = "teams-svc"

// Config is teams-svc's configuration: the shared settings plus its own.
type Config struct {
	config.Base
	// JoinFailuresPerMinute is how many wrong join codes a user may send a minute.
	JoinFailuresPerMinute int
	// WritesPerMinute is how many writes (posts, comments, changes) a user may make a minute.
	WritesPerMinute int
	// MembershipCacheTTL bounds how long a cached membership answer is served.
	MembershipCacheTTL time.Duration
	// UserCacheTTL is how long a user's name and email are reused without asking users-svc.
	UserCacheTTL time.Duration
	// OutboxPoll and OutboxMaxBackoff pace the relay that tells conference-svc about
	// deleted teams.
	OutboxPoll       time.Duration
	OutboxMaxBackoff time.Duration
}

// LoadConfig reads teams-svc's own settings on top of base.
func LoadConfig(env *config.Env, base config.Base) Config {
	return Config{
		Base:                  base,
		JoinFailuresPerMinute: env.Int("TEAMS_JOIN_FAILURES_PER_MINUTE", 10),
		WritesPerMinute:       env.Int("TEAMS_WRITES_PER_MINUTE", 300),
		MembershipCacheTTL:    env.Duration("TEAMS_MEMBERSHIP_CACHE_TTL", 30*time.Second),
		UserCacheTTL:          env.Duration("TEAMS_USER_CACHE_TTL", 30*time.Second),
		OutboxPoll:            env.Duration("TEAMS_OUTBOX_POLL", 2*time.Second),
		OutboxMaxBackoff:      env.Duration("TEAMS_OUTBOX_MAX_BACKOFF", time.Minute),
	}
}

// Params build a Service.
type Params struct {
	Config Config
	// Lookup reads the static discovery overrides (<NAME>_GRPC_ADDRS) when Consul is not
	// configured; nil means the process environment.
	Lookup func(string) string
}

// Service is a built teams-svc, ready to run.
type Service struct {
	deps      *server.Deps
	db        *gorm.DB
	http      *gin.Engine
	grpc      *grpcx.Server
	conns     []*grpc.ClientConn
	relayDone chan struct{}
}

// New builds the service. The outbox relay starts at once and stops when ctx ends.
func New(ctx context.Context, p Params) (*Service, error) {
	cfg := p.Config
	deps, err := server.NewDeps(ctx, cfg.Base)
	if err != nil {
		return nil, err
	}
	if deps.Consul == nil {
		lookup := p.Lookup
		if lookup == nil {
			lookup = os.Getenv
		}
		deps.Resolver = discovery.NewStatic(lookup)
	}
	s := &Service{deps: deps, relayDone: make(chan struct{})}
	if err := s.build(ctx, cfg); err != nil {
		s.close()
		deps.Close()
		return nil, err
	}
	return s, nil
}

func (s *Service) build(ctx context.Context, cfg Config) error {
	d := s.deps
	gdb, err := d.OpenDB(ctx, migrations.FS)
	if err != nil {
		return err
	}
	s.db = gdb
	if err := adapters.CountStatements(gdb); err != nil {
		return fmt.Errorf("sql metrics: %w", err)
	}
	usersConn, err := s.dial("users-svc")
	if err != nil {
		return err
	}
	conferenceConn, err := s.dial("conference-svc")
	if err != nil {
		return err
	}

	repo := adapters.NewRepository(gdb)
	relay := app.NewDeletionRelay(app.RelayParams{
		Outbox:     repo,
		Notifier:   adapters.NewConferenceNotifier(conferencev1.NewConferenceServiceClient(conferenceConn)),
		Log:        d.Log,
		Poll:       cfg.OutboxPoll,
		MaxBackoff: cfg.OutboxMaxBackoff,
	})
	members := adapters.NewCachedMemberships(adapters.CacheParams{
		Repo: repo, Cache: d.Cache, Bus: d.Bus, Log: d.Log, TTL: cfg.MembershipCacheTTL,
	})
	members.Listen(ctx)
	a := app.New(app.Params{
		Teams:   repo,
		Posts:   repo,
		Members: members,
		// Names are per instance and short-lived, so an in-process cache is enough and
		// keeps a page of posts from costing a Redis round trip per author.
		Users:        adapters.NewUsersClient(usersv1.NewUsersServiceClient(usersConn), cache.NewMemory(), cfg.UserCacheTTL),
		JoinAttempts: adapters.NewJoinAttempts(d.Limiter, d.Cache, ratelimit.PerMinute(cfg.JoinFailuresPerMinute), d.Log),
		Relay:        relay,
		Log:          d.Log,
	})

	engine := httpx.NewEngine(d.Log, d.Health, ports.MaxBody)
	ports.RegisterHTTP(engine, ports.HTTPParams{
		App: a, Signer: d.Signer, Limiter: d.Limiter, WriteLimit: ratelimit.PerMinute(cfg.WritesPerMinute), Log: d.Log,
	})
	s.http = engine
	s.grpc = grpcx.NewServer(d.Log, d.Signer)
	teamsv1.RegisterTeamsServiceServer(s.grpc, ports.NewGRPC(a))

	go func() {
		defer close(s.relayDone)
		relay.Run(ctx)
	}()
	return nil
}

func (s *Service) dial(service string) (*grpc.ClientConn, error) {
	conn, err := grpcx.Dial(grpcx.ClientParams{
		Service: service, Resolver: s.deps.Resolver, Signer: s.deps.Signer, Caller: Name,
	})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", service, err)
	}
	s.conns = append(s.conns, conn)
	return conn, nil
}

// RunParams is what server.Run serves for this service.
func (s *Service) RunParams() server.RunParams {
	return server.RunParams{
		Deps: s.deps,
		HTTP: s.http,
		GRPC: s.grpc,
		OnShutdown: func(ctx context.Context) {
			select {
			case <-s.relayDone:
			case <-ctx.Done():
			}
			s.close()
		},
	}
}

// close releases connections; server.Run closes the Deps themselves.
func (s *Service) close() {
	for _, c := range s.conns {
		_ = c.Close()
	}
	if s.db != nil {
		if sqlDB, err := s.db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	}
}
