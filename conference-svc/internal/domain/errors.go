package domain

import "errors"

// Sentinel errors of the scheduling domain. Adapters return them; ports translate them once
// into an HTTP status and API error code, or a gRPC status.
var (
	// ErrNotFound: no such conference or team, or the caller may not see it.
	ErrNotFound = errors.New("not found")
	// ErrNotMember: the user is not a member of the team (shown to clients as not found).
	ErrNotMember = errors.New("not a member of the team")
	// ErrNotHost: the caller is a member of the team but not a host of the conference.
	ErrNotHost = errors.New("only a host of the conference may do this")
	// ErrForbidden: the caller may not do this at all (e.g. delete another team's conferences).
	ErrForbidden = errors.New("forbidden")
	// ErrEnded: the conference has ended and can no longer be joined or edited.
	ErrEnded = errors.New("conference has ended")
	// ErrUnavailable: a dependency (teams-svc) could not answer.
	ErrUnavailable = errors.New("dependency unavailable")
	// ErrConflict: a write raced with another one on the same key.
	ErrConflict = errors.New("conflict")

	ErrTitleRequired   = errors.New("title is required")
	ErrTitleTooLong    = errors.New("title is too long")
	ErrTitleInvalid    = errors.New("title contains control characters")
	ErrStartsAtInvalid = errors.New("starts_at is out of range")
	ErrInvalidRole     = errors.New("role must be host or participant")
)
