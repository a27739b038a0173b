package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/logging"
)

// RequestIDHeader carries the request ID from the gateway to the services and back.
const RequestIDHeader = "X-Request-Id"

// NewRequestID returns a random 128-bit hex id.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RequestID takes the request ID from the incoming header (or makes one), echoes it in the
// response and puts it in the request context for logs and outgoing calls.
func RequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(RequestIDHeader)
		if id == "" || len(id) > 128 {
			id = NewRequestID()
		}
		c.Header(RequestIDHeader, id)
		c.Request = c.Request.WithContext(logging.WithRequestID(c.Request.Context(), id))
		c.Next()
	}
}

// Recovery turns a panic into a 500 with API.md's error shape and logs it; the client
// never sees a stack trace.
func Recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				log.ErrorContext(c.Request.Context(), "panic in handler", "panic", r, "path", c.FullPath())
				if !c.Writer.Written() {
					Abort(c, NewError(http.StatusInternalServerError, CodeInternal, "internal error"))
				}
			}
		}()
		c.Next()
	}
}

// AccessLog writes one JSON line per request, at debug level for successful probes. The
// query string is logged with secrets (access_token and the like) redacted; headers are
// never logged.
func AccessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		switch {
		case isProbe(c.Request.URL.Path):
			// Balancers and orchestrators probe every few seconds: only a failing probe
			// (a draining or unready process) is worth a line at the usual levels.
			level = slog.LevelDebug
			if status >= 400 {
				level = slog.LevelWarn
			}
		case status >= 500:
			level = slog.LevelError
		}
		attrs := []any{
			"method", c.Request.Method,
			"path", c.Request.URL.Path,
			"status", status,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
			"bytes", c.Writer.Size(),
			"remote", c.ClientIP(),
		}
		if q := RedactQuery(c.Request.URL.RawQuery); q != "" {
			attrs = append(attrs, "query", q)
		}
		if len(c.Errors) > 0 {
			attrs = append(attrs, "error", c.Errors.String())
		}
		log.Log(c.Request.Context(), level, "http request", attrs...)
	}
}

var secretParams = map[string]bool{"access_token": true, "token": true, "refresh_token": true, "password": true, "code": true}

// RedactQuery replaces the values of secret query parameters with "REDACTED".
func RedactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "REDACTED"
	}
	for k := range q {
		if secretParams[k] {
			q[k] = []string{"REDACTED"}
		}
	}
	return q.Encode()
}

var (
	httpRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "HTTP requests by route and status.",
	}, []string{"method", "route", "status"})
	httpDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"method", "route"})
)

// Metrics records request counts and latencies per route template (not per raw path, so
// that ids do not explode the label set).
func Metrics() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		httpRequests.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Inc()
		httpDuration.WithLabelValues(c.Request.Method, route).Observe(time.Since(start).Seconds())
	}
}

// RequireIdentity accepts only requests that carry an identity signed by the gateway and
// puts it in the request context; anything else is a 401. Services use it on every route
// that needs a user, so that a request sent straight to a service cannot claim to be anyone.
func RequireIdentity(s *authn.Signer) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := s.Verify(c.GetHeader(authn.Header))
		if err != nil || id.IsService() {
			Abort(c, NewError(http.StatusUnauthorized, CodeUnauthenticated, "authentication required"))
			return
		}
		c.Request = c.Request.WithContext(authn.WithIdentity(c.Request.Context(), id))
		c.Next()
	}
}

// BodyLimit answers 413 to any request whose declared body is larger than max, before a
// handler reads it; BindJSON enforces the same bound on bodies of unknown length.
func BodyLimit(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			Abort(c, NewError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "body too large"))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		c.Next()
	}
}
