package app

import (
	"context"

	"github.com/convene/convene/conference-svc/internal/domain"
)

// ListConferences selects a page of a team's conferences.
type ListConferences struct {
	TeamID string
	UserID string
	// After is the previous page's next_cursor.
	After string
	Limit int
}

// ConferencePage is one page; NextCursor is "" on the last one.
type ConferencePage struct {
	Items      []domain.Conference
	NextCursor string
}

// ListConferences returns a team's conferences by starts_at to one of its members.
func (a *App) ListConferences(ctx context.Context, in ListConferences) (ConferencePage, error) {
	if _, err := a.requireMember(ctx, in.TeamID, in.UserID); err != nil {
		return ConferencePage{}, err
	}
	if in.After != "" && !ValidID(in.After) {
		return ConferencePage{}, ErrInvalidCursor
	}
	limit := in.Limit
	if limit == 0 {
		limit = DefaultPageSize
	}
	if limit < 0 || limit > MaxPageSize {
		return ConferencePage{}, ErrInvalidLimit
	}
	items, err := a.confs.ListByTeam(ctx, in.TeamID, domain.Page{After: in.After, Limit: limit + 1})
	if err != nil {
		return ConferencePage{}, err
	}
	page := ConferencePage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = items[limit-1].ID
	}
	return page, nil
}
