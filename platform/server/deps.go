// Package server wires what every service process has — logger, identity signer, database,
// cache, bus, rate limiter, discovery, live config — from its config, and runs its HTTP
// and gRPC ports with Consul registration and graceful shutdown.
package server

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/bus"
	"github.com/convene/convene/platform/cache"
	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/db"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/logging"
	"github.com/convene/convene/platform/ratelimit"
	"github.com/convene/convene/platform/tracing"
)

// Deps are the shared building blocks of one process.
type Deps struct {
	Config   config.Base
	Log      *slog.Logger
	LogLevel *slog.LevelVar
	Signer   *authn.Signer
	// Redis is nil in the embedded setup.
	Redis    *redis.Client
	Cache    cache.Cache
	Bus      bus.Bus
	Limiter  ratelimit.Limiter
	Resolver discovery.Resolver
	// Consul is nil in the embedded setup.
	Consul *api.Client
	Health *httpx.Health
	// Tracing is the process's tracer provider, also installed process-wide so that
	// instrumentation built without one (httpx.NewEngine, grpcx) uses it.
	Tracing *tracing.Provider
}

// NewDeps builds the dependencies selected by cfg: Redis and Consul when their addresses
// are set, in-process stand-ins otherwise. Background watchers stop when ctx ends.
func NewDeps(ctx context.Context, cfg config.Base) (*Deps, error) {
	log, lv := logging.New(os.Stdout, cfg.Service, cfg.Instance, cfg.LogFormat, cfg.LogLevel)
	d := &Deps{
		Config:   cfg,
		Log:      log,
		LogLevel: lv,
		Signer:   authn.NewSigner(cfg.InternalSecret),
		Health:   httpx.NewHealth(nil),
	}
	checks := map[string]httpx.ReadyCheck{}
	if cfg.RedisURL != "" {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		d.Redis = redis.NewClient(opt)
		d.Cache = cache.NewRedis(d.Redis)
		d.Bus = bus.NewRedis(d.Redis)
		d.Limiter = ratelimit.NewRedis(d.Redis)
		checks["redis"] = func(ctx context.Context) error { return d.Redis.Ping(ctx).Err() }
	} else {
		d.Cache = cache.NewMemory()
		d.Bus = bus.NewMemory()
		d.Limiter = ratelimit.NewMemory()
	}
	if cfg.ConsulAddr != "" {
		c, err := discovery.NewConsulClient(cfg.ConsulAddr)
		if err != nil {
			return nil, fmt.Errorf("CONSUL_HTTP_ADDR: %w", err)
		}
		d.Consul = c
		d.Resolver = discovery.NewConsul(ctx, c, log)
	} else {
		d.Resolver = discovery.NewStatic(os.Getenv)
	}
	d.Health = httpx.NewHealth(checks)
	tp, err := tracing.New(ctx, tracing.Params{
		Service:     cfg.Service,
		Instance:    cfg.Instance,
		Endpoint:    cfg.Tracing.OTLPEndpoint,
		Protocol:    cfg.Tracing.OTLPProtocol,
		SampleRatio: cfg.Tracing.SampleRatio,
	})
	if err != nil {
		d.Close()
		return nil, err
	}
	tp.Install()
	d.Tracing = tp
	if tp.Exporting() {
		log.Info("tracing: exporting spans", "endpoint", cfg.Tracing.OTLPEndpoint, "protocol", cfg.Tracing.OTLPProtocol)
	}
	return d, nil
}

// OpenDB opens the service's database (Postgres or SQLite per config), applies its
// migrations and adds it to the readiness checks.
func (d *Deps) OpenDB(ctx context.Context, migrations fs.FS) (*gorm.DB, error) {
	gdb, err := db.Open(ctx, db.Params{
		URL:        d.Config.DatabaseURL,
		SQLitePath: d.Config.SQLitePath,
		Migrations: migrations,
		Log:        d.Log,
	})
	if err != nil {
		return nil, err
	}
	d.Health.AddCheck("database", db.Ping(gdb))
	return gdb, nil
}

// Close exports the spans still buffered and releases the connections Deps opened.
func (d *Deps) Close() {
	if d.Tracing != nil {
		ctx, cancel := context.WithTimeout(context.Background(), tracingFlushTimeout)
		if err := d.Tracing.Shutdown(ctx); err != nil {
			d.Log.Warn("tracing: flushing spans failed", "err", err)
		}
		cancel()
	}
	if d.Redis != nil {
		_ = d.Redis.Close()
	}
}

// tracingFlushTimeout bounds the export of the last spans at exit: an unreachable
// collector must not hold up a rolling restart.
const tracingFlushTimeout = 3 * time.Second
