package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestOperationsSettings(t *testing.T) {
	secret := "0123456789abcdef0123"
	cases := []struct {
		name    string
		env     map[string]string
		want    Tracing
		drain   time.Duration
		wantErr string
	}{
		{"defaults: export off, all sampled when on, 1s drain", nil,
			Tracing{OTLPProtocol: "http/protobuf", SampleRatio: 1}, time.Second, ""},
		{"endpoint and protocol", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_TRACES_SAMPLER_ARG": "0.25", "DRAIN_DELAY": "5s"},
			Tracing{OTLPEndpoint: "http://jaeger:4317", OTLPProtocol: "grpc", SampleRatio: 0.25}, 5 * time.Second, ""},
		{"the traces endpoint wins over the general one", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/v1/traces"},
			Tracing{OTLPEndpoint: "http://b:4318/v1/traces", OTLPProtocol: "http/protobuf", SampleRatio: 1}, time.Second, ""},
		{"unknown protocol", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, Tracing{}, 0, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"ratio above 1", map[string]string{"OTEL_TRACES_SAMPLER_ARG": "1.5"}, Tracing{}, 0, "OTEL_TRACES_SAMPLER_ARG"},
		{"ratio not a number", map[string]string{"OTEL_TRACES_SAMPLER_ARG": "half"}, Tracing{}, 0, "not a number"},
		{"drain delay not a duration", map[string]string{"DRAIN_DELAY": "5"}, Tracing{}, 0, "DRAIN_DELAY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"INTERNAL_AUTH_SECRET": secret}
			for k, v := range tc.env {
				env[k] = v
			}
			e := FromMap(env)
			b := LoadBase(e, "teams-svc", "127.0.0.1:8102", "127.0.0.1:9102")
			if tc.wantErr != "" {
				require.ErrorContains(t, e.Err(), tc.wantErr)
				return
			}
			require.NoError(t, e.Err())
			require.Equal(t, tc.want, b.Tracing)
			require.Equal(t, tc.drain, b.DrainDelay)
		})
	}
}
