// Package app holds teams-svc's use cases, one file per command or query. It checks who
// may do what on every call (the service owns the data, so it owns the rules) and knows
// only the interfaces of package domain.
package app

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// Params are what the use cases need.
type Params struct {
	Teams        domain.TeamRepository
	Posts        domain.PostRepository
	Members      domain.MembershipLookup
	Users        domain.UserDirectory
	JoinAttempts domain.JoinAttempts
	// Relay is woken after a team deletion so that conference-svc hears of it at once
	// rather than at the relay's next poll.
	Relay interface{ Wake() }
	Log   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// App runs the use cases.
type App struct {
	teams    domain.TeamRepository
	posts    domain.PostRepository
	members  domain.MembershipLookup
	users    domain.UserDirectory
	attempts domain.JoinAttempts
	relay    interface{ Wake() }
	log      *slog.Logger
	clock    func() time.Time
}

// New returns an App.
func New(p Params) *App {
	clock := p.Now
	if clock == nil {
		clock = time.Now
	}
	return &App{
		teams: p.Teams, posts: p.Posts, members: p.Members, users: p.Users,
		attempts: p.JoinAttempts, relay: p.Relay, log: p.Log, clock: clock,
	}
}

// now is UTC at the precision both databases keep, so that what a write returns is
// exactly what a later read returns.
func (a *App) now() time.Time { return a.clock().UTC().Truncate(time.Microsecond) }

// member returns actor's membership of the team. A team the actor does not belong to is
// reported as not found, so that outsiders learn nothing about which teams exist.
func (a *App) member(ctx context.Context, teamID, actor string) (domain.Membership, error) {
	m, err := a.members.Membership(ctx, teamID, actor)
	if errors.Is(err, domain.ErrNotMember) {
		return domain.Membership{}, domain.ErrNotFound
	}
	return m, err
}

// admin is member for actions that need the admin role (ErrForbidden for members).
func (a *App) admin(ctx context.Context, teamID, actor string) (domain.Membership, error) {
	m, err := a.member(ctx, teamID, actor)
	if err != nil {
		return m, err
	}
	return m, m.RequireAdmin()
}

// resolveUsers looks up the users in one batched call. Names are decoration: when
// users-svc is down the page is still served, with ids only, rather than failing.
func (a *App) resolveUsers(ctx context.Context, ids []string) map[string]domain.User {
	unique := slices.Compact(slices.Sorted(slices.Values(ids)))
	found, err := a.users.Users(ctx, unique)
	if err != nil {
		a.log.WarnContext(ctx, "users-svc lookup failed; serving ids without names", "err", err, "users", len(unique))
		found = nil
	}
	out := make(map[string]domain.User, len(unique))
	for _, id := range unique {
		u, ok := found[id]
		if !ok {
			u = domain.User{ID: id}
		}
		out[id] = u
	}
	return out
}

func (a *App) resolveUser(ctx context.Context, id string) domain.User {
	return a.resolveUsers(ctx, []string{id})[id]
}
