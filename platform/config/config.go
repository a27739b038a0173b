// Package config reads a service's settings from the environment, with defaults that make
// `make run` work on a bare machine (SQLite, in-process cache and bus, static addresses).
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Env reads typed values from the environment and remembers the first parse error, so that
// a service can read all its settings and report every bad one at once.
type Env struct {
	lookup func(string) (string, bool)
	errs   []string
}

// FromOS reads the process environment.
func FromOS() *Env { return &Env{lookup: os.LookupEnv} }

// FromMap reads a fixed map; tests use it.
func FromMap(m map[string]string) *Env {
	return &Env{lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

// String returns the value of key, or def when it is unset or empty.
func (e *Env) String(key, def string) string {
	if v, ok := e.lookup(key); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

// Int returns the integer value of key, or def.
func (e *Env) Int(key string, def int) int {
	v := e.String(key, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Sprintf("%s=%q is not an integer", key, v))
		return def
	}
	return n
}

// Duration returns the duration value of key (Go syntax, e.g. "15m"), or def.
func (e *Env) Duration(key string, def time.Duration) time.Duration {
	v := e.String(key, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Sprintf("%s=%q is not a duration", key, v))
		return def
	}
	return d
}

// Bool returns the boolean value of key, or def.
func (e *Env) Bool(key string, def bool) bool {
	v := e.String(key, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Sprintf("%s=%q is not a boolean", key, v))
		return def
	}
	return b
}

// Float returns the floating-point value of key, or def.
func (e *Env) Float(key string, def float64) float64 {
	v := e.String(key, "")
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		e.errs = append(e.errs, fmt.Sprintf("%s=%q is not a number", key, v))
		return def
	}
	return f
}

// List returns the comma-separated values of key, or def.
func (e *Env) List(key string, def []string) []string {
	v := e.String(key, "")
	if v == "" {
		return def
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Err reports every malformed value read so far.
func (e *Env) Err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return fmt.Errorf("config: %s", strings.Join(e.errs, "; "))
}

// Base holds the settings every service shares. Each service embeds it in its own config.
type Base struct {
	// Service is the name registered in Consul, e.g. "users-svc".
	Service string
	// Instance tells instances of one service apart in logs and in Consul.
	Instance string
	HTTPAddr string
	GRPCAddr string
	// AdvertiseHost is the address other processes reach this instance at.
	AdvertiseHost string
	// DatabaseURL selects Postgres when set; otherwise SQLitePath is used.
	DatabaseURL string
	SQLitePath  string
	// RedisURL selects Redis for cache, bus and rate limits; otherwise they are in-process.
	RedisURL string
	// ConsulAddr selects Consul for discovery and live config; otherwise the static
	// addresses of package discovery are used.
	ConsulAddr string
	// InternalSecret signs the identity the gateway passes to services (see authn).
	InternalSecret string
	LogLevel       string
	LogFormat      string
	// ShutdownGrace bounds how long in-flight requests may take to finish on shutdown.
	ShutdownGrace time.Duration
	// DrainDelay (DRAIN_DELAY, default 1s) is how long a stopping instance keeps serving
	// after it left discovery, for callers to stop picking it; raise it where callers
	// learn of the change more slowly (e.g. a Kubernetes Service in front).
	DrainDelay time.Duration
	// Tracing selects OpenTelemetry export; the zero value exports nothing.
	Tracing Tracing
}

// Tracing is the OpenTelemetry export settings, read from the standard OTEL_* variables so
// that the usual collector recipes work unchanged. The exporter itself also reads the other
// OTEL_EXPORTER_OTLP_* variables (headers, certificates, timeout, compression).
type Tracing struct {
	// OTLPEndpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT)
	// turns export on, e.g. "http://otel-collector:4318"; empty means off.
	OTLPEndpoint string
	// OTLPProtocol (OTEL_EXPORTER_OTLP_PROTOCOL) is "http/protobuf" (the default) or "grpc".
	OTLPProtocol string
	// SampleRatio (OTEL_TRACES_SAMPLER_ARG, 0..1, default 1) is the share of new traces
	// recorded; a trace started upstream keeps its caller's decision.
	SampleRatio float64
}

// LoadBase reads the shared settings; defaults are the service's fixed local ports.
func LoadBase(e *Env, service, defHTTP, defGRPC string) Base {
	host, _ := os.Hostname()
	b := Base{
		Service:        service,
		HTTPAddr:       e.String("HTTP_ADDR", defHTTP),
		GRPCAddr:       e.String("GRPC_ADDR", defGRPC),
		AdvertiseHost:  e.String("ADVERTISE_HOST", "127.0.0.1"),
		DatabaseURL:    e.String("DATABASE_URL", ""),
		SQLitePath:     e.String("SQLITE_PATH", "var/"+service+".db"),
		RedisURL:       e.String("REDIS_URL", ""),
		ConsulAddr:     e.String("CONSUL_HTTP_ADDR", ""),
		InternalSecret: e.String("INTERNAL_AUTH_SECRET", ""),
		LogLevel:       e.String("LOG_LEVEL", "info"),
		LogFormat:      e.String("LOG_FORMAT", "json"),
		ShutdownGrace:  e.Duration("SHUTDOWN_GRACE", 15*time.Second),
		DrainDelay:     e.Duration("DRAIN_DELAY", time.Second),
		Tracing: Tracing{
			OTLPEndpoint: e.String("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", e.String("OTEL_EXPORTER_OTLP_ENDPOINT", "")),
			OTLPProtocol: e.String("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
			SampleRatio:  e.Float("OTEL_TRACES_SAMPLER_ARG", 1),
		},
	}
	b.Instance = e.String("INSTANCE_ID", fmt.Sprintf("%s-%s-%s", service, host, portOf(b.GRPCAddr)))
	switch b.Tracing.OTLPProtocol {
	case "http/protobuf", "grpc":
	default:
		e.errs = append(e.errs, fmt.Sprintf("OTEL_EXPORTER_OTLP_PROTOCOL=%q: want http/protobuf or grpc", b.Tracing.OTLPProtocol))
	}
	if r := b.Tracing.SampleRatio; r < 0 || r > 1 {
		e.errs = append(e.errs, fmt.Sprintf("OTEL_TRACES_SAMPLER_ARG=%v: want a ratio between 0 and 1", r))
	}
	if len(b.InternalSecret) < 16 {
		e.errs = append(e.errs, "INTERNAL_AUTH_SECRET must be set to at least 16 characters")
	}
	return b
}

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i+1:]
	}
	return addr
}
