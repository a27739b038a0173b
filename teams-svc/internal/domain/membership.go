package domain

import "time"

// Role is what a member may do in a team.
type Role string

// Roles of a team member.
const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// ParseRole accepts "admin" or "member".
func ParseRole(s string) (Role, error) {
	switch Role(s) {
	case RoleAdmin, RoleMember:
		return Role(s), nil
	case "":
		return "", invalid("role_required", "role is required")
	default:
		return "", invalid("invalid_role", `role must be "admin" or "member"`)
	}
}

// Membership says that a user belongs to a team, with a role.
type Membership struct {
	// ID is time-ordered, so that members list in the order they joined.
	ID       string
	TeamID   string
	UserID   string
	Role     Role
	JoinedAt time.Time
}

// NewMembership returns a membership that starts now.
func NewMembership(teamID, userID string, role Role, now time.Time) Membership {
	return Membership{ID: NewID(), TeamID: teamID, UserID: userID, Role: role, JoinedAt: now}
}

// IsAdmin reports whether the member may administer the team.
func (m Membership) IsAdmin() bool { return m.Role == RoleAdmin }

// RequireAdmin is nil for an admin and ErrForbidden for any other member.
func (m Membership) RequireAdmin() error {
	if !m.IsAdmin() {
		return ErrForbidden
	}
	return nil
}

// RosterChange is what a role change or a removal is decided on. The repository reads it
// while holding the team's lock, so that two concurrent changes cannot both see a second
// admin and together remove the last one.
type RosterChange struct {
	// Actor is the caller's membership; nil when the caller is not a member.
	Actor *Membership
	// Target is the membership being changed; nil when the user is not a member.
	Target *Membership
	// Admins is the number of admins of the team.
	Admins int
}

// ChangeRole decides whether Actor may give Target the role.
func (c RosterChange) ChangeRole(role Role) error {
	if c.Actor == nil {
		return ErrNotFound
	}
	if err := c.Actor.RequireAdmin(); err != nil {
		return err
	}
	if c.Target == nil {
		return ErrNotMember
	}
	if c.Target.IsAdmin() && role != RoleAdmin && c.Admins <= 1 {
		return ErrLastAdmin
	}
	return nil
}

// Remove decides whether Actor may remove Target: admins remove anyone, members only
// themselves (leaving), and the last admin stays.
func (c RosterChange) Remove() error {
	if c.Actor == nil {
		return ErrNotFound
	}
	if c.Target == nil {
		if c.Actor.IsAdmin() {
			return ErrNotMember
		}
		return ErrForbidden
	}
	if c.Actor.UserID != c.Target.UserID && !c.Actor.IsAdmin() {
		return ErrForbidden
	}
	if c.Target.IsAdmin() && c.Admins <= 1 {
		return ErrLastAdmin
	}
	return nil
}
