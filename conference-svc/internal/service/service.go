// Package service wires conference-svc: the database and teams-svc client (adapters), the
// use cases (app), the REST and gRPC ports, the rooms (rtc), the media engine (sfu) and the
// signaling socket that ties a client to its room and its peer connection.
package service

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"gorm.io/gorm"

	"github.com/convene/convene/conference-svc/internal/adapters"
	"github.com/convene/convene/conference-svc/internal/app"
	"github.com/convene/convene/conference-svc/internal/domain"
	"github.com/convene/convene/conference-svc/internal/ports"
	"github.com/convene/convene/conference-svc/internal/relay"
	"github.com/convene/convene/conference-svc/internal/rtc"
	"github.com/convene/convene/conference-svc/internal/sfu"
	"github.com/convene/convene/conference-svc/migrations"
	"github.com/convene/convene/platform/grpcx"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/ratelimit"
	"github.com/convene/convene/platform/server"
	conferencev1 "github.com/convene/convene/proto/conference/v1"
	teamsv1 "github.com/convene/convene/proto/teams/v1"
)

// speakerInterval is how often each room looks for its active speaker.
const speakerInterval = 500 * time.Millisecond

// Service is a built conference-svc, ready to Run.
type Service struct {
	deps      *server.Deps
	db        *gorm.DB
	teamsConn *grpc.ClientConn
	engine    *sfu.Engine
	// relay is the embedded TURN server, nil unless TURN_ENABLED.
	relay     *relay.Server
	ice       []rtc.ICEServer
	rooms     *Rooms
	recorder  *stateRecorder
	placement *Placement
	sweeper   *orphanSweeper
	// sweepEvery is how often the sweeper runs (with Redis).
	sweepEvery time.Duration
	signaling  *Signaling
	renewing   sync.WaitGroup
	stopRenew  context.CancelFunc
	grpc       *grpcx.Server
	http       http.Handler
	drain      time.Duration
}

// New builds the service from its configuration and the shared dependencies.
func New(ctx context.Context, cfg Config, deps *server.Deps) (*Service, error) {
	gdb, err := deps.OpenDB(ctx, migrations.FS)
	if err != nil {
		return nil, err
	}
	teamsConn, err := grpcx.Dial(grpcx.ClientParams{
		Service: "teams-svc", Resolver: deps.Resolver, Signer: deps.Signer, Caller: Name,
	})
	if err != nil {
		closeDB(gdb)
		return nil, fmt.Errorf("dial teams-svc: %w", err)
	}
	engine, err := sfu.NewEngine(sfu.EngineParams{
		UDPAddr: cfg.MediaUDPAddr, NAT1To1IP: cfg.NAT1To1IP, FailedTimeout: cfg.ICEFailedTimeout, Log: deps.Log,
		TCPAddr: cfg.MediaTCPAddr, MaxBitrate: cfg.SubscriberMaxBitrate, Pacing: cfg.MediaPacing,
	})
	if err != nil {
		_ = teamsConn.Close()
		closeDB(gdb)
		return nil, err
	}

	s := &Service{deps: deps, db: gdb, teamsConn: teamsConn, engine: engine, drain: cfg.DrainDelay, ice: iceServers(cfg),
		sweepEvery: cfg.PlacementSweep}
	if cfg.TURN.Enabled {
		s.relay, err = relay.NewServer(relay.ServerParams{
			UDPAddr: cfg.TURN.UDPAddr, TCPAddr: cfg.TURN.TCPAddr, Realm: cfg.TURN.Realm, Secret: cfg.TURN.Secret,
			PublicIP: cfg.TURN.PublicIP, CredentialTTL: cfg.TURN.CredentialTTL, Log: deps.Log,
		})
		if err != nil {
			_ = engine.Close()
			_ = teamsConn.Close()
			closeDB(gdb)
			return nil, err
		}
	}
	// Rooms are opened on the first join, after New returned, so they see the recorder.
	s.rooms = NewRooms(func(c domain.Conference) rtc.RoomParams {
		return rtc.RoomParams{
			ConferenceID:    c.ID,
			WaitingRoom:     c.WaitingRoom,
			EmptyTimeout:    cfg.EmptyRoomTimeout,
			ICEServers:      s.iceServersFor,
			ReconnectGrace:  cfg.ReconnectGrace,
			SpeakerInterval: speakerInterval,
			Observer:        s.recorder,
			Log:             deps.Log,
		}
	})
	a := app.New(app.Params{
		Conferences: adapters.NewConferences(gdb),
		Memberships: adapters.NewMemberships(teamsv1.NewTeamsServiceClient(teamsConn)),
		Rooms:       s.rooms,
	})
	s.recorder = newStateRecorder(a, deps.Log)
	s.placement = NewPlacement(PlacementParams{
		Redis: deps.Redis, Self: cfg.Instance, Resolver: deps.Resolver, Load: s.rooms.Load, Log: deps.Log,
	})
	s.sweeper = newOrphanSweeper(orphanSweeperParams{
		Live: a.LiveConferences, Rooms: s.rooms, Placement: s.placement, Observer: s.recorder,
		Dormancy: cfg.EmptyRoomTimeout, Log: deps.Log,
	})
	s.signaling = NewSignaling(SignalingParams{
		App: a, Rooms: s.rooms, Placement: s.placement, Engine: engine, Log: deps.Log,
		FramesPerSecond: cfg.FramesPerSecond, FrameBurst: cfg.FrameBurst,
	})

	router := httpx.NewEngine(deps.Log, deps.Health, ports.MaxBody)
	api := router.Group("/", httpx.RequireIdentity(deps.Signer))
	ports.NewHTTP(ports.HTTPParams{
		App: a, Limiter: deps.Limiter, CreateLimit: ratelimit.PerMinute(cfg.CreatePerMinute),
	}).Register(api)
	s.signaling.Register(api)
	s.http = router

	s.grpc = grpcx.NewServer(deps.Log, deps.Signer)
	conferencev1.RegisterConferenceServiceServer(s.grpc, ports.NewGRPC(a))
	return s, nil
}

// Run serves until ctx ends, then shuts down gracefully.
func (s *Service) Run(ctx context.Context) error {
	renewCtx, stop := context.WithCancel(ctx)
	s.stopRenew = stop
	s.renewing.Add(1)
	go s.keepPlacements(renewCtx)
	return server.Run(ctx, server.RunParams{
		Deps:       s.deps,
		HTTP:       s.http,
		GRPC:       s.grpc,
		DrainDelay: s.drain,
		OnShutdown: s.shutdown,
	})
}

// shutdown disconnects every client (without ending their conferences), records the rooms'
// last state and releases the media port, the teams-svc connection and the database.
func (s *Service) shutdown(ctx context.Context) {
	s.rooms.Shutdown()
	s.stopRenew()
	s.renewing.Wait()
	// Let another instance open these rooms at once rather than after the claims expire,
	// and take no new ones.
	_, closed := s.rooms.placementsDue()
	for _, id := range closed {
		s.placement.Release(ctx, id)
	}
	s.placement.WithdrawLoad(ctx)
	done := make(chan struct{})
	go func() {
		s.signaling.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.deps.Log.Warn("signaling sockets still open at shutdown")
	}
	s.recorder.Close()
	if s.relay != nil {
		if err := s.relay.Close(); err != nil {
			s.deps.Log.Warn("TURN server close", "err", err)
		}
	}
	if err := s.engine.Close(); err != nil {
		s.deps.Log.Warn("media engine close", "err", err)
	}
	_ = s.teamsConn.Close()
	closeDB(s.db)
}

// keepPlacements, until ctx ends: reports this instance's load, renews its claims on its
// rooms, closes the rooms another instance took over, releases the claims of rooms that
// closed, and sweeps for live conferences nobody hosts. Without Redis the sweep runs once, at start: the one instance
// then hosts nothing, so every live conference is left over from its previous run.
func (s *Service) keepPlacements(ctx context.Context) {
	defer s.renewing.Done()
	load := time.NewTicker(loadEvery)
	defer load.Stop()
	renew := time.NewTicker(renewEvery)
	defer renew.Stop()
	every := s.sweepEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	sweep := time.NewTicker(every)
	defer sweep.Stop()
	s.placement.ReportLoad(ctx)
	s.sweeper.sweep(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-load.C:
			s.placement.ReportLoad(ctx)
		case <-renew.C:
			open, closed := s.rooms.placementsDue()
			s.rooms.Lost(s.placement.Renew(ctx, open)...)
			for _, id := range closed {
				s.placement.Release(ctx, id)
			}
		case <-sweep.C:
			if s.deps.Redis != nil {
				s.sweeper.sweep(ctx)
			}
		}
	}
}

func closeDB(gdb *gorm.DB) {
	if sqlDB, err := gdb.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// iceServersFor is what a user is told to use in "joined": the configured STUN/TURN
// servers, and the embedded TURN server with a credential of their own.
func (s *Service) iceServersFor(userID string) []rtc.ICEServer {
	out := slices.Clone(s.ice)
	if s.relay == nil {
		return out
	}
	username, credential, err := s.relay.Credentials(userID)
	if err != nil {
		s.deps.Log.Warn("TURN credentials", "err", err)
		return out
	}
	return append(out, rtc.ICEServer{URLs: s.relay.URLs(), Username: username, Credential: credential})
}

func iceServers(cfg Config) []rtc.ICEServer {
	out := make([]rtc.ICEServer, 0, len(cfg.ICEServers))
	for _, u := range cfg.ICEServers {
		srv := rtc.ICEServer{URLs: []string{u}}
		if strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:") {
			srv.Username, srv.Credential = cfg.TURNUsername, cfg.TURNCredential
		}
		out = append(out, srv)
	}
	return out
}
