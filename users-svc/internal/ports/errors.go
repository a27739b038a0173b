package ports

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"google.golang.org/grpc/codes"

	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/users-svc/internal/domain"
)

// errorMapping is the one place where domain errors become API.md statuses and codes, and
// gRPC codes.
var errorMapping = []struct {
	err    error
	status int
	code   string
	grpc   codes.Code
}{
	{domain.ErrUsernameRequired, http.StatusBadRequest, "username_required", codes.InvalidArgument},
	{domain.ErrUsernameInvalid, http.StatusBadRequest, "invalid_username", codes.InvalidArgument},
	{domain.ErrEmailRequired, http.StatusBadRequest, "email_required", codes.InvalidArgument},
	{domain.ErrEmailInvalid, http.StatusBadRequest, "invalid_email", codes.InvalidArgument},
	{domain.ErrPasswordRequired, http.StatusBadRequest, "password_required", codes.InvalidArgument},
	{domain.ErrPasswordTooShort, http.StatusBadRequest, "password_too_short", codes.InvalidArgument},
	{domain.ErrPasswordTooLong, http.StatusBadRequest, "password_too_long", codes.InvalidArgument},
	{domain.ErrLoginRequired, http.StatusBadRequest, "login_required", codes.InvalidArgument},
	{domain.ErrLoginTooLong, http.StatusBadRequest, "login_too_long", codes.InvalidArgument},
	{domain.ErrRefreshTokenRequired, http.StatusBadRequest, "refresh_token_required", codes.InvalidArgument},
	{domain.ErrRefreshTokenMalformed, http.StatusBadRequest, "invalid_refresh_token", codes.InvalidArgument},
	{domain.ErrTooManyIDs, http.StatusBadRequest, "too_many_ids", codes.InvalidArgument},
	{domain.ErrInvalidCredentials, http.StatusUnauthorized, "invalid_credentials", codes.Unauthenticated},
	{domain.ErrRefreshTokenInvalid, http.StatusUnauthorized, "invalid_refresh_token", codes.Unauthenticated},
	{domain.ErrRefreshTokenReused, http.StatusUnauthorized, "refresh_token_reused", codes.Unauthenticated},
	{domain.ErrUserNotFound, http.StatusNotFound, "user_not_found", codes.NotFound},
	// A malformed id cannot name a user: over HTTP it is the same 404 as an unknown one;
	// gRPC callers are services, for which it is a bug worth telling apart.
	{domain.ErrInvalidID, http.StatusNotFound, "user_not_found", codes.InvalidArgument},
	{domain.ErrEmailTaken, http.StatusConflict, "email_taken", codes.AlreadyExists},
	{domain.ErrUsernameTaken, http.StatusConflict, "username_taken", codes.AlreadyExists},
	{domain.ErrRateLimited, http.StatusTooManyRequests, httpx.CodeRateLimited, codes.ResourceExhausted},
	{domain.ErrNoSigningKey, http.StatusServiceUnavailable, httpx.CodeUnavailable, codes.Unavailable},
}

// abort renders err as API.md's error body. Errors without a mapping are internal: Abort
// logs them and answers a 500 that reveals nothing.
func abort(c *gin.Context, err error) {
	var limited *domain.RateLimitedError
	if errors.As(err, &limited) {
		c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(limited.RetryAfter.Seconds())))))
	}
	for _, m := range errorMapping {
		if errors.Is(err, m.err) {
			httpx.Abort(c, httpx.NewError(m.status, m.code, m.err.Error()))
			return
		}
	}
	httpx.Abort(c, err)
}

// grpcCode returns the gRPC code and message for err; ok is false for internal errors.
func grpcCode(err error) (code codes.Code, msg string, ok bool) {
	for _, m := range errorMapping {
		if errors.Is(err, m.err) {
			return m.grpc, m.err.Error(), true
		}
	}
	return codes.Internal, "internal error", false
}
