package domain

import "time"

// RequestStatus is where a join request stands.
type RequestStatus string

// Statuses of a join request; only a pending request can be decided.
const (
	RequestPending  RequestStatus = "pending"
	RequestAccepted RequestStatus = "accepted"
	RequestRejected RequestStatus = "rejected"
)

// JoinRequest is a user's request to join a team, decided by one of its admins.
type JoinRequest struct {
	ID        string
	TeamID    string
	UserID    string
	Status    RequestStatus
	CreatedAt time.Time
	// DecidedAt and DecidedBy are set once an admin accepted or rejected the request.
	DecidedAt *time.Time
	DecidedBy string
}

// NewJoinRequest returns a pending request.
func NewJoinRequest(teamID, userID string, now time.Time) JoinRequest {
	return JoinRequest{ID: NewID(), TeamID: teamID, UserID: userID, Status: RequestPending, CreatedAt: now}
}
