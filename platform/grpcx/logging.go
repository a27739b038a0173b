package grpcx

import (
	"context"
	"log/slog"
	"path"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// logUnary writes one "finished call" line per call, at the level go-grpc-middleware's
// logging gives the status code (OK: info, client mistakes: info or warn, server failures:
// error), with the same field names. Unlike that interceptor it builds the line only when
// the level is enabled: at the production level (warn) a successful call allocates
// nothing here. Consul's health checks are not logged: they would bury the real calls.
func logUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		if info.FullMethod == healthpb.Health_Check_FullMethodName {
			return next(ctx, req)
		}
		start := time.Now()
		resp, err := next(ctx, req)
		code := status.Code(err)
		level := slog.Level(logging.DefaultServerCodeToLevel(code))
		if !log.Enabled(ctx, level) {
			return resp, err
		}
		service, method := path.Split(info.FullMethod)
		attrs := []slog.Attr{
			slog.String("protocol", "grpc"),
			slog.String("grpc.component", "server"),
			slog.String("grpc.service", service[1:len(service)-1]),
			slog.String("grpc.method", method),
			slog.String("grpc.method_type", "unary"),
			slog.String("grpc.start_time", start.Format(time.RFC3339)),
			slog.String("grpc.code", code.String()),
			slog.String("grpc.time_ms", formatMillis(time.Since(start))),
		}
		if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
			attrs = append(attrs, slog.String("peer.address", p.Addr.String()))
		}
		if d, ok := ctx.Deadline(); ok {
			attrs = append(attrs, slog.String("grpc.request.deadline", d.Format(time.RFC3339)))
		}
		if err != nil {
			attrs = append(attrs, slog.String("grpc.error", err.Error()))
		}
		log.LogAttrs(ctx, level, "finished call", attrs...)
		return resp, err
	}
}

// formatMillis renders a duration as milliseconds with three decimals, as the
// go-grpc-middleware logging interceptor does.
func formatMillis(d time.Duration) string {
	return slog.Float64Value(float64(d.Microseconds()) / 1000).String()
}
