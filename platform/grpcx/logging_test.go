package grpcx

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	platformlog "github.com/convene/convene/platform/logging"
)

func TestLogUnaryLevels(t *testing.T) {
	cases := []struct {
		name   string
		level  string
		method string
		err    error
		// want is the grpc.code of the one line expected, "" for none.
		want string
	}{
		{"success at info: logged", "info", "/convene.v1.Svc/Get", nil, "OK"},
		{"success at warn: not logged", "warn", "/convene.v1.Svc/Get", nil, ""},
		{"not found at warn: not logged (a client's mistake is info)", "warn", "/convene.v1.Svc/Get", status.Error(codes.NotFound, "no"), ""},
		{"internal at warn: logged", "warn", "/convene.v1.Svc/Get", status.Error(codes.Internal, "boom"), "Internal"},
		{"health check at info: never logged", "info", healthpb.Health_Check_FullMethodName, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf syncBuffer
			log, _ := platformlog.New(&buf, "probe-svc", "p1", "json", tc.level)
			_, err := logUnary(log)(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: tc.method},
				func(context.Context, any) (any, error) { return nil, tc.err })
			require.Equal(t, tc.err, err, "the handler's answer passes through")
			lines := buf.Lines()
			if tc.want == "" {
				require.Empty(t, lines)
				return
			}
			require.Len(t, lines, 1)
			require.Equal(t, "finished call", lines[0]["msg"])
			require.Equal(t, tc.want, lines[0]["grpc.code"])
			require.Equal(t, "convene.v1.Svc", lines[0]["grpc.service"])
			require.Equal(t, "Get", lines[0]["grpc.method"])
			require.NotEmpty(t, lines[0]["grpc.time_ms"])
		})
	}
}
