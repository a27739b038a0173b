package domain

import "context"

// Page selects a slice of a team's conferences in starts_at order.
type Page struct {
	// After is the id of the last conference of the previous page; "" for the first page.
	After string
	Limit int
}

// Conferences stores conferences and their hosts.
type Conferences interface {
	// Create stores c with its creator as host. When createKey is not empty and the creator
	// already created a conference with it, Create returns that one and created=false.
	Create(ctx context.Context, c Conference, createKey string) (stored Conference, created bool, err error)
	Get(ctx context.Context, id string) (Conference, error)
	// ListByTeam returns up to p.Limit conferences by (starts_at, id) after p.After.
	ListByTeam(ctx context.Context, teamID string, p Page) ([]Conference, error)
	// Update loads the conference, lets fn change it and stores the result atomically.
	Update(ctx context.Context, id string, fn func(*Conference) error) (Conference, error)
	Delete(ctx context.Context, id string) error
	// DeleteByTeam removes every conference of the team and returns their ids.
	DeleteByTeam(ctx context.Context, teamID string) ([]string, error)
	// IsHost reports whether the user is a host of the conference.
	IsHost(ctx context.Context, conferenceID, userID string) (bool, error)
	// SetRole makes the user a host or takes the role away.
	SetRole(ctx context.Context, conferenceID, userID string, role Role) error
	// SetRoomState records the room's status and head count (live updates from the room).
	SetRoomState(ctx context.Context, conferenceID string, status Status, participants int) error
	// ListLive returns up to limit ids of live conferences, in id order after after ("" for
	// the first page): the rooms some instance should be hosting.
	ListLive(ctx context.Context, after string, limit int) ([]string, error)
}

// TeamRole is a user's role in a team, as teams-svc reports it.
type TeamRole string

const (
	TeamMember TeamRole = "member"
	TeamAdmin  TeamRole = "admin"
)

// Memberships answers whether a user belongs to a team (teams-svc owns the answer).
type Memberships interface {
	// Membership returns the user's role in the team, ErrNotMember when the user is not a
	// member, ErrNotFound when the team does not exist, ErrUnavailable when teams-svc
	// cannot answer.
	Membership(ctx context.Context, teamID, userID string) (TeamRole, error)
}
