package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/grpcx"
	"github.com/convene/convene/platform/liveconfig"
	"github.com/convene/convene/platform/logging"
)

// RunParams is what Run serves.
type RunParams struct {
	Deps *Deps
	// HTTP serves the public API (through the gateway) and /healthz, /readyz, /metrics.
	HTTP http.Handler
	// GRPC serves other services; nil for a process without gRPC (the gateway).
	GRPC *grpcx.Server
	// LiveSettings are applied from Consul KV under convene/<service>/; log_level is
	// always supported.
	LiveSettings map[string]liveconfig.Setter
	// Tags are added to the Consul registration.
	Tags []string
	// DrainDelay is how long the instance keeps serving after it left Consul, so that
	// callers' watchers drop it before it stops accepting (default: the config's
	// DRAIN_DELAY, else 1s).
	DrainDelay time.Duration
	// OnShutdown runs after the servers stopped, e.g. to close hubs and the database.
	OnShutdown func(ctx context.Context)
}

// Run listens, registers in Consul, serves until ctx ends, then shuts down in the order
// that loses no accepted request: leave Consul and fail readiness, wait for callers to
// notice, stop accepting, drain in-flight requests (bounded by ShutdownGrace), exit.
func Run(ctx context.Context, p RunParams) error {
	d := p.Deps
	cfg := d.Config
	httpLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen http %s: %w", cfg.HTTPAddr, err)
	}
	var grpcLn net.Listener
	if p.GRPC != nil {
		if grpcLn, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
			httpLn.Close()
			return fmt.Errorf("listen grpc %s: %w", cfg.GRPCAddr, err)
		}
	}

	httpSrv := &http.Server{
		Handler:           p.HTTP,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 2)
	go func() { errc <- serveErr("http", httpSrv.Serve(httpLn)) }()
	if p.GRPC != nil {
		p.GRPC.Health.SetServingStatus("", grpc_health_v1.HealthCheckResponse_SERVING)
		go func() { errc <- serveErr("grpc", p.GRPC.Serve(grpcLn)) }()
	}
	d.Log.Info("serving", "http", httpLn.Addr().String(), "grpc", addrOf(grpcLn))

	deregister := func() error { return nil }
	if d.Consul != nil && p.GRPC != nil {
		deregister, err = discovery.Register(d.Consul, discovery.Registration{
			Service:  cfg.Service,
			ID:       cfg.Instance,
			Host:     cfg.AdvertiseHost,
			HTTPPort: portOf(httpLn),
			GRPCPort: portOf(grpcLn),
			Tags:     p.Tags,
		})
		if err != nil {
			httpSrv.Close()
			p.GRPC.Stop()
			return err
		}
		d.Log.Info("registered in consul", "id", cfg.Instance)
	}
	if d.Consul != nil {
		setters := map[string]liveconfig.Setter{"log_level": func(v string) error {
			d.LogLevel.Set(logging.ParseLevel(v))
			return nil
		}}
		for k, s := range p.LiveSettings {
			setters[k] = s
		}
		go liveconfig.Watch(ctx, d.Consul, "convene/"+cfg.Service+"/", setters, d.Log)
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}

	d.Log.Info("shutting down")
	d.Health.SetDraining()
	if p.GRPC != nil {
		p.GRPC.Health.SetServingStatus("", grpc_health_v1.HealthCheckResponse_NOT_SERVING)
	}
	if err := deregister(); err != nil {
		d.Log.Warn("consul deregister failed", "err", err)
	}
	if runErr == nil {
		delay := p.DrainDelay
		if delay == 0 {
			delay = cfg.DrainDelay
		}
		if delay == 0 {
			// A Base built by hand rather than by LoadBase.
			delay = time.Second
		}
		d.Log.Info("draining", "delay", delay.String())
		time.Sleep(delay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if err := httpSrv.Shutdown(sctx); err != nil {
		d.Log.Warn("http drain incomplete", "err", err)
		httpSrv.Close()
	}
	if p.GRPC != nil {
		stopped := make(chan struct{})
		go func() { p.GRPC.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-sctx.Done():
			p.GRPC.Stop()
		}
	}
	if p.OnShutdown != nil {
		p.OnShutdown(sctx)
	}
	d.Close()
	d.Log.Info("stopped")
	return runErr
}

func serveErr(what string, err error) error {
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("%s server: %w", what, err)
}

func addrOf(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}

func portOf(l net.Listener) int {
	if l == nil {
		return 0
	}
	_, p, _ := net.SplitHostPort(l.Addr().String())
	n, _ := strconv.Atoi(p)
	return n
}
