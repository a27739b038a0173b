package service

import (
	"fmt"
	"strings"
	"time"

	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/users-svc/internal/adapters"
)

// Name is the service's name in discovery and logs.
const Name = "users-svc"

// Config is users-svc's configuration: the shared settings plus its own.
type Config struct {
	config.Base
	// AccessTTL is the lifetime of access tokens (ACCESS_TOKEN_TTL, default 15m).
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of each refresh token (REFRESH_TOKEN_TTL, default 720h);
	// every refresh starts it anew.
	RefreshTTL time.Duration
	// Issuer and Audience go into every access token (JWT_ISSUER, JWT_AUDIENCE).
	Issuer   string
	Audience string
	// KeyRotation is how long one signing key signs (SIGNING_KEY_ROTATION, default 24h).
	KeyRotation time.Duration
	// KeyReload is how often an instance reloads the keys and rotates when due
	// (SIGNING_KEY_RELOAD, default 1m).
	KeyReload time.Duration
	// PruneInterval is how often expired refresh tokens are deleted (REFRESH_PRUNE_INTERVAL,
	// default 1h).
	PruneInterval time.Duration
	// Argon2 are the password-hash costs (ARGON2_MEMORY_KIB, ARGON2_ITERATIONS,
	// ARGON2_PARALLELISM).
	Argon2 adapters.Argon2Params
	// LoginAttemptsPerMinute bounds login attempts per account (LOGIN_ATTEMPTS_PER_MINUTE,
	// default 10, 0 = off); live-settable as convene/users-svc/login_attempts_per_minute.
	LoginAttemptsPerMinute int
}

// LoadConfig reads the configuration from env and reports every bad value at once.
func LoadConfig(env *config.Env) (Config, error) {
	c := Config{
		Base:                   config.LoadBase(env, Name, discovery.DefaultHTTPAddr(Name), discovery.DefaultGRPCAddr(Name)),
		AccessTTL:              env.Duration("ACCESS_TOKEN_TTL", 15*time.Minute),
		RefreshTTL:             env.Duration("REFRESH_TOKEN_TTL", 30*24*time.Hour),
		Issuer:                 env.String("JWT_ISSUER", "convene"),
		Audience:               env.String("JWT_AUDIENCE", "convene-api"),
		KeyRotation:            env.Duration("SIGNING_KEY_ROTATION", 24*time.Hour),
		KeyReload:              env.Duration("SIGNING_KEY_RELOAD", time.Minute),
		PruneInterval:          env.Duration("REFRESH_PRUNE_INTERVAL", time.Hour),
		LoginAttemptsPerMinute: env.Int("LOGIN_ATTEMPTS_PER_MINUTE", 10),
	}
	memory := env.Int("ARGON2_MEMORY_KIB", int(adapters.DefaultArgon2Params.MemoryKiB))
	iterations := env.Int("ARGON2_ITERATIONS", int(adapters.DefaultArgon2Params.Iterations))
	parallelism := env.Int("ARGON2_PARALLELISM", int(adapters.DefaultArgon2Params.Parallelism))
	if err := env.Err(); err != nil {
		return Config{}, err
	}
	bad := c.validate()
	// The floor is what makes a hash cost something; the ceilings keep a typo from
	// exhausting the machine (and the values within their integer types).
	if memory < 8*1024 || memory > 1<<20 {
		bad = append(bad, "ARGON2_MEMORY_KIB must be between 8192 and 1048576")
	}
	if iterations < 1 || iterations > 16 {
		bad = append(bad, "ARGON2_ITERATIONS must be between 1 and 16")
	}
	if parallelism < 1 || parallelism > 16 {
		bad = append(bad, "ARGON2_PARALLELISM must be between 1 and 16")
	}
	if len(bad) > 0 {
		return Config{}, fmt.Errorf("config: %s", strings.Join(bad, "; "))
	}
	c.Argon2 = adapters.Argon2Params{MemoryKiB: uint32(memory), Iterations: uint32(iterations), Parallelism: uint8(parallelism)}
	return c, nil
}

func (c Config) validate() []string {
	var bad []string
	if c.AccessTTL < time.Minute {
		bad = append(bad, "ACCESS_TOKEN_TTL must be at least 1m")
	}
	if c.RefreshTTL < c.AccessTTL {
		bad = append(bad, "REFRESH_TOKEN_TTL must be at least ACCESS_TOKEN_TTL")
	}
	if c.KeyRotation < time.Second {
		bad = append(bad, "SIGNING_KEY_ROTATION must be at least 1s")
	}
	if c.KeyReload <= 0 || c.KeyReload > time.Hour {
		bad = append(bad, "SIGNING_KEY_RELOAD must be positive and at most 1h")
	}
	if c.PruneInterval <= 0 {
		bad = append(bad, "REFRESH_PRUNE_INTERVAL must be positive")
	}
	if c.LoginAttemptsPerMinute < 0 {
		bad = append(bad, "LOGIN_ATTEMPTS_PER_MINUTE must not be negative")
	}
	return bad
}
