// Package app holds chats-svc's use cases: one file per command or query. It knows the
// domain and the interfaces the domain defines, never gorm, gin, gRPC or Redis.
package app

import (
	"time"

	"github.com/google/uuid"

	"github.com/convene/convene/chats-svc/internal/domain"
)

// Params are the app's collaborators.
type Params struct {
	Repo     domain.Repository
	Users    domain.UserDirectory
	Messages domain.MessageSummaries
	// EventsRecorded is called after a write committed events to the outbox, so that the
	// relay delivers them at once instead of at its next poll.
	EventsRecorded func()
	// Now defaults to time.Now.
	Now func() time.Time
}

// App runs chats-svc's commands and queries.
type App struct {
	repo           domain.Repository
	users          domain.UserDirectory
	messages       domain.MessageSummaries
	eventsRecorded func()
	now            func() time.Time
}

// New returns the app.
func New(p Params) *App {
	a := &App{
		repo:           p.Repo,
		users:          p.Users,
		messages:       p.Messages,
		eventsRecorded: p.EventsRecorded,
		now:            p.Now,
	}
	if a.eventsRecorded == nil {
		a.eventsRecorded = func() {}
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a
}

// Caller is who asks: a user, or another service acting for itself.
type Caller struct {
	UserID  string
	Service bool
}

// newID returns a time-ordered id (UUIDv7): outbox events sort by it.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// validID reports whether s is an id in canonical form. Anything else cannot name a stored
// row, so callers answer "not found" without asking the database.
func validID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}
