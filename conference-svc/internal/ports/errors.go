package ports

import (
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/conference-svc/internal/app"
	"github.com/convene/convene/conference-svc/internal/domain"
	"github.com/convene/convene/platform/httpx"
)

// httpErrors maps each domain and use-case sentinel to its status and API.md code.
var httpErrors = []struct {
	err    error
	status int
	code   string
}{
	{domain.ErrNotFound, http.StatusNotFound, httpx.CodeNotFound},
	{domain.ErrNotMember, http.StatusNotFound, httpx.CodeNotFound},
	{domain.ErrNotHost, http.StatusForbidden, "not_host"},
	{domain.ErrForbidden, http.StatusForbidden, httpx.CodeForbidden},
	{domain.ErrEnded, http.StatusConflict, "conference_ended"},
	{domain.ErrConflict, http.StatusConflict, "idempotency_key_reused"},
	{domain.ErrUnavailable, http.StatusServiceUnavailable, httpx.CodeUnavailable},
	{domain.ErrTitleRequired, http.StatusBadRequest, "title_required"},
	{domain.ErrTitleTooLong, http.StatusBadRequest, "title_too_long"},
	{domain.ErrTitleInvalid, http.StatusBadRequest, "invalid_title"},
	{domain.ErrStartsAtInvalid, http.StatusBadRequest, "starts_at_out_of_range"},
	{domain.ErrInvalidRole, http.StatusBadRequest, "invalid_role"},
	{app.ErrInvalidLimit, http.StatusBadRequest, "invalid_limit"},
	{app.ErrInvalidCursor, http.StatusBadRequest, "invalid_cursor"},
}

// HTTPError translates an error of the use cases into API.md's error. Anything unknown
// stays an internal error: logged, and answered with a bare 500.
func HTTPError(err error) error {
	for _, e := range httpErrors {
		if errors.Is(err, e.err) {
			msg := e.err.Error()
			if e.status == http.StatusNotFound {
				msg = "conference or team not found"
			}
			return httpx.NewError(e.status, e.code, msg)
		}
	}
	return err
}

// grpcError translates an error of the use cases into a gRPC status.
func grpcError(err error) error {
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return status.Error(codes.NotFound, "team not found")
	case errors.Is(err, domain.ErrForbidden), errors.Is(err, domain.ErrNotMember):
		return status.Error(codes.PermissionDenied, "not allowed to delete this team's conferences")
	case errors.Is(err, domain.ErrUnavailable):
		return status.Error(codes.Unavailable, "teams-svc unavailable")
	}
	return status.Error(codes.Internal, "internal error")
}
