package service

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/grpcx"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/logging"
	"github.com/convene/convene/platform/testkit"
	"github.com/convene/convene/platform/tracing"
)

// TestTraceAcrossProcesses sends one request through the gateway to a service built on
// httpx.NewEngineWith, which calls another service over grpcx: every hop must be a span of
// one trace that starts at the gateway, each the child of the hop before it, and the
// service's log lines must carry that trace.
func TestTraceAcrossProcesses(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	provider := func(service string) *tracing.Provider {
		tp, err := tracing.New(context.Background(), tracing.Params{
			Service: service, Instance: service + "-1", Exporter: exporter, SampleRatio: 1,
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		return tp
	}
	gatewayTP, teamsTP, usersTP := provider("gateway"), provider("teams-svc"), provider("users-svc")
	signer := authn.NewSigner(testkit.Secret)
	var logs syncBuffer
	log, _ := logging.New(&logs, "teams-svc", "teams-svc-1", "json", "info")

	// users-svc: a gRPC server on grpcx.
	users := grpcx.NewServerWith(grpcx.ServerParams{Log: log, Signer: signer, Tracing: usersTP})
	testgrpc.RegisterTestServiceServer(users, testgrpc.UnimplementedTestServiceServer{})
	usersLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = users.Serve(usersLn) }()
	t.Cleanup(users.Stop)

	// teams-svc: an HTTP service on httpx that calls users-svc through grpcx.Dial.
	conn, err := grpcx.Dial(grpcx.ClientParams{
		Service: "users-svc",
		Resolver: discovery.NewStatic(func(k string) string {
			return map[string]string{"USERS_SVC_GRPC_ADDRS": usersLn.Addr().String()}[k]
		}),
		Signer:  signer,
		Caller:  "teams-svc",
		Tracing: teamsTP,
	})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	usersClient := testgrpc.NewTestServiceClient(conn)
	engine := httpx.NewEngineWith(httpx.EngineParams{Log: log, Health: httpx.NewHealth(nil), MaxBody: 1 << 20, Tracing: teamsTP})
	engine.GET("/api/v1/teams", httpx.RequireIdentity(signer), func(c *gin.Context) {
		// The unimplemented service answers Unimplemented: the call still crosses the wire.
		_, callErr := usersClient.EmptyCall(c.Request.Context(), &testgrpc.Empty{})
		log.InfoContext(c.Request.Context(), "listed teams", "users_call", callErr != nil)
		c.JSON(http.StatusOK, gin.H{"items": []any{}, "next_cursor": ""})
	})
	teams := httptest.NewServer(engine)
	t.Cleanup(teams.Close)

	s := newStack(t, stackOptions{
		addrs:   map[string]string{"teams-svc": strings.TrimPrefix(teams.URL, "http://")},
		tracing: gatewayTP,
	})
	// A client's own traceparent must not be continued: traces start at the gateway.
	clientTrace := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	resp := s.do(http.MethodGet, "/api/v1/teams", nil, append(bearer(s.token(nil)), "Traceparent", clientTrace)...)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	for _, tp := range []*tracing.Provider{gatewayTP, teamsTP, usersTP} {
		require.NoError(t, tp.ForceFlush(context.Background()))
	}
	spans := exporter.GetSpans()
	hop := func(service string, kind trace.SpanKind) tracetest.SpanStub {
		t.Helper()
		var found []tracetest.SpanStub
		for _, sp := range spans {
			if serviceOf(sp) == service && sp.SpanKind == kind {
				found = append(found, sp)
			}
		}
		require.Len(t, found, 1, "one %s span of %s among %s", kind, service, names(spans))
		return found[0]
	}
	gatewayServer := hop("gateway", trace.SpanKindServer)
	gatewayProxy := hop("gateway", trace.SpanKindClient)
	teamsServer := hop("teams-svc", trace.SpanKindServer)
	teamsCall := hop("teams-svc", trace.SpanKindClient)
	usersServer := hop("users-svc", trace.SpanKindServer)
	require.Len(t, spans, 5, names(spans))

	traceID := gatewayServer.SpanContext.TraceID()
	require.NotEqual(t, "0af7651916cd43dd8448eb211c80319c", traceID.String(), "the client's trace is not continued")
	require.False(t, gatewayServer.Parent.IsValid(), "the gateway's server span is the root")
	chain := []struct {
		name         string
		span, parent tracetest.SpanStub
	}{
		{"gateway proxy under gateway request", gatewayProxy, gatewayServer},
		{"teams-svc request under gateway proxy", teamsServer, gatewayProxy},
		{"gRPC call under teams-svc request", teamsCall, teamsServer},
		{"users-svc gRPC server under the call", usersServer, teamsCall},
	}
	for _, c := range chain {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, traceID, c.span.SpanContext.TraceID())
			require.Equal(t, c.parent.SpanContext.SpanID(), c.span.Parent.SpanID())
		})
	}
	require.Equal(t, "GET /api/v1/teams", gatewayServer.Name)
	require.Equal(t, "GET /api/v1/teams", teamsServer.Name)
	require.Equal(t, "grpc.testing.TestService/EmptyCall", usersServer.Name)

	// The service's log lines of that request carry the trace.
	var handlerLine map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m))
		require.Equal(t, traceID.String(), m["trace_id"], "every line of the request carries its trace: %s", line)
		require.NotEmpty(t, m["span_id"])
		if m["msg"] == "listed teams" {
			handlerLine = m
		}
	}
	require.NotNil(t, handlerLine)
	require.Equal(t, teamsServer.SpanContext.SpanID().String(), handlerLine["span_id"])
}

func serviceOf(s tracetest.SpanStub) string {
	for _, kv := range s.Resource.Attributes() {
		if kv.Key == "service.name" {
			return kv.Value.AsString()
		}
	}
	return ""
}

func names(spans tracetest.SpanStubs) string {
	var out []string
	for _, s := range spans {
		out = append(out, serviceOf(s)+":"+s.SpanKind.String()+":"+s.Name)
	}
	return strings.Join(out, ", ")
}

// syncBuffer is a log destination shared by the servers' goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
