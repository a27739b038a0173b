// Package service wires the gateway together from its configuration.
package service

import (
	"context"
	"fmt"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/convene/convene/gateway/internal/adapters"
	"github.com/convene/convene/gateway/internal/auth"
	"github.com/convene/convene/gateway/internal/config"
	"github.com/convene/convene/gateway/internal/ports"
	"github.com/convene/convene/gateway/internal/routing"
	"github.com/convene/convene/gateway/internal/upstream"
	"github.com/convene/convene/gateway/openapi"
	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/liveconfig"
	"github.com/convene/convene/platform/server"
)

// Gateway is the wired gateway: its handler and the settings Consul may change live.
type Gateway struct {
	HTTP         http.Handler
	LiveSettings map[string]liveconfig.Setter
	proxy        *upstream.Proxy
}

// New builds the gateway on deps. Its background work (discovery watches, revocation
// sync) stops when ctx ends.
func New(ctx context.Context, cfg config.Config, deps *server.Deps) (*Gateway, error) {
	table := routing.NewTable(routing.Default())
	var services []string
	for _, r := range table.Routes() {
		services = append(services, r.Service)
	}
	balancer := upstream.NewBalancer(ctx, deps.Resolver, services, upstream.EjectionParams{
		Failures: cfg.EjectAfter, Duration: cfg.EjectFor,
	})
	proxy := upstream.NewProxy(upstream.ProxyParams{
		Balancer: balancer, DialTimeout: cfg.DialTimeout, ResponseTimeout: cfg.UpstreamTimeout,
		Tracing: deps.Tracing,
	})

	var store auth.RevocationStore
	if deps.Redis != nil {
		store = adapters.NewRedisRevocations(deps.Redis)
	}
	revocations := auth.NewRevocations(store, deps.Log)
	revocations.Start(ctx)

	keys := authn.NewJWKSCache(authn.JWKSCacheParams{
		URL:        jwksURL(deps.Resolver),
		MinRefetch: cfg.JWKSMinRefetch,
	})
	authenticator := auth.NewAuthenticator(auth.AuthenticatorParams{
		Verifier: authn.NewTokenVerifier(authn.TokenVerifierParams{
			Keys: keys, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Leeway: cfg.JWTLeeway,
		}),
		Signer:      deps.Signer,
		Revocations: revocations,
		CacheSize:   cfg.TokenCacheSize,
	})

	if cfg.PprofAddr != "" {
		go servePprof(ctx, cfg.PprofAddr, deps)
	}

	doc, err := openapi.JSON()
	if err != nil {
		return nil, err
	}
	authLimit := ports.NewLiveLimit(cfg.AuthRateLimit, cfg.AuthRateBurst)
	handler, err := ports.NewHTTP(ports.HTTPParams{
		Log:            deps.Log,
		Health:         deps.Health,
		Routes:         table,
		Auth:           authenticator,
		Proxy:          proxy,
		Limiter:        deps.Limiter,
		AuthLimit:      authLimit,
		MaxBody:        cfg.MaxBody,
		CORSOrigins:    cfg.CORSOrigins,
		TrustedProxies: cfg.TrustedProxies,
		FrontendDir:    cfg.FrontendDir,
		OpenAPI:        doc,
		Tracing:        deps.Tracing,
	})
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	return &Gateway{
		HTTP: handler,
		LiveSettings: map[string]liveconfig.Setter{
			"auth_rate_limit": authLimit.SetRate,
			"auth_rate_burst": authLimit.SetBurst,
		},
		proxy: proxy,
	}, nil
}

// Close releases idle upstream connections.
func (g *Gateway) Close() { g.proxy.Close() }

// jwksURL locates the JWKS on a users-svc instance, a different one on each fetch so that
// one unhealthy instance does not keep the gateway from learning new keys.
func jwksURL(resolver discovery.Resolver) func(ctx context.Context) (string, error) {
	var next atomic.Uint32
	return func(ctx context.Context) (string, error) {
		in, err := resolver.Instances(ctx, routing.UsersSvc)
		if err != nil {
			return "", err
		}
		i := in[int(next.Add(1))%len(in)]
		return "http://" + i.HTTPAddr + "/.well-known/jwks.json", nil
	}
}

// servePprof serves the profiler on its own address until ctx ends.
func servePprof(ctx context.Context, addr string, deps *server.Deps) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		deps.Log.Warn("pprof server stopped", "err", err)
	}
}
