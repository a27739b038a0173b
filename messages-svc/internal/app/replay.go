package app

import (
	"context"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// Replay returns the messages of a chat after afterSeq, ascending, up to limit, for a socket
// that resumes or fills a gap; more reports that another page follows.
func (a *Application) Replay(ctx context.Context, userID, chatID string, afterSeq int64, limit int) ([]domain.MessageView, bool, error) {
	if afterSeq < 0 {
		afterSeq = 0
	}
	return a.ListMessages(ctx, ListMessages{
		UserID: userID, ChatID: chatID,
		Query: domain.HistoryQuery{Ascending: true, AfterSeq: afterSeq, Limit: limit},
	})
}

// ChatPositions returns the last seq of every chat of the user (0 for chats without
// messages); a new socket starts delivering after these.
func (a *Application) ChatPositions(ctx context.Context, userID string) (map[string]int64, error) {
	chats, err := a.members.UserChats(ctx, userID)
	if err != nil {
		return nil, err
	}
	last, err := a.messages.LastSeqs(ctx, chats)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(chats))
	for _, c := range chats {
		out[c] = last[c]
	}
	return out, nil
}
