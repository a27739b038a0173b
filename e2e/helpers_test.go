package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/testkit"
	"github.com/convene/convene/tools/devstack/stack"
)

// binDir holds the binaries built once for the whole run by TestMain.
var binDir string

func TestMain(m *testing.M) {
	root, err := stack.FindRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = filepath.Join(root, ".cache", "bin", "e2e")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	err = stack.Build(ctx, root, binDir, stack.Available(root), os.Stderr)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// startStack starts the gateway and the given services as real processes against the real
// Postgres and Redis and a Consul agent of the stack's own. The processes' logs go to a file
// whose last lines are printed when the test fails.
func startStack(t *testing.T, opts stack.Options) *stack.Stack {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "stack.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	opts.BinDir = binDir
	opts.Mode = stack.Full
	opts.DataDir = t.TempDir()
	opts.PostgresAdminURL = testkit.PostgresAdminURL()
	opts.RedisURL = testkit.RequireRedis(t)
	opts.Logs = logFile
	opts.ReadyTimeout = 90 * time.Second
	st, err := stack.Start(context.Background(), opts)
	t.Cleanup(func() {
		if st != nil {
			st.Stop()
		}
		logFile.Close()
		if t.Failed() {
			dumpTail(t, logPath, 150)
		}
	})
	require.NoError(t, err)
	return st
}

func dumpTail(t *testing.T, path string, n int) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	t.Logf("last %d lines of the stack's logs:\n%s", len(lines), strings.Join(lines, "\n"))
}

// client talks to the gateway like any API client.
type client struct {
	base string
	http *http.Client
}

func newClient(st *stack.Stack) *client {
	return &client{base: st.GatewayURL, http: &http.Client{Timeout: 20 * time.Second}}
}

// response is a finished HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a request; body may be nil, a string (sent as is) or a value (sent as JSON).
func (c *client) do(t testing.TB, method, path, token string, body any) *response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// json decodes the body into v.
func (r *response) json(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// code returns API.md's error code of an error response.
func (r *response) code(t testing.TB) string {
	t.Helper()
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &e), "error body: %s", r.Body)
	require.NotEmpty(t, e.Error.Code, "error body without code: %s", r.Body)
	require.NotEmpty(t, e.Error.Message, "error body without message: %s", r.Body)
	return e.Error.Code
}

// expect fails the test unless the status is want.
func (r *response) expect(t testing.TB, want int) *response {
	t.Helper()
	require.Equal(t, want, r.Status, "body: %s", r.Body)
	return r
}

// user is a registered, logged-in account.
type user struct {
	ID       string
	Username string
	Email    string
	Password string
	Access   string
	Refresh  string
}

var userSeq struct {
	sync.Mutex
	n int
}

// newUser registers a fresh account through the gateway and logs it in.
func newUser(t testing.TB, c *client) *user {
	t.Helper()
	userSeq.Lock()
	userSeq.n++
	n := userSeq.n
	userSeq.Unlock()
	u := &user{
		Username: fmt.Sprintf("u%d_%s", n, testkit.RandomHex(3)),
		Password: "correct horse battery",
	}
	u.Email = u.Username + "@example.test"
	var reg struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	c.do(t, http.MethodPost, "/api/v1/auth/register", "", map[string]string{
		"username": u.Username, "email": u.Email, "password": u.Password,
	}).expect(t, http.StatusCreated).json(t, &reg)
	u.ID = reg.User.ID
	c.login(t, u)
	return u
}

// login logs u in (by username) and stores its tokens.
func (c *client) login(t testing.TB, u *user) {
	t.Helper()
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	c.do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]string{
		"login": u.Username, "password": u.Password,
	}).expect(t, http.StatusOK).json(t, &tok)
	require.NotEmpty(t, tok.AccessToken)
	u.Access, u.Refresh = tok.AccessToken, tok.RefreshToken
}

// ws opens a WebSocket through the gateway, passing the token in the query as browsers do.
func (c *client) ws(t testing.TB, path, token string) *websocket.Conn {
	t.Helper()
	conn, resp, err := c.dialWS(path, token)
	if resp != nil && resp.Body != nil {
		defer resp.Body.Close()
	}
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// dialWS opens a WebSocket and returns the handshake response (for refused upgrades).
func (c *client) dialWS(path, token string) (*websocket.Conn, *http.Response, error) {
	u, _ := url.Parse(c.base + path)
	u.Scheme = "ws"
	if token != "" {
		q := u.Query()
		q.Set("access_token", token)
		u.RawQuery = q.Encode()
	}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	return d.Dial(u.String(), nil)
}

// readFrame reads one JSON frame with a deadline.
func readFrame(t testing.TB, conn *websocket.Conn, timeout time.Duration) map[string]any {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(timeout)))
	var f map[string]any
	require.NoError(t, conn.ReadJSON(&f))
	return f
}

// readUntil reads frames until one of the given type arrives, and returns it.
func readUntil(t testing.TB, conn *websocket.Conn, typ string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		remaining := time.Until(deadline)
		require.Positive(t, remaining, "no %q frame within %s", typ, timeout)
		f := readFrame(t, conn, remaining)
		if f["type"] == typ {
			return f
		}
	}
}
