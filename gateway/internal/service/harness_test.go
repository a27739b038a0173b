package service

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/gateway/internal/config"
	"github.com/convene/convene/gateway/internal/routing"
	"github.com/convene/convene/platform/authn"
	platformconfig "github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/ratelimit"
	"github.com/convene/convene/platform/server"
	"github.com/convene/convene/platform/testkit"
	"github.com/convene/convene/platform/tracing"
)

// echo is what a test backend answers: what it received from the gateway.
type echo struct {
	Service       string              `json:"service"`
	Method        string              `json:"method"`
	Path          string              `json:"path"`
	Query         string              `json:"query"`
	Identity      *authn.Identity     `json:"identity"`
	Authorization string              `json:"authorization"`
	Internal      map[string][]string `json:"internal"`
	ForwardedFor  string              `json:"forwarded_for"`
	RequestID     string              `json:"request_id"`
	BodyBytes     int                 `json:"body_bytes"`
}

// backend is a stand-in for one service: it echoes what it received, verifies the
// identity the way services do, and (as users-svc) serves the JWKS and logout.
type backend struct {
	name      string
	srv       *httptest.Server
	jwks      authn.JWKS
	jwksHits  atomic.Int32
	requests  atomic.Int32
	respDelay atomic.Int64
}

func newBackend(t testing.TB, name string, signer *authn.Signer, jwks authn.JWKS) *backend {
	t.Helper()
	b := &backend{name: name, jwks: jwks}
	upgrader := websocket.Upgrader{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.requests.Add(1)
		if d := b.respDelay.Load(); d > 0 {
			time.Sleep(time.Duration(d))
		}
		switch {
		case r.URL.Path == "/.well-known/jwks.json":
			b.jwksHits.Add(1)
			_ = json.NewEncoder(w).Encode(b.jwks)
			return
		case r.URL.Path == "/api/v1/auth/logout":
			w.WriteHeader(http.StatusNoContent)
			return
		}
		e := echo{
			Service: b.name, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Authorization: r.Header.Get("Authorization"), Internal: map[string][]string{},
			ForwardedFor: r.Header.Get("X-Forwarded-For"), RequestID: r.Header.Get(httpx.RequestIDHeader),
		}
		for k, v := range r.Header {
			if strings.HasPrefix(k, "X-Convene-") {
				e.Internal[k] = v
			}
		}
		if id, err := signer.Verify(r.Header.Get(authn.Header)); err == nil {
			e.Identity = &id
		}
		if websocket.IsWebSocketUpgrade(r) {
			conn, err := upgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer conn.Close()
			_ = conn.WriteJSON(e)
			for {
				mt, msg, err := conn.ReadMessage()
				if err != nil {
					return
				}
				if err := conn.WriteMessage(mt, msg); err != nil {
					return
				}
			}
		}
		body, _ := io.ReadAll(r.Body)
		e.BodyBytes = len(body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(e)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) addr() string { return strings.TrimPrefix(b.srv.URL, "http://") }

// stack is a gateway in front of one backend per service.
type stack struct {
	t        testing.TB
	gw       *httptest.Server
	handler  http.Handler
	key      ed25519.PrivateKey
	kid      string
	signer   *authn.Signer
	backends map[string]*backend
}

type stackOptions struct {
	env map[string]string
	// down lists services that have no instance at all.
	down []string
	// addrs overrides a service's instance addresses.
	addrs map[string]string
	// redisURL shares revocations (and rate limits) through Redis.
	redisURL string
	// backends reuses the backends of another stack (two gateways, one set of services).
	backends map[string]*backend
	key      ed25519.PrivateKey
	// tracing receives the gateway's spans.
	tracing *tracing.Provider
	// log replaces the default logger, which discards everything.
	log *slog.Logger
}

// absentResolver wraps a resolver to make some services have no instance.
type absentResolver struct {
	discovery.Resolver
	down map[string]bool
}

func (r absentResolver) Instances(ctx context.Context, service string) ([]discovery.Instance, error) {
	if r.down[service] {
		return nil, discovery.ErrNoInstance
	}
	return r.Resolver.Instances(ctx, service)
}

func (r absentResolver) Watch(ctx context.Context, service string, fn func([]discovery.Instance)) {
	if r.down[service] {
		fn(nil)
		return
	}
	r.Resolver.Watch(ctx, service, fn)
}

var allServices = []string{routing.UsersSvc, routing.TeamsSvc, routing.ChatsSvc, routing.MessagesSvc, routing.ConferenceSvc}

func newStack(t testing.TB, opts stackOptions) *stack {
	t.Helper()
	signer := authn.NewSigner(testkit.Secret)
	s := &stack{t: t, signer: signer, kid: "k1", key: opts.key, backends: opts.backends}
	if s.key == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		s.key = priv
	}
	jwks := authn.JWKS{Keys: []authn.JWK{authn.NewEd25519JWK(s.kid, s.key.Public().(ed25519.PublicKey))}}
	if s.backends == nil {
		s.backends = map[string]*backend{}
		for _, svc := range allServices {
			s.backends[svc] = newBackend(t, svc, signer, jwks)
		}
	}
	addrs := map[string]string{}
	for svc, b := range s.backends {
		addrs[strings.ToUpper(strings.ReplaceAll(svc, "-", "_"))+"_HTTP_ADDRS"] = b.addr()
	}
	for svc, a := range opts.addrs {
		addrs[strings.ToUpper(strings.ReplaceAll(svc, "-", "_"))+"_HTTP_ADDRS"] = a
	}

	env := map[string]string{
		"INTERNAL_AUTH_SECRET": testkit.Secret,
		"FRONTEND_DIR":         "",
		"LOG_LEVEL":            "error",
	}
	for k, v := range opts.env {
		env[k] = v
	}
	cfg, err := config.Load(platformconfig.FromMap(env))
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	down := map[string]bool{}
	for _, svc := range opts.down {
		down[svc] = true
	}
	deps := &server.Deps{
		Config:   cfg.Base,
		Log:      cmp.Or(opts.log, slog.New(slog.NewTextHandler(io.Discard, nil))),
		Signer:   signer,
		Limiter:  ratelimit.NewMemory(),
		Resolver: absentResolver{Resolver: discovery.NewStatic(func(k string) string { return addrs[k] }), down: down},
		Health:   httpx.NewHealth(nil),
		Tracing:  opts.tracing,
	}
	if opts.redisURL != "" {
		o, err := redis.ParseURL(opts.redisURL)
		require.NoError(t, err)
		deps.Redis = redis.NewClient(o)
		t.Cleanup(func() { deps.Redis.Close() })
		deps.Limiter = ratelimit.NewRedis(deps.Redis)
	}
	gw, err := New(ctx, cfg, deps)
	require.NoError(t, err)
	t.Cleanup(gw.Close)
	s.handler = gw.HTTP
	s.gw = httptest.NewServer(gw.HTTP)
	t.Cleanup(s.gw.Close)
	return s
}

// claims are valid claims for user u1, changed by mutate.
func (s *stack) token(mutate func(*authn.AccessClaims)) string {
	s.t.Helper()
	now := time.Now()
	c := authn.AccessClaims{Username: "ann", RegisteredClaims: jwt.RegisteredClaims{
		Subject: "u1", ID: testkit.RandomHex(8), Issuer: "convene", Audience: jwt.ClaimStrings{"convene-api"},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
	}}
	if mutate != nil {
		mutate(&c)
	}
	tok, err := authn.SignAccessToken(s.key, s.kid, c)
	require.NoError(s.t, err)
	return tok
}

// do sends a request through the gateway; header pairs are name, value.
func (s *stack) do(method, path string, body io.Reader, header ...string) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.gw.URL+path, body)
	require.NoError(s.t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	s.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readEcho(t *testing.T, resp *http.Response) echo {
	t.Helper()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var e echo
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
	return e
}

func requireError(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, status, resp.StatusCode, string(body))
	var e httpx.ErrorBody
	require.NoError(t, json.Unmarshal(body, &e), string(body))
	require.Equal(t, code, e.Error.Code)
	require.NotEmpty(t, e.Error.Message)
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// closedAddr is a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func writeFrontend(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("<html>convene</html>"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "assets"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "assets", "app.js"), []byte("console.log(1)"), 0o644))
	return dir
}
