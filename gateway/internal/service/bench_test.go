package service

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/convene/convene/gateway/internal/routing"
	"github.com/convene/convene/platform/logging"
	"github.com/convene/convene/platform/tracing"
)

// BenchmarkProxiedRequest measures one authenticated GET through the whole gateway handler
// (middleware, route, cached token, identity, JSON access log, metrics, proxy) to a
// minimal backend over loopback. Allocations per request are the figure to watch: unlike
// the time they do not depend on the machine's load. They are counted process-wide, so
// they include the backend's and the benchmark's own; "floor" is the same GET sent
// straight to the backend with a plain http.Transport, which no Go proxy can avoid, and
// the difference is what the gateway adds.
func BenchmarkProxiedRequest(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"user":{"id":"u1","username":"ann"}}`)
	}))
	defer backend.Close()
	log, _ := logging.New(io.Discard, "gateway", "gateway-bench", "json", "info")
	// Tracing as deployed by default: a provider that samples nothing and exports nothing.
	tp, err := tracing.New(context.Background(), tracing.Params{Service: "gateway"})
	if err != nil {
		b.Fatal(err)
	}
	s := newStack(b, stackOptions{log: log, tracing: tp, addrs: map[string]string{routing.TeamsSvc: strings.TrimPrefix(backend.URL, "http://")}})
	auth := "Bearer " + s.token(nil)
	w := &discardResponse{h: http.Header{}}

	b.Run("gateway", func(b *testing.B) {
		serve := func() {
			r := httptest.NewRequest(http.MethodGet, "/api/v1/teams", nil)
			r.RemoteAddr = "127.0.0.1:50000"
			r.Header.Set("Authorization", auth)
			clear(w.h)
			w.status = 0
			s.handler.ServeHTTP(w, r)
			if w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
		}
		serve() // the first request verifies the token and fetches the JWKS
		b.ReportAllocs()
		for b.Loop() {
			serve()
		}
	})
	b.Run("floor", func(b *testing.B) {
		tr := &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}
		defer tr.CloseIdleConnections()
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest(http.MethodGet, backend.URL+"/api/v1/teams", nil)
			r.RequestURI = ""
			r.Header.Set("Authorization", auth)
			resp, err := tr.RoundTrip(r)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// discardResponse is a ResponseWriter that keeps only the status, so that the benchmark
// counts the gateway's allocations rather than a recorder's.
type discardResponse struct {
	h      http.Header
	status int
}

func (w *discardResponse) Header() http.Header { return w.h }
func (w *discardResponse) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}
func (w *discardResponse) WriteHeader(s int) { w.status = s }
