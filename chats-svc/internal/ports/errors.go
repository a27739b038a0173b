package ports

import (
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"

	"github.com/convene/convene/chats-svc/internal/domain"
	"github.com/convene/convene/platform/httpx"
)

// API.md error codes of chats-svc.
const (
	CodeChatNotFound   = "chat_not_found"
	CodeUserNotFound   = "user_not_found"
	CodeMemberNotFound = "member_not_found"
	CodeAlreadyMember  = "already_member"
	CodeTitleRequired  = "title_required"
	CodeTitleTooLong   = "title_too_long"
	CodeTooManyMembers = "too_many_members"
	CodeEmailRequired  = "email_required"
	CodeInvalidEmail   = "invalid_email"
	CodeInvalidLimit   = "invalid_limit"
	CodeInvalidCursor  = "invalid_cursor"
	messageUnavailable = "a dependency is unavailable; try again"
)

// domainErrors maps each domain sentinel to its HTTP status and code, once for the port.
var domainErrors = []struct {
	err    error
	status int
	code   string
}{
	{domain.ErrChatNotFound, http.StatusNotFound, CodeChatNotFound},
	{domain.ErrUserNotFound, http.StatusNotFound, CodeUserNotFound},
	{domain.ErrMemberNotFound, http.StatusNotFound, CodeMemberNotFound},
	{domain.ErrAlreadyMember, http.StatusConflict, CodeAlreadyMember},
	{domain.ErrForbidden, http.StatusForbidden, httpx.CodeForbidden},
	{domain.ErrTitleRequired, http.StatusBadRequest, CodeTitleRequired},
	{domain.ErrTitleTooLong, http.StatusBadRequest, CodeTitleTooLong},
	{domain.ErrTooManyMembers, http.StatusBadRequest, CodeTooManyMembers},
	{domain.ErrEmailRequired, http.StatusBadRequest, CodeEmailRequired},
	{domain.ErrInvalidEmail, http.StatusBadRequest, CodeInvalidEmail},
	{domain.ErrInvalidLimit, http.StatusBadRequest, CodeInvalidLimit},
	{domain.ErrInvalidCursor, http.StatusBadRequest, CodeInvalidCursor},
	{domain.ErrUnavailable, http.StatusServiceUnavailable, httpx.CodeUnavailable},
}

// toHTTP translates an app error into API.md's error. Errors that are no domain sentinel
// stay as they are: httpx.Abort logs them and answers a 500 that reveals nothing.
func toHTTP(err error) error {
	for _, m := range domainErrors {
		if errors.Is(err, m.err) {
			msg := err.Error()
			if m.err == domain.ErrUnavailable {
				// The wrapped cause names internal services: it goes to the log only.
				msg = messageUnavailable
			}
			return httpx.NewError(m.status, m.code, msg)
		}
	}
	return err
}

// toGRPCCode translates an app error into a gRPC status code.
func toGRPCCode(err error) codes.Code {
	switch {
	case errors.Is(err, domain.ErrForbidden):
		return codes.PermissionDenied
	case errors.Is(err, domain.ErrChatNotFound):
		return codes.NotFound
	case errors.Is(err, domain.ErrTooManyActivities):
		return codes.InvalidArgument
	default:
		return codes.Internal
	}
}
