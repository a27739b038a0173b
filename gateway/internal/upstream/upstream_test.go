package upstream

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The transport's idle connections and Consul's HTTP client close asynchronously.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// counter is a backend that counts its requests.
type counter struct {
	srv  *httptest.Server
	hits atomic.Int32
}

func newCounter(t *testing.T) *counter {
	c := &counter{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *counter) addr() string { return strings.TrimPrefix(c.srv.URL, "http://") }

func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	a := l.Addr().String()
	require.NoError(t, l.Close())
	return a
}

// front serves the proxy for service svc, answering its errors with a status.
func front(t *testing.T, p *Proxy, svc string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := p.Serve(w, r, Outbound{Service: svc, RequestID: "r1"})
		switch {
		case err == nil:
		case errors.Is(err, ErrNoInstance):
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(p.Close)
	return srv
}

func status(t *testing.T, method, url, body string) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func staticResolver(addrs map[string]string) *discovery.Static {
	return discovery.NewStatic(func(k string) string { return addrs[k] })
}

func TestRetryAndEjection(t *testing.T) {
	live := newCounter(t)
	dead := deadAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resolver := staticResolver(map[string]string{"SVC_HTTP_ADDRS": dead + "," + live.addr()})

	cases := []struct {
		name     string
		method   string
		body     string
		failures int
		// wantFailed is how many of the 10 requests may fail (502).
		wantFailed func(n int) bool
		ejected    bool
	}{
		{"GET retried on the other instance, dead one ejected", http.MethodGet, "", 3, func(n int) bool { return n == 0 }, true},
		{"DELETE retried", http.MethodDelete, "", 1000, func(n int) bool { return n == 0 }, false},
		{"bodyless POST that never connected retried", http.MethodPost, "", 1000, func(n int) bool { return n == 0 }, false},
		{"POST with a body is not replayed", http.MethodPost, `{"a":1}`, 1000, func(n int) bool { return n > 0 && n < 10 }, false},
		{"POST with a body: ejection spares the rest", http.MethodPost, `{"a":1}`, 1, func(n int) bool { return n == 1 }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBalancer(ctx, resolver, []string{"svc"}, EjectionParams{Failures: tc.failures, Duration: time.Minute})
			srv := front(t, NewProxy(ProxyParams{Balancer: b}), "svc")
			before := live.hits.Load()
			failed := 0
			for range 10 {
				if status(t, tc.method, srv.URL+"/x", tc.body) != http.StatusOK {
					failed++
				}
			}
			require.True(t, tc.wantFailed(failed), "%d requests failed", failed)
			require.EqualValues(t, 10-failed, live.hits.Load()-before)
			var deadInstance *instance
			for _, in := range *b.pools["svc"].list.Load() {
				if in.addr == dead {
					deadInstance = in
				}
			}
			require.Equal(t, tc.ejected, !deadInstance.available(time.Now().UnixNano()))
		})
	}
}

func TestEjectedInstanceReturns(t *testing.T) {
	a, bk := newCounter(t), newCounter(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := NewBalancer(ctx, staticResolver(map[string]string{"SVC_HTTP_ADDRS": a.addr() + "," + bk.addr()}), []string{"svc"},
		EjectionParams{Failures: 1, Duration: time.Minute})
	now := time.Now()
	b.now = func() time.Time { return now }
	list := *b.pools["svc"].list.Load()
	b.failed("svc", list[0])
	for range 4 {
		in, err := b.pick(ctx, "svc", nil)
		require.NoError(t, err)
		require.Same(t, list[1], in, "the ejected instance is skipped")
	}
	now = now.Add(2 * time.Minute)
	seen := map[*instance]bool{}
	for range 4 {
		in, err := b.pick(ctx, "svc", nil)
		require.NoError(t, err)
		seen[in] = true
	}
	require.Len(t, seen, 2, "after its ejection it is back in the rotation")

	// Every instance ejected: better to try one than refuse.
	b.failed("svc", list[0])
	b.failed("svc", list[1])
	_, err := b.pick(ctx, "svc", nil)
	require.NoError(t, err)
}

func TestNoInstance(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := NewBalancer(ctx, staticResolver(nil), []string{"unknown-svc"}, EjectionParams{})
	srv := front(t, NewProxy(ProxyParams{Balancer: b}), "unknown-svc")
	require.Equal(t, http.StatusServiceUnavailable, status(t, http.MethodGet, srv.URL+"/x", ""))
}

// consulBackend is a fake service instance registered in Consul: an HTTP server and a real
// gRPC health server for Consul's check.
type consulBackend struct {
	*counter
	grpc       *grpc.Server
	deregister func() error
}

func newConsulBackend(t *testing.T, consul *discovery.Registration, register func(discovery.Registration) (func() error, error)) *consulBackend {
	c := &consulBackend{counter: newCounter(t)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c.grpc = grpc.NewServer()
	h := health.NewServer()
	h.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(c.grpc, h)
	go func() { _ = c.grpc.Serve(l) }()
	t.Cleanup(c.grpc.Stop)
	_, httpPort, _ := net.SplitHostPort(c.addr())
	_, grpcPort, _ := net.SplitHostPort(l.Addr().String())
	reg := *consul
	reg.ID = reg.Service + "-" + testkit.RandomHex(3)
	reg.HTTPPort, _ = strconv.Atoi(httpPort)
	reg.GRPCPort, _ = strconv.Atoi(grpcPort)
	c.deregister, err = register(reg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.deregister() })
	return c
}

func TestConsulDiscovery(t *testing.T) {
	addr := testkit.RequireConsul(t)
	client, err := discovery.NewConsulClient(addr)
	require.NoError(t, err)
	service := "gateway-test-" + testkit.RandomHex(4)
	reg := &discovery.Registration{Service: service, Host: "127.0.0.1", CheckInterval: 500 * time.Millisecond}
	register := func(r discovery.Registration) (func() error, error) { return discovery.Register(client, r) }
	one := newConsulBackend(t, reg, register)
	two := newConsulBackend(t, reg, register)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resolver := discovery.NewConsul(ctx, client, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b := NewBalancer(ctx, resolver, []string{service}, EjectionParams{Failures: 3, Duration: time.Minute})
	srv := front(t, NewProxy(ProxyParams{Balancer: b}), service)

	// Only passing instances are used (a new registration is critical until its first
	// check): wait until Consul's checks pass for both.
	require.Eventually(t, func() bool {
		status(t, http.MethodGet, srv.URL+"/x", "")
		return one.hits.Load() > 0 && two.hits.Load() > 0
	}, 15*time.Second, 20*time.Millisecond, "both instances get traffic")

	// Stop one: its requests go to the other at once (retry), and Consul's failing check
	// takes it out of the pool.
	two.grpc.Stop()
	two.srv.Close()
	require.Eventually(t, func() bool {
		require.Equal(t, http.StatusOK, status(t, http.MethodGet, srv.URL+"/x", ""), "no request fails while it leaves")
		return len(*b.pools[service].list.Load()) == 1
	}, 15*time.Second, 20*time.Millisecond, "the stopped instance leaves the rotation")
	before := one.hits.Load()
	for range 10 {
		require.Equal(t, http.StatusOK, status(t, http.MethodGet, srv.URL+"/x", ""))
	}
	require.EqualValues(t, 10, one.hits.Load()-before)
}
