package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/grpcx"
	"github.com/convene/convene/platform/server"
	"github.com/convene/convene/platform/testkit"
	conferencev1 "github.com/convene/convene/proto/conference/v1"
	teamsv1 "github.com/convene/convene/proto/teams/v1"
	usersv1 "github.com/convene/convene/proto/users/v1"
	"github.com/convene/convene/teams-svc/internal/domain"
	"github.com/convene/convene/teams-svc/internal/service"
)

var signer = authn.NewSigner(testkit.Secret)

// user is an account of the fake users-svc.
type user struct {
	ID, Username, Email string
}

// fakeUsers is a test double of users-svc: a real gRPC server over an in-memory map.
type fakeUsers struct {
	usersv1.UnimplementedUsersServiceServer
	mu       sync.Mutex
	byID     map[string]user
	getUsers atomic.Int32
}

func (f *fakeUsers) add(name string) user {
	u := user{ID: domain.NewID(), Username: name, Email: name + "-" + testkit.RandomHex(4) + "@example.com"}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byID[u.ID] = u
	return u
}

func (f *fakeUsers) proto(u user) *usersv1.User {
	return &usersv1.User{Id: u.ID, Username: u.Username, Email: u.Email, CreatedAt: time.Now().UTC().Format(time.RFC3339)}
}

func (f *fakeUsers) GetUser(_ context.Context, req *usersv1.GetUserRequest) (*usersv1.GetUserResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.byID[req.GetId()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such user")
	}
	return &usersv1.GetUserResponse{User: f.proto(u)}, nil
}

func (f *fakeUsers) GetUsers(_ context.Context, req *usersv1.GetUsersRequest) (*usersv1.GetUsersResponse, error) {
	f.getUsers.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &usersv1.GetUsersResponse{}
	for _, id := range req.GetIds() {
		if u, ok := f.byID[id]; ok {
			out.Users = append(out.Users, f.proto(u))
		}
	}
	return out, nil
}

func (f *fakeUsers) GetUserByEmail(_ context.Context, req *usersv1.GetUserByEmailRequest) (*usersv1.GetUserByEmailResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.byID {
		if strings.EqualFold(u.Email, req.GetEmail()) {
			return &usersv1.GetUserByEmailResponse{User: f.proto(u)}, nil
		}
	}
	return nil, status.Error(codes.NotFound, "no such user")
}

// fakeConference is a test double of conference-svc that records deleted teams.
type fakeConference struct {
	conferencev1.UnimplementedConferenceServiceServer
	mu      sync.Mutex
	deleted []string
}

func (f *fakeConference) DeleteTeamConferences(_ context.Context, req *conferencev1.DeleteTeamConferencesRequest) (*conferencev1.DeleteTeamConferencesResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, req.GetTeamId())
	return &conferencev1.DeleteTeamConferencesResponse{}, nil
}

func (f *fakeConference) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.deleted...)
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// serveGRPC starts a gRPC server on addr for the test's lifetime.
func serveGRPC(t testing.TB, addr string, register func(*grpcx.Server)) {
	t.Helper()
	srv := grpcx.NewServer(quietLog, signer)
	register(srv)
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
}

// options change how a test's teams-svc is set up.
type options struct {
	// redisURL replaces the shared Redis (the Redis-down test brings its own).
	redisURL string
	// noConference leaves conference-svc's address unserved at start.
	noConference bool
	// embedded runs on the defaults of `make run`: SQLite, in-process cache and limiter.
	embedded bool
	tweak    func(*service.Config)
}

// harness is one teams-svc started in-process on free ports, with real Postgres and
// Redis, a fake users-svc and a fake conference-svc.
type harness struct {
	t          testing.TB
	base       string
	grpcAddr   string
	users      *fakeUsers
	conference *fakeConference
	confAddr   string
	teams      teamsv1.TeamsServiceClient
}

func start(t testing.TB, o options) *harness {
	t.Helper()
	h := &harness{
		t:          t,
		users:      &fakeUsers{byID: map[string]user{}},
		conference: &fakeConference{},
		confAddr:   testkit.FreeAddr(t),
	}
	usersAddr := testkit.FreeAddr(t)
	serveGRPC(t, usersAddr, func(s *grpcx.Server) { usersv1.RegisterUsersServiceServer(s, h.users) })
	if !o.noConference {
		h.startConference()
	}

	redisURL := o.redisURL
	if redisURL == "" {
		redisURL = testkit.RequireRedis(t)
	}
	httpAddr := testkit.FreeAddr(t)
	h.grpcAddr = testkit.FreeAddr(t)
	cfg := service.Config{
		Base: config.Base{
			Service: service.Name, Instance: "teams-test", HTTPAddr: httpAddr, GRPCAddr: h.grpcAddr,
			AdvertiseHost: "127.0.0.1", DatabaseURL: testkit.NewPostgresDB(t), RedisURL: redisURL,
			InternalSecret: testkit.Secret, LogLevel: "error", LogFormat: "text", ShutdownGrace: 5 * time.Second,
		},
		JoinFailuresPerMinute: 10,
		WritesPerMinute:       1000,
		MembershipCacheTTL:    30 * time.Second,
		UserCacheTTL:          30 * time.Second,
		OutboxPoll:            50 * time.Millisecond,
		OutboxMaxBackoff:      100 * time.Millisecond,
	}
	if o.embedded {
		cfg.DatabaseURL, cfg.RedisURL = "", ""
		cfg.SQLitePath = filepath.Join(t.TempDir(), "var", "teams-svc.db")
	}
	if o.tweak != nil {
		o.tweak(&cfg)
	}
	lookup := staticLookup(map[string]string{
		"USERS_SVC_GRPC_ADDRS":      usersAddr,
		"CONFERENCE_SVC_GRPC_ADDRS": h.confAddr,
		"TEAMS_SVC_GRPC_ADDRS":      h.grpcAddr,
	})
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, service.Params{Config: cfg, Lookup: lookup})
	if err != nil {
		cancel()
		t.Fatalf("service.New: %v", err)
	}
	run := svc.RunParams()
	run.DrainDelay = time.Millisecond
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, run) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	h.base = "http://" + httpAddr
	require.Eventually(t, func() bool {
		res, err := http.Get(h.base + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)

	conn, err := grpcx.Dial(grpcx.ClientParams{
		Service: service.Name, Resolver: discovery.NewStatic(lookup), Signer: signer, Caller: "conference-svc",
	})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	h.teams = teamsv1.NewTeamsServiceClient(conn)
	return h
}

func staticLookup(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// startConference serves the fake conference-svc on its fixed address.
func (h *harness) startConference() {
	serveGRPC(h.t, h.confAddr, func(s *grpcx.Server) { conferencev1.RegisterConferenceServiceServer(s, h.conference) })
}

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// errorCode is the code of an API.md error body.
func (r response) errorCode() string {
	e, _ := r.body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// obj returns a nested object of the body by path, e.g. obj("team").
func (r response) obj(keys ...string) map[string]any {
	cur := r.body
	for _, k := range keys {
		next, _ := cur[k].(map[string]any)
		cur = next
	}
	return cur
}

func (r response) items() []map[string]any {
	raw, _ := r.body["items"].([]any)
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i], _ = v.(map[string]any)
	}
	return out
}

// call sends a request as u (nil: without identity). body may be a string (sent as
// is) or a value encoded as JSON.
func (h *harness) call(u *user, method, path string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/json")
	if u != nil {
		req.Header.Set(authn.Header, signer.Sign(authn.Identity{UserID: u.ID, Username: u.Username}))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(h.t, err)
	out := response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		require.NoError(h.t, json.Unmarshal(raw, &out.body), "body: %s", raw)
	}
	if out.status >= 400 {
		require.NotEmpty(h.t, out.errorCode(), "error body in API.md's shape: %s", raw)
	}
	return out
}

// must is call that requires the status.
func (h *harness) must(status int, u *user, method, path string, body any, headers ...string) response {
	h.t.Helper()
	res := h.call(u, method, path, body, headers...)
	require.Equal(h.t, status, res.status, "%s %s: %s", method, path, res.raw)
	return res
}

// createTeam makes a team with admin as its admin and returns its id and join code.
func (h *harness) createTeam(admin user) (string, string) {
	h.t.Helper()
	res := h.must(http.StatusCreated, &admin, "POST", "/api/v1/teams", map[string]any{"name": "Team of " + admin.Username, "description": "d"})
	require.Equal(h.t, "admin", res.body["role"])
	return res.obj("team")["id"].(string), res.obj("team")["join_code"].(string)
}

// addMember adds u to the team through admin.
func (h *harness) addMember(admin user, teamID string, u user) {
	h.t.Helper()
	h.must(http.StatusCreated, &admin, "POST", "/api/v1/teams/"+teamID+"/members", map[string]any{"email": u.Email})
}

// post creates a post by u and returns its id.
func (h *harness) post(u user, teamID, text string) string {
	h.t.Helper()
	return h.must(http.StatusCreated, &u, "POST", "/api/v1/teams/"+teamID+"/posts", map[string]any{"text": text}).obj("post")["id"].(string)
}

// comment creates a comment by u and returns its id.
func (h *harness) comment(u user, teamID, postID, text string) string {
	h.t.Helper()
	return h.must(http.StatusCreated, &u, "POST", "/api/v1/teams/"+teamID+"/posts/"+postID+"/comments", map[string]any{"text": text}).obj("comment")["id"].(string)
}

// asUser is a context carrying u's identity, as conference-svc passes its user on.
func asUser(u user) context.Context {
	return authn.WithIdentity(context.Background(), authn.Identity{UserID: u.ID, Username: u.Username})
}

// membership asks teams.v1 GetMembership as a service.
func (h *harness) membership(teamID, userID string) (*teamsv1.GetMembershipResponse, error) {
	return h.teams.GetMembership(context.Background(), &teamsv1.GetMembershipRequest{TeamId: teamID, UserId: userID})
}

// metric reads one sample of the service's /metrics (0 when absent).
func (h *harness) metric(name string, labels ...string) float64 {
	h.t.Helper()
	res, err := http.Get(h.base + "/metrics")
	require.NoError(h.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(h.t, err)
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		matches := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(line, labels[i]+`="`+labels[i+1]+`"`) {
				matches = false
			}
		}
		if matches {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			require.NoError(h.t, err)
			return v
		}
	}
	return 0
}
