package ports

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/teams-svc/internal/domain"
)

func TestHTTPError(t *testing.T) {
	_, validation := domain.NewPage(0, "")
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{validation, 400, "invalid_limit"},
		{domain.ErrNotFound, 404, "not_found"},
		{domain.ErrForbidden, 403, "forbidden"},
		{domain.ErrNotMember, 404, "not_a_member"},
		{domain.ErrAlreadyMember, 409, "already_member"},
		{domain.ErrRequestPending, 409, "request_pending"},
		{domain.ErrRequestNotPending, 409, "request_not_pending"},
		{domain.ErrLastAdmin, 409, "last_admin"},
		{domain.ErrInvalidCode, 404, "invalid_code"},
		{domain.ErrUserNotFound, 404, "user_not_found"},
		{domain.ErrRateLimited, 429, "rate_limited"},
		{fmt.Errorf("%w: users-svc down", domain.ErrUnavailable), 503, "unavailable"},
	}
	for _, tc := range cases {
		var e *httpx.Error
		require.True(t, errors.As(httpError(tc.err), &e), "%v", tc.err)
		require.Equal(t, tc.status, e.Status, "%v", tc.err)
		require.Equal(t, tc.code, e.Code, "%v", tc.err)
	}
	unknown := errors.New("connection reset")
	require.Equal(t, unknown, httpError(unknown), "anything else stays an internal error")
}

func TestGRPCError(t *testing.T) {
	for err, want := range map[error]codes.Code{
		domain.ErrNotFound:                 codes.NotFound,
		domain.ErrForbidden:                codes.PermissionDenied,
		domain.ErrUnavailable:              codes.Unavailable,
		context.DeadlineExceeded:           codes.Internal,
		&domain.ValidationError{Code: "x"}: codes.InvalidArgument,
	} {
		require.Equal(t, want, status.Code(grpcError(err)), "%v", err)
	}
}
