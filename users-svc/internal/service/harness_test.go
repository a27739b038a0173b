package service_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/grpcx"
	"github.com/convene/convene/platform/liveconfig"
	"github.com/convene/convene/platform/server"
	"github.com/convene/convene/platform/testkit"
	usersv1 "github.com/convene/convene/proto/users/v1"
	"github.com/convene/convene/users-svc/internal/service"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Process-wide pools that outlive any one test: the pgx/stdlib driver's and
		// glebarez/sqlite's are not ours to stop.
		goleak.IgnoreTopFunction("github.com/jackc/pgx/v5/pgxpool.(*Pool).backgroundHealthCheck"),
	)
}

// instance is one users-svc started in-process on free ports with real Postgres and Redis.
type instance struct {
	base   string
	client *http.Client
	signer *authn.Signer
	users  usersv1.UsersServiceClient
	// grpcAddr lets a test dial without the client interceptors (no identity).
	grpcAddr string
	// live are the settings Consul KV would change.
	live map[string]liveconfig.Setter
}

// start runs users-svc until the test ends; env overrides the test defaults.
func start(t *testing.T, env map[string]string) *instance {
	t.Helper()
	in, err := launch(t, env)
	require.NoError(t, err)
	return in
}

// launch is start for goroutines: it reports failures instead of stopping the test.
func launch(t *testing.T, env map[string]string) (*instance, error) {
	httpAddr, grpcAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	settings := map[string]string{
		"HTTP_ADDR":            httpAddr,
		"GRPC_ADDR":            grpcAddr,
		"REDIS_URL":            testkit.RequireRedis(t),
		"INTERNAL_AUTH_SECRET": testkit.Secret,
		"LOG_LEVEL":            "error",
		// The cheapest hash the service accepts: tests exercise the flow, not the cost.
		"ARGON2_MEMORY_KIB": "8192",
		"ARGON2_ITERATIONS": "1",
	}
	for k, v := range env {
		settings[k] = v
	}
	if settings["DATABASE_URL"] == "" {
		settings["DATABASE_URL"] = testkit.NewPostgresDB(t)
	}
	cfg, err := service.LoadConfig(config.FromMap(settings))
	if err != nil {
		return nil, err
	}

	ctx, cancel := context.WithCancel(context.Background())
	deps, err := server.NewDeps(ctx, cfg.Base)
	if err != nil {
		cancel()
		return nil, err
	}
	svc, err := service.New(ctx, cfg, deps)
	if err != nil {
		deps.Close()
		cancel()
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, server.RunParams{
			Deps: deps, HTTP: svc.HTTP, GRPC: svc.GRPC, OnShutdown: svc.Close, DrainDelay: time.Millisecond,
		})
	}()

	signer := authn.NewSigner(testkit.Secret)
	conn, err := grpcx.Dial(grpcx.ClientParams{
		Service:  service.Name,
		Resolver: discovery.NewStatic(func(k string) string { return map[string]string{"USERS_SVC_GRPC_ADDRS": grpcAddr}[k] }),
		Signer:   signer,
		Caller:   "teams-svc",
	})
	if err != nil {
		cancel()
		<-done
		return nil, err
	}
	transport := &http.Transport{}
	in := &instance{
		base:     "http://" + httpAddr,
		client:   &http.Client{Transport: transport, Timeout: 10 * time.Second},
		signer:   signer,
		users:    usersv1.NewUsersServiceClient(conn),
		grpcAddr: grpcAddr,
		live:     svc.LiveSettings,
	}
	t.Cleanup(func() {
		require.NoError(t, conn.Close())
		transport.CloseIdleConnections()
		cancel()
		require.NoError(t, <-done)
	})
	// Run listens right away; this waits for the listener to accept.
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, err := in.client.Get(in.base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return in, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("users-svc at %s not healthy: %v", httpAddr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// response is a decoded HTTP answer.
type response struct {
	status  int
	header  http.Header
	body    map[string]any
	raw     string
	cookies []*http.Cookie
}

func (r response) errorCode() string {
	e, _ := r.body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func (r response) str(path ...string) string {
	var cur any = r.body
	for _, p := range path {
		m, _ := cur.(map[string]any)
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}

// call sends body (a string is sent as is, anything else as JSON) with the given
// identity (nil = none) and cookies.
func (in *instance) call(t *testing.T, method, path string, body any, identity *authn.Identity, cookies ...*http.Cookie) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, in.base+path, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if identity != nil {
		req.Header.Set(authn.Header, in.signer.Sign(*identity))
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return in.do(t, req)
}

func (in *instance) do(t *testing.T, req *http.Request) response {
	t.Helper()
	res, err := in.client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw), cookies: res.Cookies()}
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out.body), string(raw))
	}
	return out
}

type account struct {
	id, username, email, password string
}

var seq atomic.Int64

// uniqueAccount returns fresh credentials: Redis (login limits) is shared by every test.
func uniqueAccount(prefix string) account {
	suffix := fmt.Sprintf("%s%d", testkit.RandomHex(3), seq.Add(1))
	return account{
		username: prefix + "_" + suffix,
		email:    prefix + "." + suffix + "@example.com",
		password: "correct horse " + suffix,
	}
}

func (in *instance) register(t *testing.T, a account) account {
	t.Helper()
	res := in.call(t, http.MethodPost, "/api/v1/auth/register", map[string]string{
		"username": a.username, "email": a.email, "password": a.password,
	}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.raw)
	a.id = res.str("user", "id")
	return a
}

// session is a login's answer.
type session struct {
	access, refresh string
	cookie          *http.Cookie
}

func (in *instance) login(t *testing.T, login, password string) session {
	t.Helper()
	res := in.call(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"login": login, "password": password}, nil)
	require.Equal(t, http.StatusOK, res.status, res.raw)
	return sessionOf(t, res)
}

func sessionOf(t *testing.T, res response) session {
	t.Helper()
	s := session{access: res.str("access_token"), refresh: res.str("refresh_token")}
	require.NotEmpty(t, s.access)
	require.NotEmpty(t, s.refresh)
	for _, c := range res.cookies {
		if c.Name == "refresh_token" {
			s.cookie = c
		}
	}
	require.NotNil(t, s.cookie, "login and refresh set the refresh cookie")
	return s
}

func identityOf(a account) *authn.Identity {
	return &authn.Identity{UserID: a.id, Username: a.username}
}

// verify checks an access token against the service's JWKS, as the gateway does.
func (in *instance) verify(t *testing.T, token string) (jwt.MapClaims, error) {
	t.Helper()
	res := in.call(t, http.MethodGet, "/.well-known/jwks.json", nil, nil)
	require.Equal(t, http.StatusOK, res.status)
	keys := map[string]ed25519.PublicKey{}
	for _, raw := range res.body["keys"].([]any) {
		k := raw.(map[string]any)
		x, err := base64.RawURLEncoding.DecodeString(k["x"].(string))
		require.NoError(t, err)
		keys[k["kid"].(string)] = ed25519.PublicKey(x)
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		if k, ok := keys[kid]; ok {
			return k, nil
		}
		return nil, fmt.Errorf("unknown kid %q", kid)
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer("convene"), jwt.WithAudience("convene-api"),
		jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	return claims, err
}
