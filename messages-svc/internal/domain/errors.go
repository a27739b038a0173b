package domain

import "errors"

// Sentinel errors. Adapters translate their failures into these; ports translate these into
// HTTP statuses and API.md codes, or gRPC statuses.
var (
	// ErrNotFound: the chat or message does not exist or is not visible to the caller.
	// Non-members get it for everything inside a chat, so that they learn nothing.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the caller is a member but the rule reserves the action to someone else
	// (editing or deleting another member's message).
	ErrForbidden = errors.New("forbidden")
	// ErrMessageDeleted: the message is a tombstone and cannot be edited.
	ErrMessageDeleted = errors.New("message deleted")
	// ErrUnavailable: a dependency (chats-svc, users-svc, the database) cannot answer now.
	ErrUnavailable = errors.New("dependency unavailable")
)

// ValidationError names a broken input rule; Code is the API.md error code.
type ValidationError struct {
	Code    string
	Message string
}

func (e *ValidationError) Error() string { return e.Code + ": " + e.Message }

func invalid(code, message string) error { return &ValidationError{Code: code, Message: message} }
