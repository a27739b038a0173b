package ports

import (
	"time"

	"github.com/convene/convene/chats-svc/internal/app"
	"github.com/convene/convene/chats-svc/internal/domain"
)

// The JSON shapes of API.md.

type userJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

type senderJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

type messageJSON struct {
	ID          string     `json:"id"`
	ChatID      string     `json:"chat_id"`
	Seq         int64      `json:"seq"`
	Sender      senderJSON `json:"sender"`
	Text        string     `json:"text"`
	ClientMsgID string     `json:"client_msg_id"`
	CreatedAt   string     `json:"created_at"`
	EditedAt    *string    `json:"edited_at"`
	Deleted     bool       `json:"deleted"`
	// ReadBy is always empty here: messages.v1's chat summary does not carry receipts.
	// GET /api/v1/chats/{id}/messages (messages-svc) gives them.
	ReadBy []string `json:"read_by"`
}

type chatJSON struct {
	ID          string       `json:"id"`
	Title       string       `json:"title"`
	CreatedBy   string       `json:"created_by"`
	CreatedAt   string       `json:"created_at"`
	LastMessage *messageJSON `json:"last_message"`
	UnreadCount int64        `json:"unread_count"`
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func toUserJSON(u domain.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Email: u.Email}
}

func toChatJSON(v app.ChatView) chatJSON {
	out := chatJSON{
		ID:          v.Chat.ID,
		Title:       v.Chat.Title,
		CreatedBy:   v.Chat.CreatedBy,
		CreatedAt:   formatTime(v.Chat.CreatedAt),
		UnreadCount: v.UnreadCount,
	}
	if m := v.LastMessage; m != nil {
		msg := messageJSON{
			ID:          m.ID,
			ChatID:      m.ChatID,
			Seq:         m.Seq,
			Sender:      senderJSON{ID: m.Sender.ID, Username: m.Sender.Username},
			Text:        m.Text,
			ClientMsgID: m.ClientMsgID,
			CreatedAt:   formatTime(m.CreatedAt),
			Deleted:     m.Deleted,
			ReadBy:      []string{},
		}
		if !m.EditedAt.IsZero() {
			e := formatTime(m.EditedAt)
			msg.EditedAt = &e
		}
		out.LastMessage = &msg
	}
	return out
}
