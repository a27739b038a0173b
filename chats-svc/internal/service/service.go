// Package service wires chats-svc: it builds the adapters, the app and the ports from the
// shared dependencies and chats-svc's own settings.
package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"
	"gorm.io/gorm"

	"github.com/convene/convene/chats-svc/internal/adapters"
	"github.com/convene/convene/chats-svc/internal/app"
	"github.com/convene/convene/chats-svc/internal/ports"
	"github.com/convene/convene/chats-svc/migrations"
	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/grpcx"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/ratelimit"
	"github.com/convene/convene/platform/server"
	chatsv1 "github.com/convene/convene/proto/chats/v1"
	messagesv1 "github.com/convene/convene/proto/messages/v1"
	usersv1 "github.com/convene/convene/proto/users/v1"
)

// Name is the service's name in discovery and logs.
const Name = "chats-svc"

// Settings are chats-svc's own settings, read from the environment on top of config.Base.
type Settings struct {
	// WritesPerMinute bounds each user's chat creations, member additions and removals
	// (CHATS_WRITES_PER_MINUTE).
	WritesPerMinute int
	// RelayPollInterval, RelayMinBackoff and RelayMaxBackoff tune the event relay
	// (EVENT_RELAY_POLL_INTERVAL, EVENT_RELAY_MIN_BACKOFF, EVENT_RELAY_MAX_BACKOFF).
	RelayPollInterval time.Duration
	RelayMinBackoff   time.Duration
	RelayMaxBackoff   time.Duration
	// DrainDelay is how long the instance keeps serving after leaving Consul
	// (SHUTDOWN_DRAIN_DELAY).
	DrainDelay time.Duration
}

// LoadSettings reads Settings; malformed values are reported by env.Err.
func LoadSettings(env *config.Env) Settings {
	return Settings{
		WritesPerMinute:   env.Int("CHATS_WRITES_PER_MINUTE", 60),
		RelayPollInterval: env.Duration("EVENT_RELAY_POLL_INTERVAL", time.Second),
		RelayMinBackoff:   env.Duration("EVENT_RELAY_MIN_BACKOFF", 250*time.Millisecond),
		RelayMaxBackoff:   env.Duration("EVENT_RELAY_MAX_BACKOFF", 30*time.Second),
		DrainDelay:        env.Duration("SHUTDOWN_DRAIN_DELAY", time.Second),
	}
}

// Service is a wired chats-svc, ready for server.Run.
type Service struct {
	deps     *server.Deps
	settings Settings
	db       *gorm.DB
	conns    []*grpc.ClientConn
	http     http.Handler
	grpc     *grpcx.Server

	stopRelay context.CancelFunc
	relayDone chan struct{}
	closeOnce sync.Once
}

// New opens the database (applying migrations), connects to users-svc and messages-svc,
// builds the HTTP and gRPC ports and starts the event relay. Close releases it all.
func New(ctx context.Context, deps *server.Deps, s Settings) (*Service, error) {
	if s.WritesPerMinute < 1 {
		return nil, errors.New("CHATS_WRITES_PER_MINUTE must be positive")
	}
	gdb, err := deps.OpenDB(ctx, migrations.FS)
	if err != nil {
		return nil, err
	}
	svc := &Service{deps: deps, settings: s, db: gdb}
	usersConn, err := svc.dial("users-svc")
	if err != nil {
		svc.closeResources()
		return nil, err
	}
	messagesConn, err := svc.dial("messages-svc")
	if err != nil {
		svc.closeResources()
		return nil, err
	}
	messages := adapters.NewMessagesClient(messagesv1.NewMessagesServiceClient(messagesConn))

	store := adapters.NewRepository(adapters.RepositoryParams{DB: gdb})
	relay := app.NewEventRelay(app.RelayParams{
		Outbox:       store,
		Publisher:    messages,
		Log:          deps.Log,
		PollInterval: s.RelayPollInterval,
		MinBackoff:   s.RelayMinBackoff,
		MaxBackoff:   s.RelayMaxBackoff,
	})
	a := app.New(app.Params{
		Repo:           adapters.NewCachedRepository(store, deps.Cache, deps.Log),
		Users:          adapters.NewUsersClient(usersv1.NewUsersServiceClient(usersConn)),
		Messages:       messages,
		EventsRecorded: relay.Wake,
	})

	engine := httpx.NewEngine(deps.Log, deps.Health, ports.MaxBody)
	ports.RegisterHTTP(engine, ports.HTTPParams{
		App:        a,
		Signer:     deps.Signer,
		Limiter:    deps.Limiter,
		WriteLimit: ratelimit.PerMinute(s.WritesPerMinute),
		Log:        deps.Log,
	})
	svc.http = engine
	svc.grpc = grpcx.NewServer(deps.Log, deps.Signer)
	chatsv1.RegisterChatsServiceServer(svc.grpc, ports.NewGRPCServer(a, deps.Log))

	relayCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	svc.stopRelay, svc.relayDone = stop, make(chan struct{})
	go func() {
		defer close(svc.relayDone)
		relay.Run(relayCtx)
	}()
	return svc, nil
}

// RunParams is what server.Run serves; it closes the service once the servers stopped.
func (s *Service) RunParams() server.RunParams {
	return server.RunParams{
		Deps:       s.deps,
		HTTP:       s.http,
		GRPC:       s.grpc,
		DrainDelay: s.settings.DrainDelay,
		OnShutdown: func(context.Context) { s.Close() },
	}
}

// Close stops the event relay (events not yet delivered stay in the outbox for the next
// start or another instance) and closes the connections. It may be called more than once.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		s.stopRelay()
		<-s.relayDone
		s.closeResources()
	})
}

func (s *Service) dial(target string) (*grpc.ClientConn, error) {
	conn, err := grpcx.Dial(grpcx.ClientParams{
		Service:  target,
		Resolver: s.deps.Resolver,
		Signer:   s.deps.Signer,
		Caller:   Name,
	})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	s.conns = append(s.conns, conn)
	return conn, nil
}

func (s *Service) closeResources() {
	for _, c := range s.conns {
		_ = c.Close()
	}
	if sqlDB, err := s.db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}
