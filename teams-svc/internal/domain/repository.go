package domain

import (
	"context"
	"time"
)

// TeamRepository stores teams, their memberships and join requests. Every method that
// changes memberships runs in one transaction.
type TeamRepository interface {
	// CreateTeam stores the team and its first admin; ErrJoinCodeTaken on a code collision.
	CreateTeam(ctx context.Context, t Team, admin Membership) error
	Team(ctx context.Context, teamID string) (Team, error)
	UpdateTeam(ctx context.Context, t Team) error
	// SetJoinCode replaces the team's code; ErrJoinCodeTaken on a collision.
	SetJoinCode(ctx context.Context, teamID, code string) error
	TeamByJoinCode(ctx context.Context, code string) (Team, error)
	// DeleteTeam removes the team with its posts, comments, requests and memberships and,
	// in the same transaction, records ev for the outbox relay. It returns the ids of the
	// former members, whose cached memberships must be forgotten.
	DeleteTeam(ctx context.Context, teamID string, ev OutboxEvent) ([]string, error)
	// TeamsOf lists the teams userID belongs to, newest first.
	TeamsOf(ctx context.Context, userID string, p Page) (Paged[TeamMembership], error)

	// Membership answers ErrNotFound when the team does not exist and ErrNotMember when
	// the user does not belong to it.
	Membership(ctx context.Context, teamID, userID string) (Membership, error)
	// AllMembers lists every member (for other services); ErrNotFound for no team.
	AllMembers(ctx context.Context, teamID string) ([]Membership, error)
	// Members lists members, newest first.
	Members(ctx context.Context, teamID string, p Page) (Paged[Membership], error)
	// AddMember stores m and settles the user's pending request, if any, as accepted.
	AddMember(ctx context.Context, m Membership, decidedBy string) error
	// ChangeRole reads the RosterChange under the team's lock, lets decide rule on it, and
	// gives the target the role when decide returns nil.
	ChangeRole(ctx context.Context, teamID, actorID, targetID string, role Role, decide func(RosterChange) error) (Membership, error)
	// RemoveMember is ChangeRole's counterpart for removals and leaving.
	RemoveMember(ctx context.Context, teamID, actorID, targetID string, decide func(RosterChange) error) error

	// CreateJoinRequest stores a pending request: ErrAlreadyMember, ErrRequestPending.
	CreateJoinRequest(ctx context.Context, r JoinRequest) error
	// PendingRequests lists pending requests, newest first.
	PendingRequests(ctx context.Context, teamID string, p Page) (Paged[JoinRequest], error)
	// AcceptRequest turns a pending request into a membership. Only one of any number of
	// concurrent calls succeeds; the others get ErrRequestNotPending.
	AcceptRequest(ctx context.Context, teamID, requestID, deciderID string, now time.Time) (JoinRequest, Membership, error)
	// RejectRequest settles a pending request as rejected.
	RejectRequest(ctx context.Context, teamID, requestID, deciderID string, now time.Time) (JoinRequest, error)
}

// TeamMembership is a team seen by one of its members.
type TeamMembership struct {
	Team       Team
	Membership Membership
}

// PostRepository stores posts and comments.
type PostRepository interface {
	// CreatePost stores p. With a non-empty idempotency key, a retry of the same
	// author's request returns the post stored first and created=false.
	CreatePost(ctx context.Context, p Post, idempotencyKey string) (stored Post, created bool, err error)
	Post(ctx context.Context, teamID, postID string) (Post, error)
	// Posts lists a team's posts, newest first.
	Posts(ctx context.Context, teamID string, p Page) (Paged[Post], error)
	// UpdatePost stores p's text and edited_at.
	UpdatePost(ctx context.Context, p Post) error
	// DeletePost removes the post and its comments.
	DeletePost(ctx context.Context, teamID, postID string) error
	// CreateComment stores c and counts it on its post in the same transaction;
	// ErrNotFound when the post is gone.
	CreateComment(ctx context.Context, c Comment, idempotencyKey string) (stored Comment, created bool, err error)
	Comment(ctx context.Context, teamID, postID, commentID string) (Comment, error)
	// Comments lists a post's comments, oldest first.
	Comments(ctx context.Context, teamID, postID string, p Page) (Paged[Comment], error)
	UpdateComment(ctx context.Context, c Comment) error
	// DeleteComment removes the comment and uncounts it in the same transaction.
	DeleteComment(ctx context.Context, teamID, postID, commentID string) error
}

// MembershipLookup answers membership questions on the hot path (every request inside a
// team, every conference join) from a cache in front of the TeamRepository.
type MembershipLookup interface {
	Membership(ctx context.Context, teamID, userID string) (Membership, error)
	AllMembers(ctx context.Context, teamID string) ([]Membership, error)
	// Forget drops cached answers about the team's member list and about userIDs; it is
	// called after every membership change has committed.
	Forget(ctx context.Context, teamID string, userIDs ...string)
}

// User is an account as users-svc describes it.
type User struct {
	ID       string
	Username string
	Email    string
}

// UserDirectory asks users-svc about accounts.
type UserDirectory interface {
	// Users resolves ids in one call; unknown ids are left out.
	Users(ctx context.Context, ids []string) (map[string]User, error)
	// UserByEmail answers ErrUserNotFound when no account has the address.
	UserByEmail(ctx context.Context, email string) (User, error)
}

// JoinAttempts rate-limits wrong join codes per user.
type JoinAttempts interface {
	// Blocked reports whether userID used up its wrong attempts for now.
	Blocked(ctx context.Context, userID string) bool
	// Failed records a wrong attempt and reports whether userID is now blocked.
	Failed(ctx context.Context, userID string) bool
}

// Topics of outbox events.
const TopicTeamDeleted = "team_deleted"

// OutboxEvent is a message to another service, stored in the transaction that caused it
// and delivered by a relay until the receiver acknowledges it.
type OutboxEvent struct {
	ID    string
	Topic string
	// Key is what the event is about (the team id for TopicTeamDeleted).
	Key           string
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
}

// NewTeamDeleted returns the event that tells conference-svc a team is gone.
func NewTeamDeleted(teamID string, now time.Time) OutboxEvent {
	return OutboxEvent{ID: NewID(), Topic: TopicTeamDeleted, Key: teamID, NextAttemptAt: now, CreatedAt: now}
}

// Outbox is the relay's view of stored events.
type Outbox interface {
	// Due lists events whose next attempt is at or before now, oldest first.
	Due(ctx context.Context, now time.Time, limit int) ([]OutboxEvent, error)
	// Claim takes ev for one delivery attempt until leaseUntil; false when another relay
	// claimed it first.
	Claim(ctx context.Context, ev OutboxEvent, leaseUntil time.Time) (bool, error)
	// Delivered removes an acknowledged event.
	Delivered(ctx context.Context, id string) error
	// Retry schedules another attempt.
	Retry(ctx context.Context, id string, at time.Time, reason string) error
}

// TeamDeletionNotifier tells conference-svc that a team is gone; the receiver is
// idempotent, so delivering twice is harmless.
type TeamDeletionNotifier interface {
	TeamDeleted(ctx context.Context, teamID string) error
}
