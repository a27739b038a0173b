package app

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/convene/convene/chats-svc/internal/domain"
)

// Page sizes of GET /api/v1/chats.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// ChatView is a chat as one user sees it in a list: with its last message and their
// unread count.
type ChatView struct {
	Chat        domain.Chat
	LastMessage *MessageView
	UnreadCount int64
}

// MessageView is a message with its sender's account.
type MessageView struct {
	domain.Message
	Sender domain.User
}

// ListChats is the query for one page of a user's chats.
type ListChats struct {
	UserID string
	// Limit is the page size; 0 means DefaultPageSize.
	Limit int
	// Before is the NextCursor of the previous page, or empty for the first page.
	Before string
}

// ChatPage is one page of chats, most recently active first.
type ChatPage struct {
	Items []ChatView
	// NextCursor is empty on the last page.
	NextCursor string
}

// ListChats returns a page of the user's chats ordered by latest activity: the time of the
// last message, as messages-svc reported it (RecordActivity), or the chat's creation when
// it has none. The page is read in that order from the database; one GetChatSummaries
// call gives its chats' last messages and unread counts, and one GetUsers call names the
// last messages' senders. Activity is reported asynchronously, so a message sent a moment
// ago may show as last_message before it has moved its chat up.
func (a *App) ListChats(ctx context.Context, q ListChats) (ChatPage, error) {
	limit := q.Limit
	if limit == 0 {
		limit = DefaultPageSize
	}
	if limit < 0 || limit > MaxPageSize {
		return ChatPage{}, domain.ErrInvalidLimit
	}
	// The cursor is the position of the previous page's last chat: this page starts
	// below it.
	var cursor *domain.ChatPosition
	if q.Before != "" {
		p, err := decodeCursor(q.Before)
		if err != nil {
			return ChatPage{}, err
		}
		cursor = &p
	}
	// One row more than the page tells whether another page follows.
	chats, err := a.repo.UserChatsPage(ctx, q.UserID, cursor, limit+1)
	if err != nil || len(chats) == 0 {
		return ChatPage{Items: []ChatView{}}, err
	}
	var page ChatPage
	if len(chats) > limit {
		chats = chats[:limit]
		last := chats[limit-1]
		page.NextCursor = encodeCursor(domain.ChatPosition{LastActivityAt: last.LastActivityAt, ChatID: last.ID})
	}
	ids := make([]string, len(chats))
	for i, c := range chats {
		ids[i] = c.ID
	}
	summaries, err := a.messages.Summaries(ctx, q.UserID, ids)
	if err != nil {
		return ChatPage{}, err
	}
	views := make([]ChatView, len(chats))
	for i, c := range chats {
		s := summaries[c.ID]
		views[i] = ChatView{Chat: c, UnreadCount: s.UnreadCount}
		if m := s.LastMessage; m != nil {
			views[i].LastMessage = &MessageView{Message: *m}
		}
	}
	if err := a.fillSenders(ctx, views); err != nil {
		return ChatPage{}, err
	}
	page.Items = views
	return page, nil
}

// fillSenders completes the last messages' senders with one users-svc call.
func (a *App) fillSenders(ctx context.Context, views []ChatView) error {
	var ids []string
	for _, v := range views {
		if v.LastMessage != nil && !slices.Contains(ids, v.LastMessage.SenderID) {
			ids = append(ids, v.LastMessage.SenderID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	users, err := a.users.Users(ctx, ids)
	if err != nil {
		return err
	}
	byID := make(map[string]domain.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	for _, v := range views {
		if m := v.LastMessage; m != nil {
			m.Sender = domain.User{ID: m.SenderID, Username: byID[m.SenderID].Username}
		}
	}
	return nil
}

// encodeCursor makes the opaque cursor clients pass back as ?before=.
func encodeCursor(p domain.ChatPosition) string {
	raw := strconv.FormatInt(p.LastActivityAt.UnixNano(), 10) + "." + p.ChatID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (domain.ChatPosition, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return domain.ChatPosition{}, domain.ErrInvalidCursor
	}
	ns, id, ok := strings.Cut(string(raw), ".")
	if !ok || !validID(id) {
		return domain.ChatPosition{}, domain.ErrInvalidCursor
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return domain.ChatPosition{}, domain.ErrInvalidCursor
	}
	return domain.ChatPosition{LastActivityAt: time.Unix(0, n).UTC(), ChatID: id}, nil
}
