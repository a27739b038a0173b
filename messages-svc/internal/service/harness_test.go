package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/messages-svc/internal/domain"
	"github.com/convene/convene/messages-svc/internal/service"
	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/grpcx"
	"github.com/convene/convene/platform/testkit"
	chatsv1 "github.com/convene/convene/proto/chats/v1"
	usersv1 "github.com/convene/convene/proto/users/v1"
)

// directory stands in for chats-svc and users-svc: a real gRPC server (with the identity
// interceptor) backed by maps.
type directory struct {
	chatsv1.UnimplementedChatsServiceServer
	usersv1.UnimplementedUsersServiceServer
	mu      sync.Mutex
	members map[string][]string
	names   map[string]string
	// listMembers counts ListMembers and IsMember calls: what messages-svc's cache saves.
	listMembers int
	// activity is the latest activity reported per chat.
	activity map[string]time.Time
}

func (d *directory) IsMember(_ context.Context, r *chatsv1.IsMemberRequest) (*chatsv1.IsMemberResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.listMembers++
	return &chatsv1.IsMemberResponse{Member: slices.Contains(d.members[r.GetChatId()], r.GetUserId())}, nil
}

func (d *directory) ListMembers(_ context.Context, r *chatsv1.ListMembersRequest) (*chatsv1.ListMembersResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.listMembers++
	return &chatsv1.ListMembersResponse{UserIds: slices.Clone(d.members[r.GetChatId()])}, nil
}

func (d *directory) ListUserChats(_ context.Context, r *chatsv1.ListUserChatsRequest) (*chatsv1.ListUserChatsResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for chat, m := range d.members {
		if slices.Contains(m, r.GetUserId()) {
			out = append(out, chat)
		}
	}
	return &chatsv1.ListUserChatsResponse{ChatIds: out}, nil
}

func (d *directory) RecordActivity(_ context.Context, r *chatsv1.RecordActivityRequest) (*chatsv1.RecordActivityResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, a := range r.GetActivities() {
		at, err := time.Parse(time.RFC3339Nano, a.GetLastActivityAt())
		if err != nil {
			return nil, err
		}
		if at.After(d.activity[a.GetChatId()]) {
			d.activity[a.GetChatId()] = at
		}
	}
	return &chatsv1.RecordActivityResponse{}, nil
}

func (d *directory) GetUsers(_ context.Context, r *usersv1.GetUsersRequest) (*usersv1.GetUsersResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*usersv1.User
	for _, id := range r.GetIds() {
		if n, ok := d.names[id]; ok {
			out = append(out, &usersv1.User{Id: id, Username: n})
		}
	}
	return &usersv1.GetUsersResponse{Users: out}, nil
}

// user registers a user and returns their id.
func (d *directory) user(t *testing.T, name string) string {
	id, err := domain.NewID()
	require.NoError(t, err)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.names[id] = name
	return id
}

// chat creates a chat with members and returns its id.
func (d *directory) chat(t *testing.T, members ...string) string {
	id, err := domain.NewID()
	require.NoError(t, err)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.members[id] = members
	return id
}

func (d *directory) addMember(chat, user string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.members[chat] = append(d.members[chat], user)
}

func (d *directory) removeMember(chat, user string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.members[chat] = slices.DeleteFunc(slices.Clone(d.members[chat]), func(u string) bool { return u == user })
}

// memberCalls returns how many membership questions reached the directory.
func (d *directory) memberCalls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.listMembers
}

// lastActivity returns the activity reported for chat.
func (d *directory) lastActivity(chat string) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.activity[chat]
}

// env is one test's world: the stand-in directory and messages-svc instances sharing a
// database and Redis.
type env struct {
	dir    *directory
	signer *authn.Signer
	dbURL  string
	vars   map[string]string
}

// newEnv starts the directory and points messages-svc's static discovery at it.
func newEnv(t *testing.T, vars map[string]string) *env {
	t.Helper()
	dir := &directory{members: map[string][]string{}, names: map[string]string{}, activity: map[string]time.Time{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := grpcx.NewServer(log, authn.NewSigner(testkit.Secret))
	chatsv1.RegisterChatsServiceServer(srv, dir)
	usersv1.RegisterUsersServiceServer(srv, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	t.Setenv("CHATS_SVC_GRPC_ADDRS", ln.Addr().String())
	t.Setenv("USERS_SVC_GRPC_ADDRS", ln.Addr().String())
	e := &env{dir: dir, signer: authn.NewSigner(testkit.Secret), vars: vars}
	if vars["DATABASE_URL"] == "" && vars["SQLITE_PATH"] == "" {
		e.dbURL = testkit.NewPostgresDB(t)
	}
	return e
}

// instance is one running messages-svc.
type instance struct {
	http, grpc string
	stop       func()
}

func (e *env) start(t *testing.T) *instance {
	t.Helper()
	in := &instance{http: testkit.FreeAddr(t), grpc: testkit.FreeAddr(t)}
	vars := map[string]string{
		"HTTP_ADDR":            in.http,
		"GRPC_ADDR":            in.grpc,
		"DATABASE_URL":         e.dbURL,
		"REDIS_URL":            testkit.RequireRedis(t),
		"INTERNAL_AUTH_SECRET": testkit.Secret,
		"LOG_LEVEL":            "error",
		"INSTANCE_ID":          "messages-" + in.grpc,
	}
	for k, v := range e.vars {
		vars[k] = v
	}
	cfg, err := service.LoadConfig(config.FromMap(vars))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, cfg)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	var once sync.Once
	in.stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(in.stop)
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + in.http + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)
	return in
}

// identity is the header the gateway would add for user.
func (e *env) identity(t *testing.T, user string) http.Header {
	e.dir.mu.Lock()
	name := e.dir.names[user]
	e.dir.mu.Unlock()
	return http.Header{authn.Header: {e.signer.Sign(authn.Identity{UserID: user, Username: name})}}
}

// do sends an HTTP request as user (no identity when user is "") and decodes the JSON answer.
func (e *env) do(t *testing.T, in *instance, user, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, "http://"+in.http+path, r)
	require.NoError(t, err)
	if user != "" {
		req.Header = e.identity(t, user)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	}
	return resp.StatusCode, out
}

func (e *env) send(t *testing.T, in *instance, user, chat, text, clientID string) map[string]any {
	t.Helper()
	code, body := e.do(t, in, user, http.MethodPost, "/api/v1/chats/"+chat+"/messages", map[string]string{"text": text, "client_msg_id": clientID})
	require.Equal(t, http.StatusCreated, code, body)
	return body["message"].(map[string]any)
}

// frame is a server → client frame. "message" is an object in message frames and a text
// in error frames: it lands in Message or Error accordingly.
type frame struct {
	Type        string          `json:"type"`
	ClientMsgID string          `json:"client_msg_id"`
	Raw         json.RawMessage `json:"message"`
	ChatID      string          `json:"chat_id"`
	MessageID   string          `json:"message_id"`
	UserID      string          `json:"user_id"`
	Seq         int64           `json:"seq"`
	Code        string          `json:"code"`
	Message     map[string]any  `json:"-"`
	Error       string          `json:"-"`
}

func decodeFrame(raw []byte) (frame, error) {
	var f frame
	if err := json.Unmarshal(raw, &f); err != nil {
		return f, err
	}
	if f.Type == "error" {
		return f, json.Unmarshal(f.Raw, &f.Error)
	}
	if len(f.Raw) > 0 {
		return f, json.Unmarshal(f.Raw, &f.Message)
	}
	return f, nil
}

func (f frame) seq() int64 { return int64(f.Message["seq"].(float64)) }

// socket is a test client of /api/v1/ws that records every frame it reads.
type socket struct {
	conn   *websocket.Conn
	frames chan frame
	// backlog holds frames read but not consumed yet.
	backlog []frame
	// closed receives the close error once the connection ends.
	closed chan error
}

func (e *env) dial(t *testing.T, in *instance, user string) *socket {
	t.Helper()
	return e.dialWith(t, in, user, websocket.DefaultDialer)
}

func (e *env) dialWith(t *testing.T, in *instance, user string, d *websocket.Dialer) *socket {
	t.Helper()
	conn, resp, err := d.Dial("ws://"+in.http+"/api/v1/ws", e.identity(t, user))
	require.NoError(t, err)
	resp.Body.Close()
	s := &socket{conn: conn, frames: make(chan frame, 100000), closed: make(chan error, 1)}
	t.Cleanup(func() { conn.Close() })
	go s.read()
	return s
}

func (s *socket) read() {
	for {
		_, raw, err := s.conn.ReadMessage()
		if err != nil {
			s.closed <- err
			return
		}
		f, err := decodeFrame(raw)
		if err != nil {
			s.closed <- fmt.Errorf("undecodable frame %s: %w", raw, err)
			return
		}
		s.frames <- f
	}
}

func (s *socket) write(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, s.conn.WriteJSON(v))
}

// next returns the oldest unconsumed frame of one of the given types (any type when none
// is given); frames of other types stay for later calls.
func (s *socket) next(t *testing.T, types ...string) frame {
	t.Helper()
	match := func(f frame) bool { return len(types) == 0 || slices.Contains(types, f.Type) }
	for i, f := range s.backlog {
		if match(f) {
			s.backlog = slices.Delete(s.backlog, i, i+1)
			return f
		}
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f := <-s.frames:
			if match(f) {
				return f
			}
			s.backlog = append(s.backlog, f)
		case err := <-s.closed:
			t.Fatalf("socket closed while waiting for %v: %v", types, err)
		case <-timeout:
			t.Fatalf("no %v frame within 10s", types)
		}
	}
}

// none asserts that no frame of the given type is pending or arrives within d.
func (s *socket) none(t *testing.T, d time.Duration, typ string) {
	t.Helper()
	for _, f := range s.backlog {
		require.NotEqual(t, typ, f.Type, "unexpected %+v", f)
	}
	deadline := time.After(d)
	for {
		select {
		case f := <-s.frames:
			require.NotEqual(t, typ, f.Type, "unexpected %+v", f)
			s.backlog = append(s.backlog, f)
		case <-deadline:
			return
		}
	}
}

// ready waits until the socket is registered and started, by a frame round trip: an error
// frame answers only after the server read the frame, which it does after start.
func (s *socket) ready(t *testing.T) {
	t.Helper()
	s.write(t, map[string]any{"type": "ping-probe"})
	require.Equal(t, "unknown_type", s.next(t, "error").Code)
}

func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

func path(format string, a ...any) string { return fmt.Sprintf(format, a...) }
