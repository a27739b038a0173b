// Package service wires messages-svc together from its configuration: adapters, the
// application, the realtime hub and the HTTP, socket and gRPC ports.
package service

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/grpc"
	"gorm.io/gorm"

	"github.com/convene/convene/messages-svc/internal/adapters"
	"github.com/convene/convene/messages-svc/internal/app"
	"github.com/convene/convene/messages-svc/internal/ports"
	"github.com/convene/convene/messages-svc/internal/realtime"
	"github.com/convene/convene/messages-svc/migrations"
	"github.com/convene/convene/platform/cache"
	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/grpcx"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/server"
	chatsv1 "github.com/convene/convene/proto/chats/v1"
	messagesv1 "github.com/convene/convene/proto/messages/v1"
	usersv1 "github.com/convene/convene/proto/users/v1"
)

// Name is the service's name in discovery.
const Name = "messages-svc"

// Config is messages-svc's configuration.
type Config struct {
	config.Base
	Socket ports.SocketConfig
	// MembershipTTL bounds how long a chat's member list is kept in this process
	// (MEMBERSHIP_CACHE_TTL); membership events clear it sooner.
	MembershipTTL time.Duration
	// PprofAddr, when set, serves net/http/pprof there (PPROF_ADDR); loopback only.
	PprofAddr string
}

// maxMembershipTTL bounds MEMBERSHIP_CACHE_TTL: the TTL is the longest a removed member may
// keep receiving when the invalidation of their removal is lost.
const maxMembershipTTL = time.Minute

// LoadConfig reads the configuration from env; defaults run the embedded setup.
func LoadConfig(env *config.Env) (Config, error) {
	def := ports.DefaultSocketConfig()
	cfg := Config{
		Base: config.LoadBase(env, Name, discovery.DefaultHTTPAddr(Name), discovery.DefaultGRPCAddr(Name)),
		Socket: ports.SocketConfig{
			MaxFrame:     int64(env.Int("WS_MAX_FRAME_BYTES", int(def.MaxFrame))),
			HardMaxFrame: def.HardMaxFrame,
			QueueSize:    env.Int("WS_SEND_QUEUE", def.QueueSize),
			Rate:         float64(env.Int("WS_RATE_PER_SECOND", int(def.Rate))),
			Burst:        env.Int("WS_RATE_BURST", def.Burst),
			PingPeriod:   env.Duration("WS_PING_PERIOD", def.PingPeriod),
			WriteWait:    env.Duration("WS_WRITE_WAIT", def.WriteWait),
			GapTimeout:   env.Duration("WS_GAP_TIMEOUT", def.GapTimeout),
			OpTimeout:    def.OpTimeout,
			SendBuffer:   env.Int("WS_SOCKET_SEND_BUFFER", def.SendBuffer),
		},
		MembershipTTL: env.Duration("MEMBERSHIP_CACHE_TTL", 5*time.Second),
		PprofAddr:     env.String("PPROF_ADDR", ""),
	}
	if err := env.Err(); err != nil {
		return Config{}, err
	}
	if cfg.MembershipTTL <= 0 || cfg.MembershipTTL > maxMembershipTTL {
		return Config{}, fmt.Errorf("config: MEMBERSHIP_CACHE_TTL must be between 1ms and %s", maxMembershipTTL)
	}
	if cfg.PprofAddr != "" && !isLoopback(cfg.PprofAddr) {
		return Config{}, fmt.Errorf("config: PPROF_ADDR=%q must be a loopback address, e.g. 127.0.0.1:6060: profiles expose internals", cfg.PprofAddr)
	}
	s := cfg.Socket
	if s.MaxFrame < 1024 || s.MaxFrame > s.HardMaxFrame || s.QueueSize < 2 || s.Rate <= 0 || s.Burst < 1 ||
		s.PingPeriod <= 0 || s.WriteWait <= 0 || s.GapTimeout <= 0 || s.SendBuffer < 0 {
		return Config{}, fmt.Errorf("config: WS_* settings out of range")
	}
	return cfg, nil
}

// isLoopback reports whether addr (host:port) listens on the loopback interface only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Service is a built messages-svc, ready to Run.
type Service struct {
	deps     *server.Deps
	cfg      Config
	db       *gorm.DB
	http     http.Handler
	grpc     *grpcx.Server
	hub      *realtime.Hub
	socket   *ports.Socket
	activity *adapters.ActivityReporter
	conns    []*grpc.ClientConn
}

// New builds the service: dependencies, database (migrated), clients of chats-svc and
// users-svc, the hub on the bus, and the ports.
func New(ctx context.Context, cfg Config) (*Service, error) {
	deps, err := server.NewDeps(ctx, cfg.Base)
	if err != nil {
		return nil, err
	}
	s := &Service{deps: deps, cfg: cfg}
	if err := s.build(ctx, cfg); err != nil {
		s.close()
		deps.Close()
		return nil, err
	}
	return s, nil
}

func (s *Service) build(ctx context.Context, cfg Config) error {
	deps := s.deps
	gdb, err := deps.OpenDB(ctx, migrations.FS)
	if err != nil {
		return err
	}
	s.db = gdb
	chatsConn, err := grpcx.Dial(grpcx.ClientParams{Service: "chats-svc", Resolver: deps.Resolver, Signer: deps.Signer, Caller: Name})
	if err != nil {
		return err
	}
	s.conns = append(s.conns, chatsConn)
	usersConn, err := grpcx.Dial(grpcx.ClientParams{Service: "users-svc", Resolver: deps.Resolver, Signer: deps.Signer, Caller: Name})
	if err != nil {
		return err
	}
	s.conns = append(s.conns, usersConn)

	chats := chatsv1.NewChatsServiceClient(chatsConn)
	members := adapters.NewCachedMembership(adapters.NewChatsClient(chats, Name), cfg.MembershipTTL)
	s.activity = adapters.NewActivityReporter(adapters.ActivityReporterParams{Chats: chats, Log: deps.Log})
	application := app.New(app.Params{
		Messages: adapters.NewMessageRepository(gdb),
		Members:  members,
		// Usernames never change through the API: an in-process cache is exact and spares
		// a Redis round trip per lookup.
		Users:    adapters.NewUsersClient(usersv1.NewUsersServiceClient(usersConn), cache.NewMemory()),
		Events:   adapters.NewEventBus(adapters.EventBusParams{Bus: deps.Bus, MembersChanged: members.Forget}),
		Typing:   adapters.NewTypingThrottle(deps.Limiter),
		Activity: s.activity,
		Log:      deps.Log,
	})
	hub, err := realtime.NewHub(ctx, realtime.HubParams{Bus: deps.Bus, Log: deps.Log, MembersChanged: members.Forget, Members: members.Members})
	if err != nil {
		return fmt.Errorf("bus subscribe: %w", err)
	}
	s.hub = hub
	s.socket = ports.NewSocket(application, hub, cfg.Socket, deps.Log)

	engine := httpx.NewEngine(deps.Log, deps.Health, ports.MaxBody)
	api := engine.Group("/api/v1", httpx.RequireIdentity(deps.Signer))
	ports.NewHTTP(application).Register(api)
	s.socket.Register(api)
	s.http = engine

	s.grpc = grpcx.NewServer(deps.Log, deps.Signer)
	messagesv1.RegisterMessagesServiceServer(s.grpc, ports.NewGRPC(application))
	return nil
}

// Run serves until ctx ends, then shuts down gracefully: sockets are closed with 1012
// (service restart) so that clients reconnect to another instance and resume, and the
// activity not yet reported to chats-svc is flushed.
func (s *Service) Run(ctx context.Context) error {
	stopPprof, err := s.servePprof()
	if err != nil {
		s.close()
		s.deps.Close()
		return err
	}
	activityCtx, stopActivity := context.WithCancel(context.WithoutCancel(ctx))
	activityDone := make(chan struct{})
	go func() {
		defer close(activityDone)
		s.activity.Run(activityCtx)
	}()
	return server.Run(ctx, server.RunParams{
		Deps: s.deps,
		HTTP: s.http,
		GRPC: s.grpc,
		OnShutdown: func(ctx context.Context) {
			s.hub.Close(websocket.CloseServiceRestart, "service restart")
			waited := make(chan struct{})
			go func() { s.socket.Wait(); close(waited) }()
			select {
			case <-waited:
			case <-ctx.Done():
			}
			// No message can be sent any more: the last reports go out now.
			stopActivity()
			<-activityDone
			stopPprof()
			s.close()
		},
	})
}

// servePprof serves the runtime profiles on PprofAddr when it is set (never on the public
// port); the returned func stops it.
func (s *Service) servePprof() (stop func(), err error) {
	if s.cfg.PprofAddr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", s.cfg.PprofAddr)
	if err != nil {
		return nil, fmt.Errorf("listen pprof %s: %w", s.cfg.PprofAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	s.deps.Log.Info("pprof serving", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

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
