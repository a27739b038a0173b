// Package app holds conference-svc's use cases: one file per command or query. It knows the
// domain and the interfaces it needs, never gin, gorm or gRPC.
package app

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/convene/convene/conference-svc/internal/domain"
)

// Page sizes of API.md.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// LiveRooms is what the use cases need from the rooms running in this process: edits and
// deletions reach people who are in the room.
type LiveRooms interface {
	// SettingsChanged applies a conference's new settings (waiting room) to its live room.
	SettingsChanged(c domain.Conference)
	// Closed ends the live rooms of deleted conferences.
	Closed(conferenceIDs ...string)
}

// Params builds an App.
type Params struct {
	Conferences domain.Conferences
	Memberships domain.Memberships
	Rooms       LiveRooms
	// Now defaults to time.Now.
	Now func() time.Time
	// NewID defaults to UUIDv7.
	NewID func() string
}

// App runs the use cases.
type App struct {
	confs domain.Conferences
	teams domain.Memberships
	rooms LiveRooms
	now   func() time.Time
	newID func() string
}

// New returns the use cases over p's adapters.
func New(p Params) *App {
	a := &App{confs: p.Conferences, teams: p.Memberships, rooms: p.Rooms, now: p.Now, newID: p.NewID}
	if a.now == nil {
		a.now = time.Now
	}
	if a.newID == nil {
		a.newID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	return a
}

// View is a conference as one user sees it.
type View struct {
	Conference domain.Conference
	Role       domain.Role
}

// ValidID reports whether s is a well-formed id; malformed ids are answered as not found
// without asking the database or teams-svc.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// requireMember checks that the user belongs to the team.
func (a *App) requireMember(ctx context.Context, teamID, userID string) (domain.TeamRole, error) {
	if !ValidID(teamID) {
		return "", domain.ErrNotFound
	}
	return a.teams.Membership(ctx, teamID, userID)
}

// visible loads a conference the user may see: it exists and the user belongs to its team.
func (a *App) visible(ctx context.Context, confID, userID string) (View, error) {
	if !ValidID(confID) {
		return View{}, domain.ErrNotFound
	}
	c, err := a.confs.Get(ctx, confID)
	if err != nil {
		return View{}, err
	}
	if _, err := a.teams.Membership(ctx, c.TeamID, userID); err != nil {
		return View{}, err
	}
	host, err := a.confs.IsHost(ctx, confID, userID)
	if err != nil {
		return View{}, err
	}
	role := domain.RoleParticipant
	if host {
		role = domain.RoleHost
	}
	return View{Conference: c, Role: role}, nil
}

// visibleToHost is visible, and the user must be a host.
func (a *App) visibleToHost(ctx context.Context, confID, userID string) (View, error) {
	v, err := a.visible(ctx, confID, userID)
	if err != nil {
		return View{}, err
	}
	if v.Role != domain.RoleHost {
		return View{}, domain.ErrNotHost
	}
	return v, nil
}
