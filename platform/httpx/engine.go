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
// request ID, access log, recovery, metrics, body limit; plus the health routes.
func NewEngine(log *slog.Logger, health *Health, maxBody int64) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	r.Use(RequestID(), AccessLog(log), Recovery(log), Metrics(), BodyLimit(maxBody))
	r.NoRoute(func(c *gin.Context) { Abort(c, NotFound("no such route")) })
	r.NoMethod(func(c *gin.Context) {
		Abort(c, NewError(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"))
	})
	health.Routes(r)
	return r
}
