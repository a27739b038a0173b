package domain

import "errors"

// Sentinel errors returned by the domain, the app layer and the adapters. The ports
// translate each of them once: to an HTTP status with an API error code, or a gRPC status.
var (
	// ErrNotFound means the thing does not exist or is not visible to the caller (a team
	// that the caller is not a member of is reported as not found).
	ErrNotFound = errors.New("not found")
	// ErrForbidden means the caller can see the thing but may not do this to it.
	ErrForbidden = errors.New("forbidden")
	// ErrNotMember means the target user is not a member of the team.
	ErrNotMember = errors.New("not a member")
	// ErrAlreadyMember means the user already belongs to the team.
	ErrAlreadyMember = errors.New("already a member")
	// ErrRequestPending means the user already has a pending join request for the team.
	ErrRequestPending = errors.New("join request already pending")
	// ErrRequestNotPending means the request was already accepted or rejected.
	ErrRequestNotPending = errors.New("join request is not pending")
	// ErrLastAdmin means the change would leave the team without an admin.
	ErrLastAdmin = errors.New("a team needs at least one admin")
	// ErrInvalidCode means no team has this join code.
	ErrInvalidCode = errors.New("invalid join code")
	// ErrUserNotFound means users-svc knows no such user.
	ErrUserNotFound = errors.New("user not found")
	// ErrRateLimited means the caller must wait before trying again.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnavailable means a dependency needed to answer is down.
	ErrUnavailable = errors.New("dependency unavailable")
	// ErrJoinCodeTaken means a freshly drawn join code collided with another team's.
	ErrJoinCodeTaken = errors.New("join code taken")
)

// ValidationError is bad input: Code names the broken rule (e.g. "text_too_long").
type ValidationError struct {
	Code    string
	Message string
}

func (e *ValidationError) Error() string { return e.Code + ": " + e.Message }

func invalid(code, message string) error { return &ValidationError{Code: code, Message: message} }
