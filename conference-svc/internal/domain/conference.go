// Package domain holds conference-svc's scheduling model: a team's conferences, their hosts
// and their life cycle (scheduled → live → ended). It imports nothing of the project.
package domain

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxTitleLen bounds a conference title, in characters.
const MaxTitleLen = 200

// Status is where a conference is in its life.
type Status string

const (
	// StatusScheduled: nobody has joined yet.
	StatusScheduled Status = "scheduled"
	// StatusLive: the room has had a participant in it and has not ended.
	StatusLive Status = "live"
	// StatusEnded: a host ended it, or it stayed empty too long. Final.
	StatusEnded Status = "ended"
)

// Role is what a user may do in one conference.
type Role string

const (
	// RoleHost edits the conference, runs the lobby and moderates the room.
	RoleHost Role = "host"
	// RoleParticipant is every other team member.
	RoleParticipant Role = "participant"
)

// ParseRole accepts the two roles of API.md.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleHost, RoleParticipant:
		return r, nil
	}
	return "", ErrInvalidRole
}

// earliest and latest bound starts_at: anything outside is a client bug (a zero time, a
// unit mix-up), not a meeting.
var (
	earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	latest   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Conference is a scheduled meeting of one team.
type Conference struct {
	ID          string
	TeamID      string
	Title       string
	StartsAt    time.Time
	WaitingRoom bool
	CreatedBy   string
	Status      Status
	// ParticipantCount is how many people are in the room now (0 unless live).
	ParticipantCount int
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// NewConferenceParams is what a new conference is made from.
type NewConferenceParams struct {
	ID          string
	TeamID      string
	Title       string
	StartsAt    time.Time
	WaitingRoom bool
	CreatedBy   string
	Now         time.Time
}

// NewConference validates p and returns a scheduled conference.
func NewConference(p NewConferenceParams) (Conference, error) {
	title, err := normalizeTitle(p.Title)
	if err != nil {
		return Conference{}, err
	}
	startsAt, err := normalizeStartsAt(p.StartsAt)
	if err != nil {
		return Conference{}, err
	}
	now := p.Now.UTC()
	return Conference{
		ID:          p.ID,
		TeamID:      p.TeamID,
		Title:       title,
		StartsAt:    startsAt,
		WaitingRoom: p.WaitingRoom,
		CreatedBy:   p.CreatedBy,
		Status:      StatusScheduled,
		CreatedAt:   now,
		UpdatedAt:   now,
	}, nil
}

// Patch is an edit of a conference; nil fields stay as they are.
type Patch struct {
	Title       *string
	StartsAt    *time.Time
	WaitingRoom *bool
}

// Apply edits c. An ended conference cannot be edited.
func (c *Conference) Apply(p Patch, now time.Time) error {
	if c.Status == StatusEnded {
		return ErrEnded
	}
	next := *c
	if p.Title != nil {
		t, err := normalizeTitle(*p.Title)
		if err != nil {
			return err
		}
		next.Title = t
	}
	if p.StartsAt != nil {
		s, err := normalizeStartsAt(*p.StartsAt)
		if err != nil {
			return err
		}
		next.StartsAt = s
	}
	if p.WaitingRoom != nil {
		next.WaitingRoom = *p.WaitingRoom
	}
	next.UpdatedAt = now.UTC()
	*c = next
	return nil
}

// Joinable reports whether people may still enter the room.
func (c Conference) Joinable() error {
	if c.Status == StatusEnded {
		return ErrEnded
	}
	return nil
}

func normalizeTitle(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", ErrTitleRequired
	case utf8.RuneCountInString(s) > MaxTitleLen:
		return "", ErrTitleTooLong
	case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", ErrTitleInvalid
	}
	return s, nil
}

// normalizeStartsAt keeps whole seconds in UTC: calendars and clients show minutes, and
// both databases then store and compare the same value.
func normalizeStartsAt(t time.Time) (time.Time, error) {
	t = t.UTC().Truncate(time.Second)
	if t.Before(earliest) || !t.Before(latest) {
		return time.Time{}, ErrStartsAtInvalid
	}
	return t, nil
}
