package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/chats-svc/internal/app"
	"github.com/convene/convene/chats-svc/internal/service"
	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/grpcx"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/server"
	"github.com/convene/convene/platform/testkit"
	chatsv1 "github.com/convene/convene/proto/chats/v1"
	messagesv1 "github.com/convene/convene/proto/messages/v1"
	usersv1 "github.com/convene/convene/proto/users/v1"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var signer = authn.NewSigner(testkit.Secret)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeUsers stands in for users-svc: accounts in a map.
type fakeUsers struct {
	usersv1.UnimplementedUsersServiceServer
	mu      sync.Mutex
	byEmail map[string]*usersv1.User
	byID    map[string]*usersv1.User
}

func (f *fakeUsers) add(name string) *usersv1.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := &usersv1.User{Id: uuid.Must(uuid.NewV7()).String(), Username: name, Email: name + "-" + uuid.NewString()[:8] + "@example.com"}
	f.byEmail[u.Email] = u
	f.byID[u.Id] = u
	return u
}

func (f *fakeUsers) GetUserByEmail(_ context.Context, req *usersv1.GetUserByEmailRequest) (*usersv1.GetUserByEmailResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.byEmail[req.GetEmail()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such user")
	}
	return &usersv1.GetUserByEmailResponse{User: u}, nil
}

func (f *fakeUsers) GetUsers(_ context.Context, req *usersv1.GetUsersRequest) (*usersv1.GetUsersResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*usersv1.User
	for _, id := range req.GetIds() {
		if u, ok := f.byID[id]; ok {
			out = append(out, u)
		}
	}
	return &usersv1.GetUsersResponse{Users: out}, nil
}

// published is one PublishChatEvent call.
type published struct {
	UserIDs []string
	Frame   map[string]any
}

// fakeMessages stands in for messages-svc: summaries from a map, events recorded.
type fakeMessages struct {
	messagesv1.UnimplementedMessagesServiceServer
	mu           sync.Mutex
	summaries    map[string]*messagesv1.ChatSummary
	summaryCalls int
	events       []published
}

func (f *fakeMessages) setLastMessage(chatID string, sender *usersv1.User, text string, at time.Time, unread int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.summaries[chatID] = &messagesv1.ChatSummary{
		ChatId:      chatID,
		UnreadCount: unread,
		LastMessage: &messagesv1.Message{
			Id: uuid.Must(uuid.NewV7()).String(), ChatId: chatID, Seq: 1, SenderId: sender.GetId(),
			Text: text, ClientMsgId: "c1", CreatedAt: at.UTC().Format(time.RFC3339Nano),
		},
	}
}

func (f *fakeMessages) GetChatSummaries(_ context.Context, req *messagesv1.GetChatSummariesRequest) (*messagesv1.GetChatSummariesResponse, error) {
	// messages-svc answers for at most 200 chats per call (a page of the chat list).
	if len(req.GetChatIds()) > app.MaxPageSize {
		return nil, status.Error(codes.InvalidArgument, "too many chats")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.summaryCalls++
	var out []*messagesv1.ChatSummary
	for _, id := range req.GetChatIds() {
		if s, ok := f.summaries[id]; ok {
			out = append(out, s)
		}
	}
	return &messagesv1.GetChatSummariesResponse{Summaries: out}, nil
}

func (f *fakeMessages) PublishChatEvent(_ context.Context, req *messagesv1.PublishChatEventRequest) (*messagesv1.PublishChatEventResponse, error) {
	var frame map[string]any
	if err := json.Unmarshal(req.GetEventJson(), &frame); err != nil {
		return nil, status.Error(codes.InvalidArgument, "event_json is not JSON")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, published{UserIDs: slices.Sorted(slices.Values(req.GetUserIds())), Frame: frame})
	return &messagesv1.PublishChatEventResponse{}, nil
}

func (f *fakeMessages) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.summaryCalls
}

// eventsFor returns the recorded events about chatID.
func (f *fakeMessages) eventsFor(chatID string) []published {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []published
	for _, e := range f.events {
		if e.Frame["chat_id"] == chatID {
			out = append(out, e)
		} else if c, ok := e.Frame["chat"].(map[string]any); ok && c["id"] == chatID {
			out = append(out, e)
		}
	}
	return out
}

// serveGRPC serves register's services on addr (a free port when empty) until the test
// ends, with the identity check every Convene service has.
func serveGRPC(t testing.TB, addr string, register func(*grpc.Server)) string {
	t.Helper()
	if addr == "" {
		addr = testkit.FreeAddr(t)
	}
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	s := grpcx.NewServer(quiet, signer)
	register(s.Server)
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(s.Stop)
	return ln.Addr().String()
}

type options struct {
	writesPerMinute int
	// messagesDown starts chats-svc with messages-svc not listening; startMessages
	// brings it up.
	messagesDown bool
}

// harness is chats-svc running in-process on free ports with real Postgres and Redis,
// next to fake users-svc and messages-svc.
type harness struct {
	t            testing.TB
	base         string
	client       *http.Client
	chats        chatsv1.ChatsServiceClient
	users        *fakeUsers
	messages     *fakeMessages
	messagesAddr string
}

func start(t testing.TB, o options) *harness {
	t.Helper()
	if o.writesPerMinute == 0 {
		o.writesPerMinute = 10_000
	}
	h := &harness{
		t:        t,
		users:    &fakeUsers{byEmail: map[string]*usersv1.User{}, byID: map[string]*usersv1.User{}},
		messages: &fakeMessages{summaries: map[string]*messagesv1.ChatSummary{}},
	}
	usersAddr := serveGRPC(t, "", func(s *grpc.Server) { usersv1.RegisterUsersServiceServer(s, h.users) })
	h.messagesAddr = testkit.FreeAddr(t)
	if !o.messagesDown {
		h.startMessages()
	}

	httpAddr, grpcAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	env := config.FromMap(map[string]string{
		"HTTP_ADDR":            httpAddr,
		"GRPC_ADDR":            grpcAddr,
		"DATABASE_URL":         testkit.NewPostgresDB(t),
		"REDIS_URL":            testkit.RequireRedis(t),
		"INTERNAL_AUTH_SECRET": testkit.Secret,
		"LOG_LEVEL":            "error",
	})
	base := config.LoadBase(env, service.Name, "", "")
	require.NoError(t, env.Err())
	ctx, cancel := context.WithCancel(context.Background())
	deps, err := server.NewDeps(ctx, base)
	require.NoError(t, err)
	deps.Resolver = discovery.NewStatic(func(k string) string {
		return map[string]string{"USERS_SVC_GRPC_ADDRS": usersAddr, "MESSAGES_SVC_GRPC_ADDRS": h.messagesAddr}[k]
	})
	svc, err := service.New(ctx, deps, service.Settings{
		WritesPerMinute:   o.writesPerMinute,
		RelayPollInterval: 50 * time.Millisecond,
		RelayMinBackoff:   20 * time.Millisecond,
		RelayMaxBackoff:   200 * time.Millisecond,
		DrainDelay:        time.Millisecond,
	})
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() { errc <- server.Run(ctx, svc.RunParams()) }()

	h.base = "http://" + httpAddr
	h.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	conn, err := grpcx.Dial(grpcx.ClientParams{
		Service:  service.Name,
		Resolver: discovery.NewStatic(func(k string) string { return map[string]string{"CHATS_SVC_GRPC_ADDRS": grpcAddr}[k] }),
		Signer:   signer,
		Caller:   "messages-svc",
	})
	require.NoError(t, err)
	h.chats = chatsv1.NewChatsServiceClient(conn)
	t.Cleanup(func() {
		_ = conn.Close()
		h.client.CloseIdleConnections()
		cancel()
		require.NoError(t, <-errc)
	})
	require.Eventually(t, func() bool {
		resp, err := h.client.Get(h.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)
	return h
}

// startMessages brings the fake messages-svc up on its fixed address.
func (h *harness) startMessages() {
	serveGRPC(h.t, h.messagesAddr, func(s *grpc.Server) { messagesv1.RegisterMessagesServiceServer(s, h.messages) })
}

// response is an HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorCode returns API.md's error code of the body, or "".
func (r response) errorCode() string {
	var e httpx.ErrorBody
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

func (r response) decode(t testing.TB, dst any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, dst), string(r.Body))
}

// do sends a request as user (nil: no identity). body is JSON-encoded unless it is a
// string, which is sent as is.
func (h *harness) do(user *usersv1.User, method, path string, body any) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/json")
	if user != nil {
		req.Header.Set(authn.Header, signer.Sign(authn.Identity{UserID: user.GetId(), Username: user.GetUsername()}))
	}
	resp, err := h.client.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// recordActivity reports chats' activity over chats.v1 as messages-svc does.
func (h *harness) recordActivity(activity map[string]time.Time) {
	h.t.Helper()
	req := &chatsv1.RecordActivityRequest{}
	for id, at := range activity {
		req.Activities = append(req.Activities, &chatsv1.ChatActivity{ChatId: id, LastActivityAt: at.UTC().Format(time.RFC3339Nano)})
	}
	_, err := h.chats.RecordActivity(context.Background(), req)
	require.NoError(h.t, err)
}

// listAll walks user's chat list in pages of limit and returns every chat in order, and
// the number of pages.
func (h *harness) listAll(user *usersv1.User, limit int) ([]chatBody, int) {
	h.t.Helper()
	var all []chatBody
	cursor, pages := "", 0
	for {
		path := "/api/v1/chats?limit=" + strconv.Itoa(limit)
		if cursor != "" {
			path += "&before=" + cursor
		}
		r := h.do(user, http.MethodGet, path, nil)
		require.Equal(h.t, http.StatusOK, r.Status, string(r.Body))
		var page struct {
			Items      []chatBody `json:"items"`
			NextCursor string     `json:"next_cursor"`
		}
		r.decode(h.t, &page)
		pages++
		require.LessOrEqual(h.t, len(page.Items), limit)
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all, pages
		}
		cursor = page.NextCursor
	}
}

// userCtx is a context whose gRPC calls carry user's identity, as messages-svc's calls
// made on a user's behalf do.
func userCtx(user *usersv1.User) context.Context {
	return authn.WithIdentity(context.Background(), authn.Identity{UserID: user.GetId(), Username: user.GetUsername()})
}

type chatBody struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	CreatedBy   string `json:"created_by"`
	CreatedAt   string `json:"created_at"`
	LastMessage *struct {
		ID     string `json:"id"`
		ChatID string `json:"chat_id"`
		Seq    int64  `json:"seq"`
		Sender struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		} `json:"sender"`
		Text      string   `json:"text"`
		CreatedAt string   `json:"created_at"`
		EditedAt  *string  `json:"edited_at"`
		Deleted   bool     `json:"deleted"`
		ReadBy    []string `json:"read_by"`
	} `json:"last_message"`
	UnreadCount int64 `json:"unread_count"`
}

type memberBody struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

// createChat creates a chat as user and returns it.
func (h *harness) createChat(user *usersv1.User, title string, members ...*usersv1.User) chatBody {
	h.t.Helper()
	emails := []string{}
	for _, m := range members {
		emails = append(emails, m.GetEmail())
	}
	r := h.do(user, http.MethodPost, "/api/v1/chats", map[string]any{"title": title, "member_emails": emails})
	require.Equal(h.t, http.StatusCreated, r.Status, string(r.Body))
	var out struct {
		Chat chatBody `json:"chat"`
	}
	r.decode(h.t, &out)
	return out.Chat
}

// getChat reads a chat as user; it fails the test unless the answer is 200.
func (h *harness) getChat(user *usersv1.User, chatID string) (chatBody, []memberBody) {
	h.t.Helper()
	r := h.do(user, http.MethodGet, "/api/v1/chats/"+chatID, nil)
	require.Equal(h.t, http.StatusOK, r.Status, string(r.Body))
	var out struct {
		Chat    chatBody     `json:"chat"`
		Members []memberBody `json:"members"`
	}
	r.decode(h.t, &out)
	return out.Chat, out.Members
}

func memberIDs(ms []memberBody) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return slices.Sorted(slices.Values(ids))
}

func sortedIDs(users ...*usersv1.User) []string {
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.GetId()
	}
	return slices.Sorted(slices.Values(ids))
}
