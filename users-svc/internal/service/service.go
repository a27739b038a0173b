// Package service wires users-svc: adapters, application and ports from the configuration.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/convene/convene/platform/grpcx"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/liveconfig"
	"github.com/convene/convene/platform/server"
	usersv1 "github.com/convene/convene/proto/users/v1"
	"github.com/convene/convene/users-svc/internal/adapters"
	"github.com/convene/convene/users-svc/internal/app"
	"github.com/convene/convene/users-svc/internal/domain"
	"github.com/convene/convene/users-svc/internal/ports"
	"github.com/convene/convene/users-svc/migrations"
)

// Service is a built users-svc, ready for server.Run.
type Service struct {
	HTTP http.Handler
	GRPC *grpcx.Server
	// LiveSettings are the settings Consul KV may change while the process runs.
	LiveSettings map[string]liveconfig.Setter

	db   *gorm.DB
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// New opens the database, makes sure a signing key exists, builds the ports and starts the
// background upkeep (key rotation, refresh-token pruning), which runs until Close.
func New(ctx context.Context, cfg Config, deps *server.Deps) (*Service, error) {
	gdb, err := deps.OpenDB(ctx, migrations.FS)
	if err != nil {
		return nil, err
	}
	limiter := adapters.NewLoginLimiter(deps.Limiter, cfg.LoginAttemptsPerMinute)
	application, err := app.New(app.Params{
		Users:         adapters.NewUserRepository(gdb),
		RefreshTokens: adapters.NewRefreshTokenRepository(gdb),
		SigningKeys:   adapters.NewSigningKeyRepository(gdb),
		Hasher:        adapters.NewArgon2Hasher(cfg.Argon2),
		Signer:        adapters.JWTSigner{},
		LoginLimiter:  limiter,
		Log:           deps.Log,
		Policy: app.Policy{
			AccessTTL:  cfg.AccessTTL,
			RefreshTTL: cfg.RefreshTTL,
			Issuer:     cfg.Issuer,
			Audience:   cfg.Audience,
			Keys: domain.KeyPolicy{
				RotationInterval: cfg.KeyRotation,
				TokenTTL:         cfg.AccessTTL,
				ReloadInterval:   cfg.KeyReload,
				ClockSkew:        time.Minute,
			},
		},
	})
	if err != nil {
		closeDB(gdb)
		return nil, err
	}
	if err := application.MaintainSigningKeys(ctx); err != nil {
		closeDB(gdb)
		return nil, fmt.Errorf("signing keys: %w", err)
	}

	engine := httpx.NewEngine(deps.Log, deps.Health, ports.MaxBody)
	ports.NewHTTP(application, deps.Signer).Register(engine)
	grpcServer := grpcx.NewServer(deps.Log, deps.Signer)
	usersv1.RegisterUsersServiceServer(grpcServer, ports.NewGRPC(application, deps.Log))

	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	s := &Service{
		HTTP: engine,
		GRPC: grpcServer,
		LiveSettings: map[string]liveconfig.Setter{
			"login_attempts_per_minute": func(v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return fmt.Errorf("login_attempts_per_minute=%q: want a non-negative integer", v)
				}
				limiter.SetPerMinute(n)
				return nil
			},
		},
		db:   gdb,
		stop: stop,
	}
	s.every(bg, cfg.KeyReload, deps.Log, "signing key upkeep", application.MaintainSigningKeys)
	s.every(bg, cfg.PruneInterval, deps.Log, "refresh token pruning", application.PruneRefreshTokens)
	return s, nil
}

// every runs job every interval until Close; a failure is logged and retried next time,
// as the instance keeps signing with the keys it has.
func (s *Service) every(ctx context.Context, interval time.Duration, log *slog.Logger, what string, job func(context.Context) error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				jctx, cancel := context.WithTimeout(ctx, interval)
				if err := job(jctx); err != nil && ctx.Err() == nil {
					log.Warn(what+" failed", "err", err)
				}
				cancel()
			}
		}
	}()
}

// Close stops the background upkeep and closes the database; server.Run calls it after the
// ports stopped.
func (s *Service) Close(context.Context) {
	s.stop()
	s.wg.Wait()
	closeDB(s.db)
}

func closeDB(gdb *gorm.DB) {
	if sqlDB, err := gdb.DB(); err == nil {
		_ = sqlDB.Close()
	}
}
