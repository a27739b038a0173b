package app

import (
	"cmp"
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

// ListChats returns the user's chats ordered by latest activity: the time of the last
// message, or the chat's creation when it has none.
//
// messages-svc owns messages, so it alone knows each chat's latest activity. Rather than
// keep a copy in chats-svc (a write here per message sent, and a list that is wrong
// whenever a notification is lost), the order is computed from one GetChatSummaries call
// over all of the user's chats, which also yields the page's last messages and unread
// counts. Its cost grows with the user's chat count, which is why that count is capped
// (domain.MaxChatsPerUser, the most one call answers for).
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
	var cursor *position
	if q.Before != "" {
		p, err := decodeCursor(q.Before)
		if err != nil {
			return ChatPage{}, err
		}
		cursor = &p
	}
	chats, err := a.repo.UserChats(ctx, q.UserID)
	if err != nil || len(chats) == 0 {
		return ChatPage{Items: []ChatView{}}, err
	}
	ids := make([]string, len(chats))
	for i, c := range chats {
		ids[i] = c.ID
	}
	summaries, err := a.messages.Summaries(ctx, q.UserID, ids)
	if err != nil {
		return ChatPage{}, err
	}
	type entry struct {
		pos     position
		chat    domain.Chat
		summary domain.Summary
	}
	entries := make([]entry, 0, len(chats))
	for _, c := range chats {
		s := summaries[c.ID]
		activity := c.CreatedAt
		if s.LastMessage != nil {
			activity = s.LastMessage.CreatedAt
		}
		p := position{activity: activity.UTC(), chatID: c.ID}
		if cursor == nil || p.compare(*cursor) < 0 {
			entries = append(entries, entry{pos: p, chat: c, summary: s})
		}
	}
	slices.SortFunc(entries, func(x, y entry) int { return y.pos.compare(x.pos) })

	var page ChatPage
	if len(entries) > limit {
		entries = entries[:limit]
		page.NextCursor = entries[limit-1].pos.encode()
	}
	views := make([]ChatView, len(entries))
	for i, e := range entries {
		views[i] = ChatView{Chat: e.chat, UnreadCount: e.summary.UnreadCount}
		if m := e.summary.LastMessage; m != nil {
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

// position is a chat's place in the list: by latest activity, ties broken by id.
type position struct {
	activity time.Time
	chatID   string
}

func (p position) compare(o position) int {
	if c := p.activity.Compare(o.activity); c != 0 {
		return c
	}
	return cmp.Compare(p.chatID, o.chatID)
}

// encode makes the opaque cursor clients pass back as ?before=.
func (p position) encode() string {
	raw := strconv.FormatInt(p.activity.UnixNano(), 10) + "." + p.chatID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (position, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return position{}, domain.ErrInvalidCursor
	}
	ns, id, ok := strings.Cut(string(raw), ".")
	if !ok || !validID(id) {
		return position{}, domain.ErrInvalidCursor
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return position{}, domain.ErrInvalidCursor
	}
	return position{activity: time.Unix(0, n).UTC(), chatID: id}, nil
}
