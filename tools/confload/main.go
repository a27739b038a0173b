// Command confload puts a conference under load through the gateway, like real clients:
// it registers N users, makes them a team, schedules a conference (waiting room off) and
// joins them one after the other, each publishing one synthetic VP8 track at -bitrate and
// receiving everyone else's. It reports join → first video RTP per participant, what the
// participants received, and — from conference-svc's /metrics — the packets the SFU
// forwarded and the CPU the conference-svc process used.
//
//	go run ./tools/confload -stack -participants 10 -bitrate 1000000 -duration 20s
//	go run ./tools/confload -gateway http://127.0.0.1:8080 -metrics http://127.0.0.1:8105/metrics
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/convene/convene/tools/devstack/stack"
)

type options struct {
	gateway      string
	metrics      string
	participants int
	bitrate      int
	duration     time.Duration
	ownStack     bool
}

func main() {
	var o options
	flag.StringVar(&o.gateway, "gateway", "http://127.0.0.1:8080", "gateway base URL")
	flag.StringVar(&o.metrics, "metrics", "", "conference-svc /metrics URL (e.g. http://127.0.0.1:8105/metrics)")
	flag.IntVar(&o.participants, "participants", 10, "participants in the room")
	flag.IntVar(&o.bitrate, "bitrate", 1_000_000, "video bitrate each participant publishes, bit/s")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long to measure once everyone receives everyone")
	flag.BoolVar(&o.ownStack, "stack", false, "build and start a private stack (gateway, users, teams, conference; Postgres/Redis from TEST_POSTGRES_URL/TEST_REDIS_URL or the local defaults)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "confload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.participants < 2 {
		return errors.New("-participants must be at least 2")
	}
	if o.ownStack {
		dataDir, err := os.MkdirTemp("", "confload-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dataDir)
		st, err := startStack(ctx, dataDir)
		if err != nil {
			return err
		}
		defer st.Stop()
		o.gateway = st.GatewayURL
		o.metrics = "http://" + st.Proc("conference-svc", 0).HTTPAddr + "/metrics"
	}
	api, err := newAPI()
	if err != nil {
		return err
	}
	c := &apiClient{base: o.gateway, http: &http.Client{Timeout: 15 * time.Second}}
	users := make([]account, o.participants)
	for i := range users {
		if users[i], err = c.newAccount(ctx); err != nil {
			return err
		}
	}
	conf, err := c.setUpConference(ctx, users)
	if err != nil {
		return err
	}
	fmt.Printf("conference %s with %d participants, %d bit/s video each\n", conf, o.participants, o.bitrate)

	frameBytes := o.bitrate / 8 / 30
	parts := make([]*participant, 0, len(users))
	defer func() {
		for _, p := range parts {
			p.close()
		}
	}()
	var joins []time.Duration
	for i, u := range users {
		p, err := join(api, o.gateway, conf, u.token, frameBytes)
		if err != nil {
			return fmt.Errorf("participant %d: %w", i, err)
		}
		parts = append(parts, p)
		if i == 0 {
			continue
		}
		// Everyone after the first has someone's video to wait for.
		d, err := waitFor(ctx, 10*time.Second, func() (time.Duration, bool) { d := p.joinToFirstVideo(); return d, d > 0 })
		if err != nil {
			return fmt.Errorf("participant %d received no video: %w", i, err)
		}
		joins = append(joins, d)
	}
	want := uint64((o.participants - 1) * 30)
	if _, err := waitFor(ctx, 60*time.Second, func() (time.Duration, bool) {
		for _, p := range parts {
			if p.packets.Load() < want {
				return 0, false
			}
		}
		return 0, true
	}); err != nil {
		return errors.New("not every participant receives every other one")
	}

	before, err := scrape(ctx, o.metrics)
	if err != nil {
		return err
	}
	var rxPkts, rxBytes uint64
	for _, p := range parts {
		rxPkts += p.packets.Load()
		rxBytes += p.bytes.Load()
	}
	start := time.Now()
	select {
	case <-time.After(o.duration):
	case <-ctx.Done():
		return ctx.Err()
	}
	wall := time.Since(start).Seconds()
	after, err := scrape(ctx, o.metrics)
	if err != nil {
		return err
	}
	var rxPkts2, rxBytes2 uint64
	for _, p := range parts {
		rxPkts2 += p.packets.Load()
		rxBytes2 += p.bytes.Load()
	}

	slices.Sort(joins)
	fmt.Printf("join → first video RTP: median %v, p95 %v, max %v (%d joins)\n",
		joins[len(joins)/2].Round(time.Millisecond), joins[len(joins)*95/100].Round(time.Millisecond),
		joins[len(joins)-1].Round(time.Millisecond), len(joins))
	fmt.Printf("received by the participants: %.0f packets/s, %.1f Mbit/s\n",
		float64(rxPkts2-rxPkts)/wall, float64(rxBytes2-rxBytes)*8/wall/1e6)
	if o.metrics != "" {
		fmt.Printf("SFU forwarded: %.0f packets/s, %.1f Mbit/s payload; conference-svc CPU: %.2f cores (over %.0f s)\n",
			(after["sfu_rtp_packets_forwarded_total"]-before["sfu_rtp_packets_forwarded_total"])/wall,
			(after["sfu_rtp_bytes_forwarded_total"]-before["sfu_rtp_bytes_forwarded_total"])*8/wall/1e6,
			(after["process_cpu_seconds_total"]-before["process_cpu_seconds_total"])/wall, wall)
	}
	return nil
}

// waitFor polls check until it reports done or the timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, check func() (time.Duration, bool)) (time.Duration, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if d, ok := check(); ok {
			return d, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("timed out after %v", timeout)
}

// startStack builds and starts a private stack on free ports with its own Consul agent.
func startStack(ctx context.Context, dataDir string) (*stack.Stack, error) {
	root, err := stack.FindRoot()
	if err != nil {
		return nil, err
	}
	services := []string{"users-svc", "teams-svc", "conference-svc"}
	bin := filepath.Join(root, ".cache", "bin", "confload")
	fmt.Println("building gateway and", strings.Join(services, ", "))
	if err := stack.Build(ctx, root, bin, services, os.Stderr); err != nil {
		return nil, err
	}
	return stack.Start(ctx, stack.Options{
		Root: root, BinDir: bin, Services: services, Mode: stack.Full,
		DataDir:          dataDir,
		PostgresAdminURL: envOr("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		RedisURL:         envOr("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
		ServiceEnv: map[string]map[string]string{
			"gateway":   {"AUTH_RATE_LIMIT": "100000", "AUTH_RATE_BURST": "100000"},
			"teams-svc": {"TEAMS_WRITES_PER_MINUTE": "100000"},
		},
		ReadyTimeout: 90 * time.Second,
	})
}

// scrape reads the counters confload reports from a Prometheus text page.
func scrape(ctx context.Context, url string) (map[string]float64, error) {
	out := map[string]float64{}
	if url == "" {
		return out, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		switch name {
		case "sfu_rtp_packets_forwarded_total", "sfu_rtp_bytes_forwarded_total", "process_cpu_seconds_total":
			if v, err := strconv.ParseFloat(value, 64); err == nil {
				out[name] = v
			}
		}
	}
	return out, sc.Err()
}

// apiClient calls the public API through the gateway.
type apiClient struct {
	base string
	http *http.Client
}

type account struct {
	id, email, token string
}

func (c *apiClient) call(ctx context.Context, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// newAccount registers and logs in a fresh user.
func (c *apiClient) newAccount(ctx context.Context) (account, error) {
	name := "load_" + randomHex(5)
	a := account{email: name + "@example.test"}
	var reg struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/auth/register", "", map[string]string{
		"username": name, "email": a.email, "password": "load-test-password",
	}, &reg); err != nil {
		return a, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/auth/login", "", map[string]string{
		"login": name, "password": "load-test-password",
	}, &tok); err != nil {
		return a, err
	}
	a.id, a.token = reg.User.ID, tok.AccessToken
	return a, nil
}

// setUpConference makes the first user a team admin, adds the others and schedules a
// conference without a waiting room.
func (c *apiClient) setUpConference(ctx context.Context, users []account) (string, error) {
	var team struct {
		Team struct {
			ID string `json:"id"`
		} `json:"team"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/teams", users[0].token, map[string]string{"name": "confload"}, &team); err != nil {
		return "", err
	}
	for _, u := range users[1:] {
		if err := c.call(ctx, http.MethodPost, "/api/v1/teams/"+team.Team.ID+"/members", users[0].token,
			map[string]string{"email": u.email}, nil); err != nil {
			return "", err
		}
	}
	var conf struct {
		Conference struct {
			ID string `json:"id"`
		} `json:"conference"`
	}
	err := c.call(ctx, http.MethodPost, "/api/v1/teams/"+team.Team.ID+"/conferences", users[0].token, map[string]any{
		"title": "confload", "starts_at": time.Now().UTC().Format(time.RFC3339), "waiting_room": false,
	}, &conf)
	return conf.Conference.ID, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
