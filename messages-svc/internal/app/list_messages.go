package app

import (
	"context"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// ListMessages is a member reading a page of a chat's history.
type ListMessages struct {
	UserID string
	ChatID string
	Query  domain.HistoryQuery
}

// ListMessages returns a page of history, ascending after AfterSeq or descending before
// BeforeSeq, and whether more follows in the same direction.
func (a *Application) ListMessages(ctx context.Context, q ListMessages) (page []domain.MessageView, more bool, err error) {
	if err := a.requireMember(ctx, q.ChatID, q.UserID); err != nil {
		return nil, false, err
	}
	query := q.Query
	if query.Limit <= 0 || query.Limit > MaxPageSize {
		query.Limit = DefaultPageSize
	}
	want := query.Limit
	// One row more than the page tells whether another page follows.
	query.Limit++
	msgs, err := a.messages.List(ctx, q.ChatID, query)
	if err != nil {
		return nil, false, err
	}
	if len(msgs) > want {
		msgs, more = msgs[:want], true
	}
	page, err = a.views(ctx, q.ChatID, msgs)
	return page, more, err
}
