package domain

import "errors"

// Sentinel errors of the chats domain. Adapters translate storage and remote failures into
// them; ports translate them into HTTP statuses and API.md codes, or gRPC statuses.
var (
	// ErrChatNotFound covers chats that do not exist and chats the caller is not a member
	// of: outsiders must not learn which chats exist.
	ErrChatNotFound = errors.New("chat not found")
	// ErrUserNotFound means no account has the given email or id.
	ErrUserNotFound = errors.New("user not found")
	// ErrMemberNotFound means the user is not a member of the chat.
	ErrMemberNotFound = errors.New("member not found")
	// ErrAlreadyMember means the user is a member of the chat already.
	ErrAlreadyMember = errors.New("already a member")
	// ErrForbidden means the caller may see the chat but not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable means a dependency (another service) cannot answer now.
	ErrUnavailable = errors.New("dependency unavailable")
	// ErrEventRejected means messages-svc refused an event for good: retrying cannot help.
	ErrEventRejected = errors.New("event rejected")
	// ErrNoEvent means the outbox is empty.
	ErrNoEvent = errors.New("no pending event")
)

// Input rules: each names the rule broken, so that clients can tell them apart.
var (
	ErrTitleRequired  = errors.New("title is required")
	ErrTitleTooLong   = errors.New("title is too long")
	ErrTooManyMembers = errors.New("too many member emails")
	ErrEmailRequired  = errors.New("email is required")
	ErrInvalidEmail   = errors.New("email is not a valid address")
)

// Listing rules.
var (
	ErrInvalidLimit  = errors.New("limit is out of range")
	ErrInvalidCursor = errors.New("cursor is malformed")
)

// ErrTooManyActivities means a RecordActivity batch exceeds MaxActivityBatch.
var ErrTooManyActivities = errors.New("too many activities in one batch")
