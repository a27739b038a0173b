// Package config reads the gateway's settings from the environment.
package config

import (
	"fmt"
	"os"
	"time"

	"github.com/convene/convene/platform/config"
)

// DefaultHTTPAddr is where the gateway listens by default: loopback, port 8080.
const DefaultHTTPAddr = "127.0.0.1:8080"

// Config is everything the gateway reads at start; AuthRateLimit and AuthRateBurst can
// also change live from Consul KV (convene/gateway/auth_rate_limit, auth_rate_burst).
type Config struct {
	config.Base
	// FrontendDir is served with an SPA fallback when it exists.
	FrontendDir string
	// CORSOrigins may call the API from a browser with credentials; empty means
	// same-origin only.
	CORSOrigins []string
	// TrustedProxies (IPs or CIDRs) may set X-Forwarded-For; nobody by default, so that
	// a client cannot pick the IP its rate limit is counted under.
	TrustedProxies []string
	JWTIssuer      string
	JWTAudience    string
	// JWTLeeway absorbs clock skew on exp and nbf.
	JWTLeeway time.Duration
	// JWKSMinRefetch bounds how often unknown kids may make the gateway fetch the JWKS.
	JWKSMinRefetch time.Duration
	// TokenCacheSize bounds the verified-token cache.
	TokenCacheSize int
	// MaxBody is the largest request body accepted (413 beyond it).
	MaxBody int64
	// AuthRateLimit is how many register/login/refresh requests a minute one IP may make
	// on each of those routes, with bursts of AuthRateBurst.
	AuthRateLimit int
	AuthRateBurst int
	DialTimeout   time.Duration
	// UpstreamTimeout bounds the wait for a service's response headers (504 beyond it).
	UpstreamTimeout time.Duration
	// EjectAfter consecutive failures leave an instance out of the rotation for EjectFor.
	EjectAfter int
	EjectFor   time.Duration
	// PprofAddr, when set, serves net/http/pprof there (keep it on loopback): profiling
	// the gateway under load is how its figures in docs/benchmarks-gateway.md were found.
	PprofAddr string
}

// Load reads the gateway's settings and reports every malformed one at once.
func Load(env *config.Env) (Config, error) {
	base := config.LoadBase(env, "gateway", DefaultHTTPAddr, "")
	if env.String("INSTANCE_ID", "") == "" {
		// LoadBase names instances after their gRPC port, which the gateway has not.
		host, _ := os.Hostname()
		base.Instance = "gateway-" + host
	}
	c := Config{
		Base:            base,
		FrontendDir:     env.String("FRONTEND_DIR", "frontend/dist"),
		CORSOrigins:     env.List("CORS_ORIGINS", nil),
		TrustedProxies:  env.List("TRUSTED_PROXIES", nil),
		JWTIssuer:       env.String("JWT_ISSUER", "convene"),
		JWTAudience:     env.String("JWT_AUDIENCE", "convene-api"),
		JWTLeeway:       env.Duration("JWT_LEEWAY", 10*time.Second),
		JWKSMinRefetch:  env.Duration("JWKS_MIN_REFETCH", 5*time.Second),
		TokenCacheSize:  env.Int("TOKEN_CACHE_SIZE", 100_000),
		MaxBody:         int64(env.Int("MAX_BODY_BYTES", 1<<20)),
		AuthRateLimit:   env.Int("AUTH_RATE_LIMIT", 20),
		AuthRateBurst:   env.Int("AUTH_RATE_BURST", 10),
		DialTimeout:     env.Duration("UPSTREAM_DIAL_TIMEOUT", 2*time.Second),
		UpstreamTimeout: env.Duration("UPSTREAM_TIMEOUT", 30*time.Second),
		EjectAfter:      env.Int("EJECT_AFTER_FAILURES", 3),
		EjectFor:        env.Duration("EJECT_DURATION", 10*time.Second),
		PprofAddr:       env.String("PPROF_ADDR", ""),
	}
	if err := env.Err(); err != nil {
		return Config{}, err
	}
	switch {
	case c.MaxBody <= 0:
		return Config{}, fmt.Errorf("config: MAX_BODY_BYTES must be positive")
	case c.AuthRateLimit <= 0 || c.AuthRateBurst <= 0:
		return Config{}, fmt.Errorf("config: AUTH_RATE_LIMIT and AUTH_RATE_BURST must be positive")
	case c.TokenCacheSize <= 0:
		return Config{}, fmt.Errorf("config: TOKEN_CACHE_SIZE must be positive")
	}
	return c, nil
}
