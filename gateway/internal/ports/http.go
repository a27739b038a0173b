// Package ports is the gateway's HTTP port: the gin engine with its middleware, the
// proxying handler that ties routing, authentication and the upstream together, the
// frontend and the OpenAPI document.
package ports

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/convene/convene/gateway/internal/auth"
	"github.com/convene/convene/gateway/internal/routing"
	"github.com/convene/convene/gateway/internal/upstream"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/logging"
	"github.com/convene/convene/platform/ratelimit"
	"github.com/convene/convene/platform/tracing"
)

// HTTPParams is what the HTTP port is built from.
type HTTPParams struct {
	Log     *slog.Logger
	Health  *httpx.Health
	Routes  *routing.Table
	Auth    *auth.Authenticator
	Proxy   *upstream.Proxy
	Limiter ratelimit.Limiter
	// AuthLimit is the per-IP limit of register/login/refresh; it may change live.
	AuthLimit *LiveLimit
	MaxBody   int64
	// CORSOrigins may call the API cross-origin with credentials.
	CORSOrigins []string
	// TrustedProxies may set X-Forwarded-For.
	TrustedProxies []string
	// FrontendDir is served with an SPA fallback; "" or a missing directory disables it.
	FrontendDir string
	// OpenAPI is the JSON document served at /api/v1/openapi.json.
	OpenAPI []byte
	// Tracing receives the gateway's server spans; nil means the process-wide provider.
	Tracing *tracing.Provider
}

// NewHTTP returns the gateway's handler.
func NewHTTP(p HTTPParams) (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(p.TrustedProxies); err != nil {
		return nil, err
	}
	r.Use(traceRequests(p.Tracing), httpx.RequestID(), httpx.AccessLog(p.Log), httpx.Recovery(p.Log), metrics(), cors(p.CORSOrigins), httpx.BodyLimit(p.MaxBody))
	p.Health.Routes(r)
	openAPI := p.OpenAPI
	r.GET("/api/v1/openapi.json", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", openAPI)
	})
	h := &proxyHandler{HTTPParams: p}
	frontend := newFrontend(p.FrontendDir)
	r.NoRoute(func(c *gin.Context) {
		path := c.Request.URL.Path
		if strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/.well-known/") {
			h.serve(c)
			return
		}
		frontend.serve(c)
	})
	r.NoMethod(func(c *gin.Context) {
		httpx.Abort(c, httpx.NewError(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"))
	})
	return r, nil
}

type proxyHandler struct{ HTTPParams }

// serve routes, rate-limits, authenticates and proxies one API request.
func (h *proxyHandler) serve(c *gin.Context) {
	req := c.Request
	route, err := h.Routes.Match(req.URL.Path)
	switch {
	case errors.Is(err, routing.ErrBadPath):
		httpx.Abort(c, httpx.BadRequest("invalid_path", "the path has empty, '.' or '..' segments"))
		return
	case err != nil:
		httpx.Abort(c, httpx.NotFound("no such route"))
		return
	}
	setTarget(c, route.Service)
	nameProxySpan(c, route.Pattern, route.Service)
	if route.RateLimited && !h.allow(c, route) {
		return
	}

	token, fromQuery := bearerToken(req, route.WebSocket)
	var sess *auth.Session
	switch route.Auth {
	case routing.Authenticated:
		if sess, err = h.Auth.Authenticate(req.Context(), token); err != nil {
			httpx.Abort(c, authError(err))
			return
		}
	case routing.Optional:
		if token != "" {
			// An invalid token on logout is simply not passed on: logging out must work
			// with an expired access token too.
			sess, _ = h.Auth.Authenticate(req.Context(), token)
		}
	}

	o := upstream.Outbound{
		Service:        route.Service,
		RequestID:      logging.RequestID(req.Context()),
		ForwardedFor:   forwardedFor(c),
		ForwardedProto: forwardedProto(req),
		DropQueryToken: fromQuery || strings.Contains(req.URL.RawQuery, "access_token"),
	}
	if route.WebSocket {
		// A hijacked connection never reports its status to gin: record the service's
		// answer (gin's WriteHeader only notes it until the body is written, and the
		// upgrade writes no body through gin) so that the access log and metrics show 101
		// rather than the not-found default of the catch-all route.
		o.BeforeResponse = c.Writer.WriteHeader
	}
	if sess != nil {
		o.Identity = h.Auth.IdentityHeader(sess)
		if route.RevokesToken {
			o.BeforeResponse = func(status int) {
				if status == http.StatusNoContent {
					h.revoke(req.Context(), sess)
				}
			}
		}
	}
	if err := h.Proxy.Serve(c.Writer, req, o); err != nil {
		if errors.Is(err, upstream.ErrClientGone) {
			c.Abort()
			return
		}
		httpx.Abort(c, upstreamError(err))
	}
}

// revoke records the logged-out token before the client hears of the logout, so that no
// request it sends after the 204 can pass with that token.
func (h *proxyHandler) revoke(ctx context.Context, sess *auth.Session) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := h.Auth.Revoke(ctx, sess); err != nil {
		// The token is already refused by this instance; other instances catch up when
		// the store is back (their periodic reload).
		h.Log.WarnContext(ctx, "sharing a revoked token failed", "err", err)
	}
}

// bearerToken takes the token from "Authorization: Bearer"; on WebSocket routes, where
// browsers cannot set headers, from ?access_token= too.
func bearerToken(r *http.Request, websocket bool) (token string, fromQuery bool) {
	if v := r.Header.Get("Authorization"); v != "" {
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			return strings.TrimSpace(v[7:]), false
		}
		return "", false
	}
	if websocket {
		if t := r.URL.Query().Get("access_token"); t != "" {
			return t, true
		}
	}
	return "", false
}

// forwardedFor extends the X-Forwarded-For chain of a trusted proxy, or starts one.
func forwardedFor(c *gin.Context) string {
	remote := c.RemoteIP()
	if prior := c.GetHeader("X-Forwarded-For"); prior != "" && c.ClientIP() != remote {
		return prior + ", " + remote
	}
	return remote
}

func forwardedProto(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// authError maps the auth package's errors to API.md's 401 codes.
func authError(err error) *httpx.Error {
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		return httpx.NewError(http.StatusUnauthorized, "token_expired", "the access token has expired")
	case errors.Is(err, auth.ErrTokenRevoked):
		return httpx.NewError(http.StatusUnauthorized, "token_revoked", "the access token was revoked")
	default:
		return httpx.NewError(http.StatusUnauthorized, httpx.CodeUnauthenticated, "a valid access token is required")
	}
}

// upstreamError maps the upstream package's failures to statuses and codes.
func upstreamError(err error) *httpx.Error {
	switch {
	case errors.Is(err, upstream.ErrNoInstance):
		return httpx.NewError(http.StatusServiceUnavailable, "service_unavailable", "the service is unavailable")
	case errors.Is(err, upstream.ErrTimeout):
		return httpx.NewError(http.StatusGatewayTimeout, "gateway_timeout", "the service did not answer in time")
	case errors.Is(err, upstream.ErrBodyTooLarge):
		return httpx.NewError(http.StatusRequestEntityTooLarge, httpx.CodeBodyTooLarge, "body too large")
	default:
		return httpx.NewError(http.StatusBadGateway, "bad_gateway", "the service could not be reached")
	}
}
