package service

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/gateway/internal/routing"
	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/testkit"
)

func TestJWTAttacksAreRefused(t *testing.T) {
	s := newStack(t, stackOptions{})
	now := time.Now()
	good := s.token(nil)
	parts := strings.Split(good, ".")

	pub := s.key.Public().(ed25519.PublicKey)
	valid := func() authn.AccessClaims {
		return authn.AccessClaims{Username: "ann", RegisteredClaims: jwt.RegisteredClaims{
			Subject: "u1", ID: "j1", Issuer: "convene", Audience: jwt.ClaimStrings{"convene-api"},
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}}
	}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, valid())
	none.Header["kid"] = s.kid
	noneTok, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, valid())
	hs.Header["kid"] = s.kid
	hsTok, err := hs.SignedString([]byte(pub))
	require.NoError(t, err)
	_, otherKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	otherTok, err := authn.SignAccessToken(otherKey, s.kid, valid())
	require.NoError(t, err)
	unknownKid, err := authn.SignAccessToken(s.key, "k-unknown", valid())
	require.NoError(t, err)
	tamperedClaims := valid()
	tamperedClaims.Subject = "admin"
	payload, err := json.Marshal(tamperedClaims)
	require.NoError(t, err)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]

	cases := []struct {
		name   string
		path   string
		header []string
		code   string
	}{
		{"no token", "/api/v1/users/me", nil, "unauthenticated"},
		{"alg none", "/api/v1/users/me", bearer(noneTok), "unauthenticated"},
		{"hs256 signed with the public key", "/api/v1/users/me", bearer(hsTok), "unauthenticated"},
		{"signed by another key", "/api/v1/users/me", bearer(otherTok), "unauthenticated"},
		{"expired", "/api/v1/users/me", bearer(s.token(func(c *authn.AccessClaims) {
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute))
		})), "token_expired"},
		{"not yet valid", "/api/v1/users/me", bearer(s.token(func(c *authn.AccessClaims) {
			c.NotBefore = jwt.NewNumericDate(now.Add(time.Minute))
		})), "unauthenticated"},
		{"wrong issuer", "/api/v1/users/me", bearer(s.token(func(c *authn.AccessClaims) { c.Issuer = "evil" })), "unauthenticated"},
		{"wrong audience", "/api/v1/users/me", bearer(s.token(func(c *authn.AccessClaims) {
			c.Audience = jwt.ClaimStrings{"someone-else"}
		})), "unauthenticated"},
		{"unknown kid", "/api/v1/users/me", bearer(unknownKid), "unauthenticated"},
		{"tampered payload", "/api/v1/users/me", bearer(tampered), "unauthenticated"},
		{"truncated", "/api/v1/users/me", bearer(good[:len(good)-12]), "unauthenticated"},
		{"garbage", "/api/v1/users/me", bearer("garbage.garbage.garbage"), "unauthenticated"},
		{"not a bearer scheme", "/api/v1/users/me", []string{"Authorization", "Basic " + good}, "unauthenticated"},
		{"token in the query string of a non-WebSocket route", "/api/v1/users/me?access_token=" + good, nil, "unauthenticated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(http.MethodGet, tc.path, nil, tc.header...)
			requireError(t, resp, http.StatusUnauthorized, tc.code)
		})
	}
	require.Zero(t, s.backends[routing.UsersSvc].requests.Load()-s.backends[routing.UsersSvc].jwksHits.Load(),
		"no refused request reached the service")
	require.LessOrEqual(t, s.backends[routing.UsersSvc].jwksHits.Load(), int32(1),
		"unknown kids do not make the gateway hammer users-svc for keys")

	resp := s.do(http.MethodGet, "/api/v1/users/me", nil, bearer(good)...)
	require.Equal(t, "u1", readEcho(t, resp).Identity.UserID)
}

func TestIdentityIsTheGatewaysOwn(t *testing.T) {
	s := newStack(t, stackOptions{})
	forged := s.signer.Sign(authn.Identity{UserID: "someone-else"})
	tok := s.token(nil)

	cases := []struct {
		name     string
		header   []string
		path     string
		wantUser string
	}{
		{"forged identity with a valid token", append(bearer(tok), "X-Convene-Identity", forged, "X-Convene-Debug", "1"), "/api/v1/users/me", "u1"},
		{"forged identity on a public route", []string{"X-Convene-Identity", forged}, "/api/v1/auth/login", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := readEcho(t, s.do(http.MethodPost, tc.path, strings.NewReader(`{}`), tc.header...))
			require.Empty(t, e.Authorization, "the bearer token never reaches a service")
			require.NotContains(t, e.Internal, "X-Convene-Debug")
			if tc.wantUser == "" {
				require.Nil(t, e.Identity)
				require.Empty(t, e.Internal)
				return
			}
			require.Equal(t, tc.wantUser, e.Identity.UserID)
			require.Equal(t, "ann", e.Identity.Username)
			require.NotEmpty(t, e.Identity.TokenID)
			require.Len(t, e.Internal["X-Convene-Identity"], 1)
		})
	}
}

func TestRequestIDAndForwardedFor(t *testing.T) {
	s := newStack(t, stackOptions{})
	tok := s.token(nil)
	resp := s.do(http.MethodGet, "/api/v1/users/me", nil, append(bearer(tok), "X-Request-Id", "req-123", "X-Forwarded-For", "6.6.6.6")...)
	require.Equal(t, "req-123", resp.Header.Get("X-Request-Id"))
	e := readEcho(t, resp)
	require.Equal(t, "req-123", e.RequestID)
	require.Equal(t, "127.0.0.1", e.ForwardedFor, "an untrusted client cannot choose its forwarded address")

	resp = s.do(http.MethodGet, "/api/v1/users/me", nil, bearer(tok)...)
	e = readEcho(t, resp)
	require.Len(t, e.RequestID, 32)
	require.Equal(t, e.RequestID, resp.Header.Get("X-Request-Id"))
}

func TestRoutes(t *testing.T) {
	s := newStack(t, stackOptions{})
	tok := s.token(nil)
	cases := []struct {
		method  string
		path    string
		auth    bool
		service string
	}{
		{http.MethodPost, "/api/v1/auth/register", false, routing.UsersSvc},
		{http.MethodPost, "/api/v1/auth/login", false, routing.UsersSvc},
		{http.MethodPost, "/api/v1/auth/refresh", false, routing.UsersSvc},
		{http.MethodGet, "/.well-known/jwks.json", false, routing.UsersSvc},
		{http.MethodGet, "/api/v1/users?email=a%40b.c", true, routing.UsersSvc},
		{http.MethodGet, "/api/v1/teams", true, routing.TeamsSvc},
		{http.MethodPost, "/api/v1/teams/t1/posts", true, routing.TeamsSvc},
		{http.MethodGet, "/api/v1/teams/t1/conferences", true, routing.ConferenceSvc},
		{http.MethodGet, "/api/v1/conferences/c1/ics", true, routing.ConferenceSvc},
		{http.MethodGet, "/api/v1/chats", true, routing.ChatsSvc},
		{http.MethodDelete, "/api/v1/chats/c1/members/u2", true, routing.ChatsSvc},
		{http.MethodGet, "/api/v1/chats/c1/messages?after_seq=3", true, routing.MessagesSvc},
		{http.MethodPost, "/api/v1/chats/c1/read", true, routing.MessagesSvc},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			if tc.auth {
				requireError(t, s.do(tc.method, tc.path, nil), http.StatusUnauthorized, "unauthenticated")
			}
			resp := s.do(tc.method, tc.path, strings.NewReader(`{}`), bearer(tok)...)
			if tc.path == "/.well-known/jwks.json" {
				require.Equal(t, http.StatusOK, resp.StatusCode)
				var set authn.JWKS
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))
				require.Len(t, set.Keys, 1)
				return
			}
			e := readEcho(t, resp)
			require.Equal(t, tc.service, e.Service)
			path, query, _ := strings.Cut(tc.path, "?")
			require.Equal(t, path, e.Path, "paths are proxied unchanged")
			require.Equal(t, query, e.Query)
		})
	}

	requireError(t, s.do(http.MethodGet, "/api/v1/nothing", nil, bearer(tok)...), http.StatusNotFound, "not_found")
	requireError(t, s.do(http.MethodGet, "/api/v1/auth/login/%2e%2e/%2e%2e/users/me", nil), http.StatusBadRequest, "invalid_path")
}

func TestWebSocketProxy(t *testing.T) {
	s := newStack(t, stackOptions{})
	tok := s.token(nil)
	wsURL := "ws" + strings.TrimPrefix(s.gw.URL, "http")
	cases := []struct {
		name    string
		path    string
		header  http.Header
		service string
	}{
		{"chat socket, token in query", "/api/v1/ws?access_token=" + tok, nil, routing.MessagesSvc},
		{"conference socket, token in query", "/api/v1/conferences/c1/ws?access_token=" + tok + "&x=1", nil, routing.ConferenceSvc},
		{"chat socket, token in header", "/api/v1/ws", http.Header{"Authorization": {"Bearer " + tok}}, routing.MessagesSvc},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, resp, err := websocket.DefaultDialer.Dial(wsURL+tc.path, tc.header)
			require.NoError(t, err)
			defer conn.Close()
			require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			var e echo
			require.NoError(t, conn.ReadJSON(&e))
			require.Equal(t, tc.service, e.Service)
			require.Equal(t, "u1", e.Identity.UserID)
			require.NotContains(t, e.Query, "access_token", "the token in the query never reaches a service")
			require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte("ping")))
			_, msg, err := conn.ReadMessage()
			require.NoError(t, err)
			require.Equal(t, "ping", string(msg))
		})
	}

	_, resp, err := websocket.DefaultDialer.Dial(wsURL+"/api/v1/ws?access_token=garbage", nil)
	require.Error(t, err)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestLogoutRevokesTheAccessToken(t *testing.T) {
	s := newStack(t, stackOptions{})
	tok := s.token(nil)
	other := s.token(nil)
	readEcho(t, s.do(http.MethodGet, "/api/v1/users/me", nil, bearer(tok)...))

	resp := s.do(http.MethodPost, "/api/v1/auth/logout", strings.NewReader(`{}`), bearer(tok)...)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	requireError(t, s.do(http.MethodGet, "/api/v1/users/me", nil, bearer(tok)...), http.StatusUnauthorized, "token_revoked")
	readEcho(t, s.do(http.MethodGet, "/api/v1/users/me", nil, bearer(other)...))

	// Logout without a token, or with a broken one, still reaches users-svc.
	resp = s.do(http.MethodPost, "/api/v1/auth/logout", strings.NewReader(`{}`), bearer("garbage")...)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
}

func TestRevocationIsSharedThroughRedis(t *testing.T) {
	redisURL := testkit.RequireRedis(t)
	a := newStack(t, stackOptions{redisURL: redisURL})
	b := newStack(t, stackOptions{redisURL: redisURL, backends: a.backends, key: a.key})
	tok := a.token(nil)
	readEcho(t, b.do(http.MethodGet, "/api/v1/users/me", nil, bearer(tok)...))

	resp := a.do(http.MethodPost, "/api/v1/auth/logout", nil, bearer(tok)...)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Eventually(t, func() bool {
		resp := b.do(http.MethodGet, "/api/v1/users/me", nil, bearer(tok)...)
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode == http.StatusUnauthorized
	}, 5*time.Second, 20*time.Millisecond, "the other gateway refuses the token too")

	// A gateway that starts after the logout loads it from Redis.
	c := newStack(t, stackOptions{redisURL: redisURL, backends: a.backends, key: a.key})
	require.Eventually(t, func() bool {
		resp := c.do(http.MethodGet, "/api/v1/users/me", nil, bearer(tok)...)
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode == http.StatusUnauthorized
	}, 5*time.Second, 20*time.Millisecond)
}

func TestUpstreamFailures(t *testing.T) {
	s := newStack(t, stackOptions{
		down:  []string{routing.ConferenceSvc},
		addrs: map[string]string{routing.ChatsSvc: closedAddr(t)},
		env:   map[string]string{"UPSTREAM_TIMEOUT": "200ms"},
	})
	s.backends[routing.TeamsSvc].respDelay.Store(int64(time.Second))
	tok := s.token(nil)
	cases := []struct {
		path   string
		status int
		code   string
	}{
		{"/api/v1/conferences/c1", http.StatusServiceUnavailable, "service_unavailable"},
		{"/api/v1/chats", http.StatusBadGateway, "bad_gateway"},
		{"/api/v1/teams", http.StatusGatewayTimeout, "gateway_timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			requireError(t, s.do(http.MethodGet, tc.path, nil, bearer(tok)...), tc.status, tc.code)
		})
	}
}

func TestCORS(t *testing.T) {
	s := newStack(t, stackOptions{env: map[string]string{"CORS_ORIGINS": "https://app.example"}})
	tok := s.token(nil)
	cases := []struct {
		name       string
		method     string
		origin     string
		preflight  bool
		status     int
		wantOrigin string
	}{
		{"allowed preflight", http.MethodOptions, "https://app.example", true, http.StatusNoContent, "https://app.example"},
		{"refused preflight", http.MethodOptions, "https://evil.example", true, http.StatusForbidden, ""},
		{"allowed request", http.MethodGet, "https://app.example", false, http.StatusOK, "https://app.example"},
		{"other origin gets no CORS headers", http.MethodGet, "https://evil.example", false, http.StatusOK, ""},
		{"same origin", http.MethodGet, "", false, http.StatusOK, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := append(bearer(tok), "Origin", tc.origin)
			if tc.preflight {
				h = []string{"Origin", tc.origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type"}
			}
			resp := s.do(tc.method, "/api/v1/users/me", nil, h...)
			require.Equal(t, tc.status, resp.StatusCode)
			require.Equal(t, tc.wantOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
			if tc.wantOrigin != "" {
				require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
			}
			if tc.preflight && tc.status == http.StatusNoContent {
				require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Authorization")
				require.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "PATCH")
			}
		})
	}
}

func TestAuthRateLimit(t *testing.T) {
	cases := []struct {
		name     string
		redisURL string
	}{
		{"in process", ""},
		{"redis", testkit.RequireRedis(t)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t, stackOptions{redisURL: tc.redisURL, env: map[string]string{
				"AUTH_RATE_LIMIT": "3", "AUTH_RATE_BURST": "3", "TRUSTED_PROXIES": "127.0.0.1",
			}})
			client := randomIP()
			for range 3 {
				resp := s.do(http.MethodPost, "/api/v1/auth/login", strings.NewReader(`{}`), "X-Forwarded-For", client)
				require.Equal(t, http.StatusOK, resp.StatusCode)
			}
			resp := s.do(http.MethodPost, "/api/v1/auth/login", strings.NewReader(`{}`), "X-Forwarded-For", client)
			require.NotEmpty(t, resp.Header.Get("Retry-After"))
			requireError(t, resp, http.StatusTooManyRequests, "rate_limited")

			// Other clients, and other routes, have their own budgets.
			resp = s.do(http.MethodPost, "/api/v1/auth/login", strings.NewReader(`{}`), "X-Forwarded-For", randomIP())
			require.Equal(t, http.StatusOK, resp.StatusCode)
			resp = s.do(http.MethodPost, "/api/v1/auth/register", strings.NewReader(`{}`), "X-Forwarded-For", client)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			// Authenticated routes are not limited this way.
			for range 5 {
				readEcho(t, s.do(http.MethodGet, "/api/v1/users/me", nil, append(bearer(s.token(nil)), "X-Forwarded-For", client)...))
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	s := newStack(t, stackOptions{env: map[string]string{"MAX_BODY_BYTES": "1024"}})
	tok := s.token(nil)
	cases := []struct {
		name    string
		size    int
		chunked bool
		status  int
	}{
		{"under the limit", 1000, false, http.StatusOK},
		{"declared over the limit", 2000, false, http.StatusRequestEntityTooLarge},
		{"streamed over the limit", 5000, true, http.StatusRequestEntityTooLarge},
		{"streamed under the limit", 500, true, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.backends[routing.TeamsSvc].requests.Load()
			var body io.Reader = strings.NewReader(strings.Repeat("x", tc.size))
			if tc.chunked {
				body = io.MultiReader(body) // unknown length: sent chunked
			}
			resp := s.do(http.MethodPost, "/api/v1/teams", body, bearer(tok)...)
			if tc.status == http.StatusOK {
				require.Equal(t, tc.size, readEcho(t, resp).BodyBytes)
				return
			}
			requireError(t, resp, tc.status, "body_too_large")
			if !tc.chunked {
				require.Equal(t, before, s.backends[routing.TeamsSvc].requests.Load(), "a declared oversized body never leaves the gateway")
			}
		})
	}
}

func TestFrontend(t *testing.T) {
	s := newStack(t, stackOptions{env: map[string]string{"FRONTEND_DIR": writeFrontend(t)}})
	cases := []struct {
		path   string
		status int
		body   string
	}{
		{"/", http.StatusOK, "<html>convene</html>"},
		{"/teams/t1/posts", http.StatusOK, "<html>convene</html>"},
		{"/assets/app.js", http.StatusOK, "console.log(1)"},
		{"/assets/missing.js", http.StatusOK, "<html>convene</html>"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			resp := s.do(http.MethodGet, tc.path, nil)
			require.Equal(t, tc.status, resp.StatusCode)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tc.body, string(body))
		})
	}
	requireError(t, s.do(http.MethodGet, "/api/v1/unknown", nil), http.StatusNotFound, "not_found")
	requireError(t, s.do(http.MethodPost, "/teams", nil), http.StatusMethodNotAllowed, "method_not_allowed")

	without := newStack(t, stackOptions{})
	requireError(t, without.do(http.MethodGet, "/teams", nil), http.StatusNotFound, "not_found")
}

func TestOperationalEndpoints(t *testing.T) {
	s := newStack(t, stackOptions{})
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"} {
		t.Run(path, func(t *testing.T) {
			resp := s.do(http.MethodGet, path, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
	resp := s.do(http.MethodGet, "/api/v1/openapi.json", nil)
	var doc map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	require.Contains(t, doc, "paths")

	resp = s.do(http.MethodGet, "/metrics", nil)
	body, _ := io.ReadAll(resp.Body)
	require.Contains(t, string(body), "gateway_requests_total")
}

// randomIP is a client address no other run of the test used, so that budgets kept in the
// shared Redis do not carry over.
func randomIP() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("10.%d.%d.%d", b[0], b[1], b[2])
}
