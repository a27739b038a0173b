package upstream

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// TestDirectRequestsReuseConnections checks that bodyless GETs and HEADs, which the proxy
// sends itself, share one keep-alive connection when sent one after another, and that
// the answer arrives whole.
func TestDirectRequestsReuseConnections(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var conns atomic.Int32
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Method", r.Method)
		_, _ = io.WriteString(w, strings.Repeat("x", 10000))
	}))
	backend.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	backend.Start()
	t.Cleanup(backend.Close)
	p := NewProxy(ProxyParams{Balancer: NewBalancer(ctx, staticResolver(map[string]string{"SVC_HTTP_ADDRS": strings.TrimPrefix(backend.URL, "http://")}), []string{"svc"}, EjectionParams{})})
	gw := front(t, p, "svc")
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodGet, http.MethodGet} {
		req, err := http.NewRequest(method, gw.URL+"/x", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, method, resp.Header.Get("X-Method"))
		if method == http.MethodGet {
			require.Len(t, body, 10000)
		}
	}
	require.Equal(t, int32(1), conns.Load())
}

// TestDirectRequestRetriedWhenIdleConnectionWasClosed: a service that closes a keep-alive
// connection without saying so (its idle timeout) must not fail the next request.
func TestDirectRequestRetriedWhenIdleConnectionWasClosed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	var accepted atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			// One answer per connection, announced as keep-alive, then a silent close.
			req, err := http.ReadRequest(bufio.NewReader(conn))
			if err == nil {
				_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				_ = req.Body.Close()
			}
			conn.Close()
		}
	}()
	p := NewProxy(ProxyParams{Balancer: NewBalancer(ctx, staticResolver(map[string]string{"STALE_HTTP_ADDRS": ln.Addr().String()}), []string{"stale"}, EjectionParams{})})
	gw := front(t, p, "stale")
	for range 3 {
		require.Equal(t, http.StatusOK, status(t, http.MethodGet, gw.URL+"/x", ""))
	}
	require.Equal(t, int32(3), accepted.Load())
	require.Zero(t, testutil.ToFloat64(upstreamErrors.WithLabelValues("stale", "broken")),
		"a closed idle connection is not the instance's failure")
}
