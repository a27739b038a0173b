// Package ports exposes the use cases: the public HTTP API and realtime socket (reached
// through the gateway) and the messages.v1 gRPC API for chats-svc. Domain errors become
// HTTP statuses with API.md codes, error frames, or gRPC statuses here, and only here.
package ports

import (
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/messages-svc/internal/domain"
	"github.com/convene/convene/platform/httpx"
)

// httpError maps a use-case error to API.md's status and code; anything unexpected stays an
// internal error that httpx.Abort logs and answers with a bare 500.
func httpError(err error) error {
	var v *domain.ValidationError
	switch {
	case errors.As(err, &v):
		return httpx.BadRequest(v.Code, v.Message)
	case errors.Is(err, domain.ErrNotFound):
		return httpx.NotFound("no such chat or message")
	case errors.Is(err, domain.ErrForbidden):
		return httpx.Forbidden("only the sender may change a message")
	case errors.Is(err, domain.ErrMessageDeleted):
		return httpx.Conflict("message_deleted", "the message was deleted")
	case errors.Is(err, domain.ErrUnavailable):
		return httpx.NewError(http.StatusServiceUnavailable, httpx.CodeUnavailable, "a dependency is unavailable, retry later")
	default:
		return err
	}
}

// grpcError maps a use-case error to a gRPC status.
func grpcError(err error) error {
	var v *domain.ValidationError
	switch {
	case errors.As(err, &v):
		return status.Error(codes.InvalidArgument, v.Error())
	case errors.Is(err, domain.ErrNotFound):
		return status.Error(codes.NotFound, "not found")
	case errors.Is(err, domain.ErrUnavailable):
		return status.Error(codes.Unavailable, "dependency unavailable")
	default:
		return status.Error(codes.Internal, "internal error")
	}
}
