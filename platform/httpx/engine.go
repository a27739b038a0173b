package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"

	"github.com/convene/convene/platform/tracing"
)

// ReadyCheck reports whether a dependency is reachable; /readyz runs every check.
type ReadyCheck func(ctx context.Context) error

// Health serves /healthz and /readyz. Draining makes /readyz fail while the process finishes
// in-flight work during shutdown, so that balancers stop sending it new requests.
type Health struct {
	mu       sync.RWMutex
	checks   map[string]ReadyCheck
	draining atomic.Bool
}

// NewHealth returns a Health with the given named readiness checks.
func NewHealth(checks map[string]ReadyCheck) *Health {
	if checks == nil {
		checks = map[string]ReadyCheck{}
	}
	return &Health{checks: checks}
}

// AddCheck adds a named readiness check.
func (h *Health) AddCheck(name string, check ReadyCheck) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = check
}

// SetDraining marks the process as shutting down.
func (h *Health) SetDraining() { h.draining.Store(true) }

// Ready runs the readiness checks; nil means ready.
func (h *Health) Ready(ctx context.Context) map[string]string {
	failed := map[string]string{}
	if h.draining.Load() {
		failed["process"] = "draining"
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for name, check := range h.checks {
		if err := check(ctx); err != nil {
			failed[name] = err.Error()
		}
	}
	return failed
}

// Routes registers /healthz, /readyz and /metrics on r.
func (h *Health) Routes(r gin.IRoutes) {
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if failed := h.Ready(ctx); len(failed) > 0 {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "failed": failed})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
	})
	r.GET("/metrics", gin.WrapH(promhttp.Handler()))
}

// NewEngine returns a gin engine with the middleware every service uses, in order:
// tracing, request ID, access log, recovery, metrics, body limit; plus the health routes.
// Spans go to the process-wide tracer provider (see tracing.Provider.Install).
func NewEngine(log *slog.Logger, health *Health, maxBody int64) *gin.Engine {
	return NewEngineWith(EngineParams{Log: log, Health: health, MaxBody: maxBody})
}

// EngineParams configures NewEngineWith.
type EngineParams struct {
	Log     *slog.Logger
	Health  *Health
	MaxBody int64
	// Tracing receives the engine's spans; nil means the process-wide provider.
	Tracing *tracing.Provider
}

// NewEngineWith is NewEngine with every setting explicit.
func NewEngineWith(p EngineParams) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	r.Use(Tracing(p.Tracing), RequestID(), AccessLog(p.Log), Recovery(p.Log), Metrics(), BodyLimit(p.MaxBody))
	r.NoRoute(func(c *gin.Context) { Abort(c, NotFound("no such route")) })
	r.NoMethod(func(c *gin.Context) {
		Abort(c, NewError(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"))
	})
	p.Health.Routes(r)
	return r
}

// Tracing continues the caller's trace (W3C traceparent) or starts one, with a server span
// per request that every later middleware and handler log line carries. Probes and
// scrapes (/healthz, /readyz, /metrics) are not traced: they would drown the real traffic.
// A nil provider means the process-wide one.
func Tracing(p *tracing.Provider) gin.HandlerFunc {
	opts := []otelgin.Option{otelgin.WithFilter(func(r *http.Request) bool { return !isProbe(r.URL.Path) })}
	if p != nil {
		opts = append(opts, otelgin.WithTracerProvider(p.TracerProvider), otelgin.WithPropagators(p.Propagator))
	}
	return otelgin.Middleware("", opts...)
}

func isProbe(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics"
}
