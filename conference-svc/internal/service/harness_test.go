package service

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/server"
	"github.com/convene/convene/platform/testkit"
	teamsv1 "github.com/convene/convene/proto/teams/v1"
)

// TestMain checks that nothing the tests started outlives them: every service is shut down
// by its test, and with it every socket, peer connection and forwarding goroutine.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Process-wide pools that are created once and kept on purpose.
		goleak.IgnoreTopFunction("github.com/jackc/pgx/v5/pgxpool.(*Pool).backgroundHealthCheck"),
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"),
		goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"),
		goleak.IgnoreAnyFunction("github.com/glebarez/go-sqlite.(*conn).interrupt"),
	)
}

// fakeTeams is teams.v1 backed by a map: the stand-in for teams-svc in component tests.
type fakeTeams struct {
	teamsv1.UnimplementedTeamsServiceServer
	mu    sync.Mutex
	teams map[string]map[string]teamsv1.Role
	down  map[string]bool
	addr  string
}

func startFakeTeams(t testing.TB) *fakeTeams {
	t.Helper()
	f := &fakeTeams{teams: map[string]map[string]teamsv1.Role{}, down: map[string]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f.addr = ln.Addr().String()
	srv := grpc.NewServer()
	teamsv1.RegisterTeamsServiceServer(srv, f)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return f
}

// team creates a team with an admin and members and returns its id.
func (f *fakeTeams) team(admin string, members ...string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := newID()
	f.teams[id] = map[string]teamsv1.Role{admin: teamsv1.Role_ROLE_ADMIN}
	for _, m := range members {
		f.teams[id][m] = teamsv1.Role_ROLE_MEMBER
	}
	return id
}

func (f *fakeTeams) addMember(team, user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.teams[team][user] = teamsv1.Role_ROLE_MEMBER
}

func (f *fakeTeams) deleteTeam(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.teams, id)
}

func (f *fakeTeams) setDown(id string, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down[id] = down
}

func (f *fakeTeams) GetMembership(_ context.Context, req *teamsv1.GetMembershipRequest) (*teamsv1.GetMembershipResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down[req.GetTeamId()] {
		return nil, status.Error(codes.Unavailable, "down")
	}
	members, ok := f.teams[req.GetTeamId()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such team")
	}
	role, ok := members[req.GetUserId()]
	return &teamsv1.GetMembershipResponse{Member: ok, Role: role}, nil
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// harness is conference-svc running in-process on free ports, with real Postgres and Redis.
type harness struct {
	base     string
	grpcAddr string
	teams    *fakeTeams
	signer   *authn.Signer
	dbURL    string
	resolver *testResolver
	// instance is this instance's discovery id.
	instance string
}

// testResolver knows the fake teams-svc and every conference-svc instance the test runs.
type testResolver struct {
	mu        sync.Mutex
	instances map[string][]discovery.Instance
}

func (r *testResolver) add(service string, in discovery.Instance) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.instances[service] = append(r.instances[service], in)
}

// remove drops an instance, as Consul does when its health check fails.
func (r *testResolver) remove(service, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.instances[service] = slices.DeleteFunc(r.instances[service], func(in discovery.Instance) bool { return in.ID == id })
}

func (r *testResolver) Instances(_ context.Context, service string) ([]discovery.Instance, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.instances[service]) == 0 {
		return nil, discovery.ErrNoInstance
	}
	return append([]discovery.Instance(nil), r.instances[service]...), nil
}

func (r *testResolver) Watch(ctx context.Context, service string, fn func([]discovery.Instance)) {
	in, _ := r.Instances(ctx, service)
	fn(in)
}

type harnessOptions struct {
	// cluster starts another instance of the same service: same database, Redis and
	// teams-svc, each instance known to the other's discovery.
	cluster      *harness
	sqlite       bool
	emptyTimeout time.Duration
	createLimit  int
	// reconnectGrace keeps a dropped participant's place (0: removed at once).
	reconnectGrace time.Duration
	// turn starts the embedded TURN server on free loopback ports.
	turn bool
	// configure changes the configuration last (media settings of simulcast_ and ice_ tests).
	configure func(*Config)
}

func startService(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	var teams *fakeTeams
	var resolver *testResolver
	if o.cluster != nil {
		teams, resolver = o.cluster.teams, o.cluster.resolver
	} else {
		teams = startFakeTeams(t)
		resolver = &testResolver{instances: map[string][]discovery.Instance{}}
		resolver.add("teams-svc", discovery.Instance{ID: "teams", GRPCAddr: teams.addr})
	}
	base := config.Base{
		Service: Name, Instance: "test-" + testkit.RandomHex(4),
		HTTPAddr: testkit.FreeAddr(t), GRPCAddr: testkit.FreeAddr(t), AdvertiseHost: "127.0.0.1",
		SQLitePath: filepath.Join(t.TempDir(), "conference.db"), RedisURL: testkit.RequireRedis(t),
		InternalSecret: testkit.Secret, LogLevel: testLogLevel(), LogFormat: "text", ShutdownGrace: 5 * time.Second,
	}
	switch {
	case o.cluster != nil:
		base.DatabaseURL = o.cluster.dbURL
	case !o.sqlite:
		base.DatabaseURL = testkit.NewPostgresDB(t)
	}
	resolver.add(Name, discovery.Instance{ID: base.Instance, HTTPAddr: base.HTTPAddr, GRPCAddr: base.GRPCAddr})
	cfg := Config{
		Base: base, MediaUDPAddr: "127.0.0.1:0", EmptyRoomTimeout: o.emptyTimeout,
		CreatePerMinute: o.createLimit, FramesPerSecond: 50, FrameBurst: 100,
		ICEFailedTimeout: 5 * time.Second, DrainDelay: time.Millisecond, ReconnectGrace: o.reconnectGrace,
	}
	if o.turn {
		cfg.TURN = TURNConfig{Enabled: true, UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Realm: "convene",
			Secret: testkit.Secret, PublicIP: "127.0.0.1", CredentialTTL: time.Hour}
	}
	if cfg.EmptyRoomTimeout == 0 {
		cfg.EmptyRoomTimeout = time.Minute
	}
	if cfg.CreatePerMinute == 0 {
		cfg.CreatePerMinute = 1000
	}
	if o.configure != nil {
		o.configure(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	deps, err := server.NewDeps(ctx, cfg.Base)
	require.NoError(t, err)
	deps.Resolver = resolver
	svc, err := New(ctx, cfg, deps)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(15 * time.Second):
			t.Error("conference-svc did not stop")
		}
	})
	h := &harness{base: "http://" + cfg.HTTPAddr, grpcAddr: cfg.GRPCAddr, teams: teams, signer: authn.NewSigner(testkit.Secret),
		dbURL: base.DatabaseURL, resolver: resolver, instance: base.Instance}
	require.Eventually(t, func() bool {
		resp, err := http.Get(h.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)
	return h
}

func (h *harness) identity(user string) string {
	return h.signer.Sign(authn.Identity{UserID: user, Username: "user-" + user[len(user)-6:]})
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request as user ("" for none); body is a value sent as JSON, or a string sent
// as is.
func (h *harness) do(t testing.TB, method, path, user string, body any) response {
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
	req, err := http.NewRequest(method, h.base+path, rd)
	require.NoError(t, err)
	if user != "" {
		req.Header.Set(authn.Header, h.identity(user))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), string(r.body))
}

func (r response) code(t testing.TB) string {
	t.Helper()
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	r.json(t, &e)
	require.NotEmpty(t, e.Error.Message)
	return e.Error.Code
}

type conferenceView struct {
	Conference struct {
		ID               string `json:"id"`
		TeamID           string `json:"team_id"`
		Title            string `json:"title"`
		StartsAt         string `json:"starts_at"`
		WaitingRoom      bool   `json:"waiting_room"`
		CreatedBy        string `json:"created_by"`
		Status           string `json:"status"`
		ParticipantCount int    `json:"participant_count"`
	} `json:"conference"`
	Role string `json:"role"`
}

// createConference schedules a conference as user and returns its id.
func (h *harness) createConference(t testing.TB, team, user string, waitingRoom bool) string {
	t.Helper()
	r := h.do(t, http.MethodPost, "/api/v1/teams/"+team+"/conferences", user, map[string]any{
		"title": "Standup", "starts_at": "2030-01-02T09:00:00Z", "waiting_room": waitingRoom,
	})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	var v conferenceView
	r.json(t, &v)
	return v.Conference.ID
}

func (h *harness) conference(t testing.TB, id, user string) conferenceView {
	t.Helper()
	r := h.do(t, http.MethodGet, "/api/v1/conferences/"+id, user, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var v conferenceView
	r.json(t, &v)
	return v
}

// frame is a server frame with every field the tests look at.
type frame struct {
	Type         string            `json:"type"`
	Code         string            `json:"code"`
	Role         string            `json:"role"`
	UserID       string            `json:"user_id"`
	SDP          string            `json:"sdp"`
	Candidate    json.RawMessage   `json:"candidate"`
	Participants []json.RawMessage `json:"participants"`
	Waiting      []struct {
		UserID string `json:"user_id"`
	} `json:"waiting"`
	Participant struct {
		UserID string `json:"user_id"`
	} `json:"participant"`
	Tracks []trackInfo `json:"tracks"`
	// TrackID, Mid and Active are those of a "layers" frame.
	TrackID    string   `json:"track_id"`
	Mid        string   `json:"mid"`
	Active     []string `json:"active"`
	ICEServers []struct {
		URLs       []string `json:"urls"`
		Username   string   `json:"username"`
		Credential string   `json:"credential"`
	} `json:"ice_servers"`
}

type trackInfo struct {
	TrackID  string `json:"track_id"`
	StreamID string `json:"stream_id"`
	UserID   string `json:"user_id"`
	Kind     string `json:"kind"`
	Source   string `json:"source"`
}

// wsClient is a signaling socket whose frames are read by a goroutine into a channel.
type wsClient struct {
	t      testing.TB
	user   string
	conn   *websocket.Conn
	frames chan frame
	done   chan struct{}
	wmu    sync.Mutex
}

// dial opens the conference socket as user; it fails the test unless the upgrade succeeds.
func (h *harness) dial(t testing.TB, confID, user string) *wsClient {
	t.Helper()
	c, resp, err := h.tryDial(confID, user)
	if resp != nil {
		resp.Body.Close()
	}
	require.NoError(t, err)
	ws := &wsClient{t: t, user: user, conn: c, frames: make(chan frame, 512), done: make(chan struct{})}
	go ws.readLoop()
	t.Cleanup(ws.close)
	return ws
}

// tryDial opens the conference socket as the gateway does: on a 421 naming the instance
// that hosts the room, it sends the request there, once.
func (h *harness) tryDial(confID, user string) (*websocket.Conn, *http.Response, error) {
	c, resp, err := h.dialOnce(h.base, confID, user)
	if resp == nil || resp.StatusCode != http.StatusMisdirectedRequest {
		return c, resp, err
	}
	owner := resp.Header.Get(InstanceHeader)
	instances, _ := h.resolver.Instances(context.Background(), Name)
	for _, in := range instances {
		if in.ID == owner {
			resp.Body.Close()
			return h.dialOnce("http://"+in.HTTPAddr, confID, user)
		}
	}
	return c, resp, err
}

// dialOnce opens the conference socket on the instance at base, following nothing.
func (h *harness) dialOnce(base, confID, user string) (*websocket.Conn, *http.Response, error) {
	hdr := http.Header{}
	if user != "" {
		hdr.Set(authn.Header, h.identity(user))
	}
	url := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/conferences/" + confID + "/ws"
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial(url, hdr)
}

func (c *wsClient) readLoop() {
	defer close(c.done)
	defer close(c.frames)
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		var f frame
		if json.Unmarshal(data, &f) == nil {
			c.frames <- f
		}
	}
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var err error
	if s, ok := v.(string); ok {
		err = c.conn.WriteMessage(websocket.TextMessage, []byte(s))
	} else {
		err = c.conn.WriteJSON(v)
	}
	require.NoError(c.t, err)
}

// expect waits for a frame of type typ, failing on anything else but the ignored types.
func (c *wsClient) expect(typ string, ignore ...string) frame {
	c.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case f, ok := <-c.frames:
			require.True(c.t, ok, "%s: socket closed while waiting for %q", c.user, typ)
			if f.Type == typ {
				return f
			}
			if !contains(ignore, f.Type) {
				c.t.Fatalf("%s: got %q (code %q) while waiting for %q", c.user, f.Type, f.Code, typ)
			}
		case <-deadline:
			c.t.Fatalf("%s: no %q frame within 5s", c.user, typ)
		}
	}
}

// expectError waits for an error frame with the given code.
func (c *wsClient) expectError(code string, ignore ...string) {
	c.t.Helper()
	f := c.expect("error", ignore...)
	require.Equal(c.t, code, f.Code)
}

// quiet asserts that no frame other than the ignored types arrives for a while.
func (c *wsClient) quiet(d time.Duration, ignore ...string) {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				return
			}
			if !contains(ignore, f.Type) {
				c.t.Fatalf("%s: unexpected %q frame (code %q)", c.user, f.Type, f.Code)
			}
		case <-deadline:
			return
		}
	}
}

// waitClosed waits until the server closed the socket.
func (c *wsClient) waitClosed() {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.t.Fatalf("%s: socket still open", c.user)
	}
}

func (c *wsClient) close() {
	_ = c.conn.Close()
	<-c.done
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// testLogLevel lets a developer see the service's logs: TEST_LOG_LEVEL=debug.
func testLogLevel() string {
	if l := os.Getenv("TEST_LOG_LEVEL"); l != "" {
		return l
	}
	return "error"
}
