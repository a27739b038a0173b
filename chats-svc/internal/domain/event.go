package domain

import (
	"encoding/json"
	"time"
)

// Event is a realtime frame on its way to users' sockets. It is written to the outbox in
// the transaction that changes the membership, so that a committed change always reaches
// the sockets (at least once), and a rolled-back one never does.
type Event struct {
	ID      string
	UserIDs []string
	// Frame is the JSON the client receives, in API.md's {type, ...} shape.
	Frame         []byte
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
}

// Frame types chats-svc emits. chat_added is API.md's; member_added and member_removed are
// chats-svc's own (chats-svc/README.md).
const (
	FrameChatAdded     = "chat_added"
	FrameMemberAdded   = "member_added"
	FrameMemberRemoved = "member_removed"
)

// chatFrame is the chat as a chat_added frame carries it: the chat's own fields. The
// recipient's last message and unread count are not known when the event is recorded; a
// client reads them with GET /api/v1/chats/{id}.
type chatFrame struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	CreatedBy string `json:"created_by"`
	CreatedAt string `json:"created_at"`
}

type chatAddedFrame struct {
	Type    string    `json:"type"`
	EventID string    `json:"event_id"`
	Chat    chatFrame `json:"chat"`
}

type memberFrame struct {
	Type    string `json:"type"`
	EventID string `json:"event_id"`
	ChatID  string `json:"chat_id"`
	UserID  string `json:"user_id"`
}

// NewChatAdded tells userIDs that they are now members of chat.
func NewChatAdded(id string, chat Chat, userIDs []string, now time.Time) Event {
	return newEvent(id, userIDs, now, chatAddedFrame{
		Type:    FrameChatAdded,
		EventID: id,
		Chat: chatFrame{
			ID:        chat.ID,
			Title:     chat.Title,
			CreatedBy: chat.CreatedBy,
			CreatedAt: chat.CreatedAt.UTC().Format(time.RFC3339Nano),
		},
	})
}

// NewMemberChanged tells userIDs that userID joined (FrameMemberAdded) or left
// (FrameMemberRemoved) the chat.
func NewMemberChanged(id, frameType, chatID, userID string, userIDs []string, now time.Time) Event {
	return newEvent(id, userIDs, now, memberFrame{Type: frameType, EventID: id, ChatID: chatID, UserID: userID})
}

func newEvent(id string, userIDs []string, now time.Time, frame any) Event {
	// The frames are structs of strings: marshalling cannot fail.
	b, _ := json.Marshal(frame)
	now = now.UTC().Truncate(time.Microsecond)
	return Event{ID: id, UserIDs: userIDs, Frame: b, NextAttemptAt: now, CreatedAt: now}
}
