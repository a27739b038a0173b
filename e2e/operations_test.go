package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/testkit"
	"github.com/convene/convene/tools/devstack/stack"
)

// capturedStack is a stack whose processes' output is also kept in memory, for tests
// that read the logs themselves.
type capturedStack struct {
	*stack.Stack
	logs *lockedBuffer
}

// startCapturedStack is startStack with every process's output also kept in memory.
func startCapturedStack(t *testing.T, opts stack.Options) *capturedStack {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "stack.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	logs := &lockedBuffer{}
	opts.BinDir = binDir
	opts.Mode = stack.Full
	opts.DataDir = t.TempDir()
	opts.PostgresAdminURL = testkit.PostgresAdminURL()
	opts.RedisURL = testkit.RequireRedis(t)
	opts.Logs = io.MultiWriter(logFile, logs)
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
	return &capturedStack{Stack: st, logs: logs}
}

// lockedBuffer is a log sink shared by the processes' output goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logLine is one line of a process's output: "[name] {json}".
type logLine struct {
	proc   string
	raw    string
	fields map[string]any
}

var linePrefix = regexp.MustCompile(`^\[([^\]]+)\] (.*)$`)

func parseLines(t *testing.T, all string) []logLine {
	t.Helper()
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(all))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := linePrefix.FindStringSubmatch(sc.Text())
		require.NotNil(t, m, "every line names its process: %q", sc.Text())
		l := logLine{proc: m[1], raw: m[2]}
		_ = json.Unmarshal([]byte(m[2]), &l.fields)
		out = append(out, l)
	}
	return out
}

// TestLogsCarryNoSecrets goes through register, login, refresh, refresh-token reuse,
// logout, a WebSocket authenticated in its query, team and chat calls, a request straight
// to a service with a signed identity, with every process at debug level, then reads
// every line every process wrote: no password, access token, refresh token, identity
// token, internal secret or bearer header may be in any of them. It also checks the
// central-log contract: every service and gateway line is JSON with service and
// instance, and request lines carry request_id and trace_id.
func TestLogsCarryNoSecrets(t *testing.T) {
	st := startCapturedStack(t, stack.Options{
		Services: []string{"users-svc", "teams-svc", "chats-svc", "messages-svc"},
		Env:      map[string]string{"LOG_LEVEL": "debug"},
	})
	c := newClient(st.Stack)
	var secrets []string
	keep := func(s ...string) {
		for _, v := range s {
			require.NotEmpty(t, v)
			secrets = append(secrets, v)
		}
	}

	alice, bob := newUser(t, c), newUser(t, c)
	keep(alice.Password, alice.Access, alice.Refresh, bob.Access, bob.Refresh)

	// Refresh, then replay the spent refresh token (reuse detection revokes the family).
	var pair struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	c.do(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": alice.Refresh}).
		expect(t, http.StatusOK).json(t, &pair)
	keep(pair.AccessToken, pair.RefreshToken)
	c.do(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": alice.Refresh}).
		expect(t, http.StatusUnauthorized)
	// A wrong password and a bearer token that is not a JWT go down the failure paths.
	c.do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"login": alice.Username, "password": "not the password 7f3a"}).
		expect(t, http.StatusUnauthorized)
	keep("not the password 7f3a")
	c.do(t, http.MethodGet, "/api/v1/users/me", "opaque-bearer-secret-91c2", nil).expect(t, http.StatusUnauthorized)
	keep("opaque-bearer-secret-91c2")
	c.login(t, alice)
	keep(alice.Access, alice.Refresh)

	// Teams and chats, with a message over HTTP and one over the WebSocket.
	var team struct {
		Team struct {
			ID string `json:"id"`
		} `json:"team"`
	}
	c.do(t, http.MethodPost, "/api/v1/teams", alice.Access, map[string]any{"name": "ops", "description": "logs"}).
		expect(t, http.StatusCreated).json(t, &team)
	c.do(t, http.MethodPost, "/api/v1/teams/"+team.Team.ID+"/members", alice.Access, map[string]any{"email": bob.Email}).
		expect(t, http.StatusCreated)
	c.do(t, http.MethodGet, "/api/v1/teams", bob.Access, nil).expect(t, http.StatusOK)
	var chat struct {
		Chat struct {
			ID string `json:"id"`
		} `json:"chat"`
	}
	c.do(t, http.MethodPost, "/api/v1/chats", alice.Access, map[string]any{"title": "ops", "member_emails": []string{bob.Email}}).
		expect(t, http.StatusCreated).json(t, &chat)
	c.do(t, http.MethodPost, "/api/v1/chats/"+chat.Chat.ID+"/messages", alice.Access, map[string]any{"text": "hello", "client_msg_id": "m-1"}).
		expect(t, http.StatusCreated)
	ws := c.ws(t, "/api/v1/ws", bob.Access)
	require.NoError(t, ws.WriteJSON(map[string]any{"type": "send", "chat_id": chat.Chat.ID, "text": "over the socket", "client_msg_id": "m-2"}))
	readUntil(t, ws, "ack", 15*time.Second)
	ws.Close()

	// A request straight to a service with a valid identity: services must not log it.
	identity := authn.NewSigner(st.Secret).Sign(authn.Identity{UserID: alice.ID, Username: alice.Username})
	keep(identity)
	req, err := http.NewRequest(http.MethodGet, "http://"+st.Proc("users-svc", 0).HTTPAddr+"/api/v1/users/me", nil)
	require.NoError(t, err)
	req.Header.Set(authn.Header, identity)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// Logout: the access token and the refresh family stop working.
	c.do(t, http.MethodPost, "/api/v1/auth/logout", alice.Access, map[string]string{"refresh_token": alice.Refresh}).
		expect(t, http.StatusNoContent)
	c.do(t, http.MethodGet, "/api/v1/users/me", alice.Access, nil).expect(t, http.StatusUnauthorized)

	// Stop every process, so that shutdown lines are read too.
	st.Stop()
	all := st.logs.String()
	lines := parseLines(t, all)
	require.Greater(t, len(lines), 50, "the stack logged")

	t.Run("no secret in any line", func(t *testing.T) {
		keep(st.Secret)
		// Report the offending line and which secret, not the whole log.
		for _, l := range lines {
			for i, s := range secrets {
				require.False(t, strings.Contains(l.raw, s), "secret #%d in a log line of %s: %s", i, l.proc, l.raw)
			}
		}
		patterns := map[string]*regexp.Regexp{
			"bearer header":  regexp.MustCompile(`(?i)bearer `),
			"a JWT":          regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}`),
			"identity token": regexp.MustCompile(`eyJzdWIi[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{20,}`),
			"access_token=":  regexp.MustCompile(`access_token=[^R&"\s]`),
		}
		for name, re := range patterns {
			for _, l := range lines {
				require.False(t, re.MatchString(l.raw), "%s in a log line of %s: %s", name, l.proc, l.raw)
			}
		}
	})

	t.Run("every process line is JSON with service, instance, request and trace", func(t *testing.T) {
		requests := map[string]int{}
		for _, l := range lines {
			if l.proc == "consul" {
				continue
			}
			require.NotNil(t, l.fields, "%s wrote a line that is not JSON: %s", l.proc, l.raw)
			require.NotEmpty(t, l.fields["service"], "%s: %s", l.proc, l.raw)
			require.NotEmpty(t, l.fields["instance"], "%s: %s", l.proc, l.raw)
			if l.fields["msg"] != "http request" || isProbePath(l.fields["path"]) {
				continue
			}
			requests[l.proc]++
			require.Regexp(t, `^[0-9a-f]{32}$`, l.fields["request_id"], "%s: %s", l.proc, l.raw)
			require.Regexp(t, `^[0-9a-f]{32}$`, l.fields["trace_id"], "%s: %s", l.proc, l.raw)
			require.Regexp(t, `^[0-9a-f]{16}$`, l.fields["span_id"], "%s: %s", l.proc, l.raw)
		}
		for _, p := range []string{"gateway", "users-svc-1", "teams-svc-1", "chats-svc-1", "messages-svc-1"} {
			require.Positive(t, requests[p], "%s logged requests", p)
		}
		// The gateway logs the WebSocket upgrade with the service's status, not its
		// catch-all route's default.
		upgrades := 0
		for _, l := range lines {
			if l.proc == "gateway" && l.fields["msg"] == "http request" && l.fields["path"] == "/api/v1/ws" {
				require.EqualValues(t, http.StatusSwitchingProtocols, l.fields["status"], l.raw)
				upgrades++
			}
		}
		require.Equal(t, 1, upgrades)
	})

	t.Run("one request's lines share its request_id and trace_id across processes", func(t *testing.T) {
		// The gateway's line of the team creation, and the teams-svc line of the same request.
		var gw *logLine
		for i, l := range lines {
			if l.proc == "gateway" && l.fields["msg"] == "http request" && l.fields["path"] == "/api/v1/teams" && l.fields["method"] == "POST" {
				gw = &lines[i]
			}
		}
		require.NotNil(t, gw)
		var seen []string
		for _, l := range lines {
			if l.fields != nil && l.fields["request_id"] == gw.fields["request_id"] {
				require.Equal(t, gw.fields["trace_id"], l.fields["trace_id"], "%s: %s", l.proc, l.raw)
				seen = append(seen, l.proc)
			}
		}
		require.Contains(t, seen, "teams-svc-1")
	})
}

// servedAPI reads how many API requests an instance has answered from its /metrics.
func servedAPI(t *testing.T, httpAddr string) int {
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "http_requests_total{") || !strings.Contains(line, `route="/api/v1/`) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		require.NoError(t, err, "metrics line %q", line)
		n += int(v)
	}
	return n
}

func isProbePath(p any) bool {
	s, _ := p.(string)
	return s == "/healthz" || s == "/readyz" || s == "/metrics"
}

// loadResult counts the outcomes of the steady load.
type loadResult struct {
	total  atomic.Int64
	mu     sync.Mutex
	failed []string
}

func (r *loadResult) fail(at time.Time, what string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, at.Format("15:04:05.000")+" "+what)
}

// TestRollingRestart restarts every instance of every service (two each), one at a time
// with SIGTERM, under a steady load of reads and idempotent writes through the gateway:
// not one request may fail.
func TestRollingRestart(t *testing.T) {
	services := stack.Services
	instances := map[string]int{}
	for _, svc := range services {
		instances[svc] = 2
	}
	st := startCapturedStack(t, stack.Options{
		Services:  services,
		Instances: instances,
		ServiceEnv: map[string]map[string]string{
			"gateway":   {"AUTH_RATE_LIMIT": "100000", "AUTH_RATE_BURST": "100000"},
			"teams-svc": {"TEAMS_WRITES_PER_MINUTE": "100000"},
		},
	})
	c := newClient(st.Stack)
	admin, member := newUser(t, c), newUser(t, c)
	var created struct {
		Team struct {
			ID       string `json:"id"`
			JoinCode string `json:"join_code"`
		} `json:"team"`
	}
	c.do(t, http.MethodPost, "/api/v1/teams", admin.Access, map[string]any{"name": "rolling", "description": "restarts"}).
		expect(t, http.StatusCreated).json(t, &created)
	team := created.Team
	c.do(t, http.MethodPost, "/api/v1/teams/"+team.ID+"/members", admin.Access, map[string]any{"email": member.Email}).
		expect(t, http.StatusCreated)
	c.do(t, http.MethodPost, "/api/v1/teams/"+team.ID+"/conferences", admin.Access, map[string]any{
		"title": "standup", "starts_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "waiting_room": true,
	}).expect(t, http.StatusCreated)
	var chat struct {
		Chat struct {
			ID string `json:"id"`
		} `json:"chat"`
	}
	c.do(t, http.MethodPost, "/api/v1/chats", member.Access, map[string]any{"title": "rolling", "member_emails": []string{admin.Email}}).
		expect(t, http.StatusCreated).json(t, &chat)
	// The first send creates the message; every repeat of the same client_msg_id answers
	// 200 with it, so the load can POST it again and again through the restarts.
	send := `{"text":"hello","client_msg_id":"rolling-1"}`
	c.do(t, http.MethodPost, "/api/v1/chats/"+chat.Chat.ID+"/messages", member.Access, send).expect(t, http.StatusCreated)

	// Each request of the load and the status that means success. Joining a team one is
	// already in is a POST with a body that changes nothing, however often it is repeated.
	type call struct {
		method, path, token string
		body                string
		want                int
	}
	calls := []call{
		{http.MethodGet, "/api/v1/users/me", member.Access, "", http.StatusOK},
		{http.MethodGet, "/api/v1/teams", member.Access, "", http.StatusOK},
		{http.MethodGet, "/api/v1/teams/" + team.ID + "/members", member.Access, "", http.StatusOK},
		{http.MethodGet, "/api/v1/users?email=" + admin.Email, member.Access, "", http.StatusOK},
		{http.MethodPost, "/api/v1/teams/join", member.Access, `{"code":"` + team.JoinCode + `"}`, http.StatusConflict},
		{http.MethodGet, "/api/v1/teams/" + team.ID + "/conferences", member.Access, "", http.StatusOK},
		{http.MethodGet, "/api/v1/chats", member.Access, "", http.StatusOK},
		{http.MethodGet, "/api/v1/chats/" + chat.Chat.ID + "/messages?after_seq=0", admin.Access, "", http.StatusOK},
		{http.MethodPost, "/api/v1/chats/" + chat.Chat.ID + "/messages", member.Access, send, http.StatusOK},
	}
	res := &loadResult{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			httpc := &http.Client{Timeout: 20 * time.Second}
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for i := w; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				cl := calls[i%len(calls)]
				var body io.Reader
				if cl.body != "" {
					body = strings.NewReader(cl.body)
				}
				req, _ := http.NewRequest(cl.method, c.base+cl.path, body)
				req.Header.Set("Authorization", "Bearer "+cl.token)
				if cl.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				at := time.Now()
				resp, err := httpc.Do(req)
				res.total.Add(1)
				if err != nil {
					res.fail(at, cl.method+" "+cl.path+": "+err.Error())
					continue
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != cl.want {
					res.fail(at, fmt.Sprintf("%s %s: %d %s (request %s)", cl.method, cl.path, resp.StatusCode, raw, resp.Header.Get(httpx.RequestIDHeader)))
				}
			}
		})
	}
	stopLoad := func() {
		cancel()
		wg.Wait()
	}
	defer stopLoad()

	require.Eventually(t, func() bool { return res.total.Load() > 50 }, 30*time.Second, 50*time.Millisecond, "the load runs")
	for _, svc := range services {
		for i := range 2 {
			before := res.total.Load()
			require.NoError(t, st.Terminate(svc, i), "%s-%d stops gracefully", svc, i+1)
			require.NoError(t, st.Restart(context.Background(), svc, i))
			require.NoError(t, st.WaitPassing(context.Background(), svc, 2))
			// The fresh process counts from zero: it takes its share again before the next
			// instance goes, or the next restart would test nothing.
			addr := st.Proc(svc, i).HTTPAddr
			require.Eventually(t, func() bool { return servedAPI(t, addr) > 20 }, 30*time.Second, 50*time.Millisecond,
				"%s-%d takes traffic after its restart", svc, i+1)
			require.Greater(t, res.total.Load(), before, "the load ran while %s-%d restarted", svc, i+1)
		}
	}
	stopLoad()

	res.mu.Lock()
	defer res.mu.Unlock()
	t.Logf("%d requests during the rolling restart", res.total.Load())
	require.Empty(t, res.failed, "requests failed during the rolling restart")

	// Each instance logged its graceful stop: deregistered, drained, stopped.
	lines := parseLines(t, st.logs.String())
	for _, svc := range services {
		for i := range 2 {
			name := fmt.Sprintf("%s-%d", svc, i+1)
			var msgs []any
			for _, l := range lines {
				if l.proc == name && l.fields != nil {
					msgs = append(msgs, l.fields["msg"])
				}
			}
			require.Subset(t, msgs, []any{"shutting down", "stopped"}, name)
		}
	}
}
