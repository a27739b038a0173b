package adapters

import (
	"time"

	"github.com/convene/convene/teams-svc/internal/domain"
)

type teamRow struct {
	ID          string `gorm:"primaryKey"`
	Name        string
	Description string
	JoinCode    string
	CreatedAt   time.Time
}

func (teamRow) TableName() string { return "teams" }

func teamRowOf(t domain.Team) teamRow {
	return teamRow{ID: t.ID, Name: t.Name, Description: t.Description, JoinCode: t.JoinCode, CreatedAt: t.CreatedAt}
}

func (r teamRow) domain() domain.Team {
	return domain.Team{ID: r.ID, Name: r.Name, Description: r.Description, JoinCode: r.JoinCode, CreatedAt: utc(r.CreatedAt)}
}

type membershipRow struct {
	ID       string `gorm:"primaryKey"`
	TeamID   string
	UserID   string
	Role     string
	JoinedAt time.Time
}

func (membershipRow) TableName() string { return "memberships" }

func membershipRowOf(m domain.Membership) membershipRow {
	return membershipRow{ID: m.ID, TeamID: m.TeamID, UserID: m.UserID, Role: string(m.Role), JoinedAt: m.JoinedAt}
}

func (r membershipRow) domain() domain.Membership {
	return domain.Membership{ID: r.ID, TeamID: r.TeamID, UserID: r.UserID, Role: domain.Role(r.Role), JoinedAt: utc(r.JoinedAt)}
}

type requestRow struct {
	ID        string `gorm:"primaryKey"`
	TeamID    string
	UserID    string
	Status    string
	CreatedAt time.Time
	DecidedAt *time.Time
	DecidedBy *string
}

func (requestRow) TableName() string { return "join_requests" }

func (r requestRow) domain() domain.JoinRequest {
	req := domain.JoinRequest{
		ID: r.ID, TeamID: r.TeamID, UserID: r.UserID, Status: domain.RequestStatus(r.Status),
		CreatedAt: utc(r.CreatedAt), DecidedAt: utcPtr(r.DecidedAt),
	}
	if r.DecidedBy != nil {
		req.DecidedBy = *r.DecidedBy
	}
	return req
}

type postRow struct {
	ID             string `gorm:"primaryKey"`
	TeamID         string
	AuthorID       string
	Text           string
	CommentCount   int64
	IdempotencyKey *string
	CreatedAt      time.Time
	EditedAt       *time.Time
}

func (postRow) TableName() string { return "posts" }

func (r postRow) domain() domain.Post {
	return domain.Post{
		ID: r.ID, TeamID: r.TeamID, AuthorID: r.AuthorID, Text: r.Text, CommentCount: r.CommentCount,
		CreatedAt: utc(r.CreatedAt), EditedAt: utcPtr(r.EditedAt),
	}
}

type commentRow struct {
	ID             string `gorm:"primaryKey"`
	PostID         string
	TeamID         string
	AuthorID       string
	Text           string
	IdempotencyKey *string
	CreatedAt      time.Time
	EditedAt       *time.Time
}

func (commentRow) TableName() string { return "comments" }

func (r commentRow) domain() domain.Comment {
	return domain.Comment{
		ID: r.ID, PostID: r.PostID, TeamID: r.TeamID, AuthorID: r.AuthorID, Text: r.Text,
		CreatedAt: utc(r.CreatedAt), EditedAt: utcPtr(r.EditedAt),
	}
}

type outboxRow struct {
	ID            string `gorm:"primaryKey"`
	Topic         string
	EventKey      string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
}

func (outboxRow) TableName() string { return "outbox" }

func (r outboxRow) domain() domain.OutboxEvent {
	return domain.OutboxEvent{
		ID: r.ID, Topic: r.Topic, Key: r.EventKey, Attempts: r.Attempts,
		NextAttemptAt: utc(r.NextAttemptAt), CreatedAt: utc(r.CreatedAt),
	}
}
