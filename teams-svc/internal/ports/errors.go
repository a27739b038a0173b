// Package ports serves teams-svc: the public HTTP API of API.md (gin, behind the gateway)
// and the teams.v1 gRPC API for other services. Handlers parse and validate, call the
// app layer, and translate domain errors once, here.
package ports

import (
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/teams-svc/internal/domain"
)

// API error codes specific to teams-svc (the shared ones are in httpx).
const (
	codeNotAMember        = "not_a_member"
	codeAlreadyMember     = "already_member"
	codeRequestPending    = "request_pending"
	codeRequestNotPending = "request_not_pending"
	codeLastAdmin         = "last_admin"
	codeInvalidCode       = "invalid_code"
	codeUserNotFound      = "user_not_found"
	codeInvalidLimit      = "invalid_limit"
	codeInvalidIdemKey    = "invalid_idempotency_key"
)

// httpError maps a domain error to API.md's status and code; anything else stays an
// internal error, which httpx.Abort answers as a 500 that reveals nothing.
func httpError(err error) error {
	var verr *domain.ValidationError
	switch {
	case errors.As(err, &verr):
		return httpx.BadRequest(verr.Code, verr.Message)
	case errors.Is(err, domain.ErrNotFound):
		return httpx.NotFound("not found")
	case errors.Is(err, domain.ErrForbidden):
		return httpx.Forbidden("you may not do this in this team")
	case errors.Is(err, domain.ErrNotMember):
		return httpx.NewError(http.StatusNotFound, codeNotAMember, "the user is not a member of this team")
	case errors.Is(err, domain.ErrAlreadyMember):
		return httpx.Conflict(codeAlreadyMember, "already a member of this team")
	case errors.Is(err, domain.ErrRequestPending):
		return httpx.Conflict(codeRequestPending, "a join request is already pending")
	case errors.Is(err, domain.ErrRequestNotPending):
		return httpx.Conflict(codeRequestNotPending, "the request was already decided")
	case errors.Is(err, domain.ErrLastAdmin):
		return httpx.Conflict(codeLastAdmin, "a team needs at least one admin")
	case errors.Is(err, domain.ErrInvalidCode):
		return httpx.NewError(http.StatusNotFound, codeInvalidCode, "no team has this join code")
	case errors.Is(err, domain.ErrUserNotFound):
		return httpx.NewError(http.StatusNotFound, codeUserNotFound, "no user has this email address")
	case errors.Is(err, domain.ErrRateLimited):
		return httpx.NewError(http.StatusTooManyRequests, httpx.CodeRateLimited, "too many attempts; try again later")
	case errors.Is(err, domain.ErrUnavailable):
		return httpx.NewError(http.StatusServiceUnavailable, httpx.CodeUnavailable, "a service this needs is unavailable")
	default:
		return err
	}
}

// grpcError maps a domain error to a gRPC status.
func grpcError(err error) error {
	var verr *domain.ValidationError
	switch {
	case errors.As(err, &verr):
		return status.Error(codes.InvalidArgument, verr.Message)
	case errors.Is(err, domain.ErrNotFound):
		return status.Error(codes.NotFound, "team not found")
	case errors.Is(err, domain.ErrForbidden):
		return status.Error(codes.PermissionDenied, "not allowed")
	case errors.Is(err, domain.ErrUnavailable):
		return status.Error(codes.Unavailable, "dependency unavailable")
	default:
		return status.Error(codes.Internal, "internal error")
	}
}
