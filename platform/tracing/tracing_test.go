package tracing

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

func TestSampling(t *testing.T) {
	remote := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3},
		SpanID:     trace.SpanID{4, 5, 6},
		TraceFlags: trace.FlagsSampled,
		Remote:     true,
	})
	unsampledRemote := remote.WithTraceFlags(0)
	cases := []struct {
		name       string
		exporter   bool
		ratio      float64
		parent     *trace.SpanContext
		wantRecord bool
	}{
		{"off: nothing recorded", false, 1, nil, false},
		{"off: a sampled caller is not recorded either", false, 1, &remote, false},
		{"on: new traces recorded", true, 1, nil, true},
		{"on, ratio 0: no new trace recorded", true, 0, nil, false},
		{"on: the caller's sampled decision kept", true, 0, &remote, true},
		{"on: the caller's unsampled decision kept", true, 1, &unsampledRemote, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			p := Params{Service: "teams-svc", Instance: "teams-1", SampleRatio: tc.ratio}
			if tc.exporter {
				p.Exporter = exp
			}
			tp, err := New(context.Background(), p)
			require.NoError(t, err)
			require.Equal(t, tc.exporter, tp.Exporting())
			ctx := context.Background()
			if tc.parent != nil {
				ctx = trace.ContextWithRemoteSpanContext(ctx, *tc.parent)
			}
			_, span := tp.Tracer("test").Start(ctx, "op")
			sc := span.SpanContext()
			span.End()
			require.True(t, sc.IsValid(), "IDs exist even when nothing is recorded, for the logs")
			if tc.parent != nil {
				require.Equal(t, tc.parent.TraceID(), sc.TraceID())
			}
			require.Equal(t, tc.wantRecord, sc.IsSampled())
			require.NoError(t, tp.ForceFlush(context.Background()))
			defer tp.Shutdown(context.Background())
			if !tc.wantRecord {
				require.Empty(t, exp.GetSpans())
				return
			}
			spans := exp.GetSpans()
			require.Len(t, spans, 1)
			attrs := map[string]string{}
			for _, kv := range spans[0].Resource.Attributes() {
				attrs[string(kv.Key)] = kv.Value.Emit()
			}
			require.Equal(t, "teams-svc", attrs["service.name"])
			require.Equal(t, "teams-1", attrs["service.instance.id"])
		})
	}
}

func TestPropagatorIsW3C(t *testing.T) {
	tp, err := New(context.Background(), Params{Service: "s", SampleRatio: 1})
	require.NoError(t, err)
	ctx, span := tp.Tracer("test").Start(context.Background(), "op")
	defer span.End()
	h := http.Header{}
	tp.Propagator.Inject(ctx, propagation.HeaderCarrier(h))
	want := "00-" + span.SpanContext().TraceID().String() + "-" + span.SpanContext().SpanID().String() + "-00"
	require.Equal(t, want, h.Get("traceparent"))
}

func TestBadSettings(t *testing.T) {
	cases := []struct {
		name     string
		endpoint string
		protocol string
	}{
		{"endpoint without scheme", "collector:4318", ProtocolHTTP},
		{"endpoint not a URL", "http://%zz", ProtocolHTTP},
		{"unknown protocol", "http://collector:4318", "http/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(context.Background(), Params{Service: "s", Endpoint: tc.endpoint, Protocol: tc.protocol})
			require.Error(t, err)
		})
	}
}

// TestOTLPExport sends spans to a stand-in collector over each protocol.
func TestOTLPExport(t *testing.T) {
	t.Run("http/protobuf to the standard path", func(t *testing.T) {
		got := make(chan *collectorpb.ExportTraceServiceRequest, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			req := &collectorpb.ExportTraceServiceRequest{}
			if proto.Unmarshal(body, req) == nil {
				got <- req
			}
			w.Header().Set("Content-Type", "application/x-protobuf")
			_, _ = w.Write(nil)
		}))
		defer srv.Close()
		exportOne(t, Params{Service: "users-svc", Endpoint: srv.URL, Protocol: ProtocolHTTP, SampleRatio: 1}, got)
	})
	t.Run("grpc", func(t *testing.T) {
		c := &collector{got: make(chan *collectorpb.ExportTraceServiceRequest, 1)}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		s := grpc.NewServer()
		collectorpb.RegisterTraceServiceServer(s, c)
		go func() { _ = s.Serve(l) }()
		defer s.Stop()
		exportOne(t, Params{Service: "users-svc", Endpoint: "http://" + l.Addr().String(), Protocol: ProtocolGRPC, SampleRatio: 1}, c.got)
	})
}

func exportOne(t *testing.T, p Params, got chan *collectorpb.ExportTraceServiceRequest) {
	t.Helper()
	tp, err := New(context.Background(), p)
	require.NoError(t, err)
	require.True(t, tp.Exporting())
	_, span := tp.Tracer("test").Start(context.Background(), "exported-op")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, tp.Shutdown(ctx))
	select {
	case req := <-got:
		require.Equal(t, "exported-op", req.GetResourceSpans()[0].GetScopeSpans()[0].GetSpans()[0].GetName())
	case <-ctx.Done():
		t.Fatal("the collector received no spans")
	}
}

type collector struct {
	collectorpb.UnimplementedTraceServiceServer
	once sync.Once
	got  chan *collectorpb.ExportTraceServiceRequest
}

func (c *collector) Export(_ context.Context, req *collectorpb.ExportTraceServiceRequest) (*collectorpb.ExportTraceServiceResponse, error) {
	c.once.Do(func() { c.got <- req })
	return &collectorpb.ExportTraceServiceResponse{}, nil
}
