// Package wire holds the JSON shapes of API.md that messages-svc speaks — the message
// object, the socket frames — and the envelope that carries frames between instances. HTTP
// responses, socket frames and bus events share them so that a message looks the same
// wherever a client receives it.
package wire

import (
	"encoding/json"
	"time"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// User is the sender of a message.
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

// Message is API.md's message object.
type Message struct {
	ID          string   `json:"id"`
	ChatID      string   `json:"chat_id"`
	Seq         int64    `json:"seq"`
	Sender      User     `json:"sender"`
	Text        string   `json:"text"`
	ClientMsgID string   `json:"client_msg_id"`
	CreatedAt   string   `json:"created_at"`
	EditedAt    *string  `json:"edited_at"`
	Deleted     bool     `json:"deleted"`
	ReadBy      []string `json:"read_by"`
}

// FormatTime renders a time as RFC 3339 UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// NewMessage renders a message view.
func NewMessage(v domain.MessageView) Message {
	m := Message{
		ID:          v.ID,
		ChatID:      v.ChatID,
		Seq:         v.Seq,
		Sender:      User{ID: v.SenderID, Username: v.SenderName},
		Text:        v.Text,
		ClientMsgID: v.ClientMsgID,
		CreatedAt:   FormatTime(v.CreatedAt),
		Deleted:     v.Deleted,
		ReadBy:      v.ReadBy,
	}
	if m.ReadBy == nil {
		m.ReadBy = []string{}
	}
	if v.EditedAt != nil {
		s := FormatTime(*v.EditedAt)
		m.EditedAt = &s
	}
	return m
}

// Frame types of API.md's realtime socket.
const (
	TypeSend           = "send"
	TypeRead           = "read"
	TypeTyping         = "typing"
	TypeResume         = "resume"
	TypeAck            = "ack"
	TypeMessage        = "message"
	TypeMessageEdited  = "message_edited"
	TypeMessageDeleted = "message_deleted"
	TypeError          = "error"
)

// ClientFrame is any client → server frame; which fields count depends on Type.
type ClientFrame struct {
	Type        string `json:"type"`
	ChatID      string `json:"chat_id"`
	Text        string `json:"text"`
	ClientMsgID string `json:"client_msg_id"`
	Seq         int64  `json:"seq"`
	AfterSeq    int64  `json:"after_seq"`
}

// AckFrame answers a send on the socket that sent it.
type AckFrame struct {
	Type        string  `json:"type"`
	ClientMsgID string  `json:"client_msg_id"`
	Message     Message `json:"message"`
}

// MessageFrame carries a new message (type "message") or an edited one ("message_edited").
type MessageFrame struct {
	Type    string  `json:"type"`
	Message Message `json:"message"`
}

// DeletedFrame says a message became a tombstone.
type DeletedFrame struct {
	Type      string `json:"type"`
	ChatID    string `json:"chat_id"`
	MessageID string `json:"message_id"`
}

// ReadFrame says a member read up to Seq.
type ReadFrame struct {
	Type   string `json:"type"`
	ChatID string `json:"chat_id"`
	UserID string `json:"user_id"`
	Seq    int64  `json:"seq"`
}

// TypingFrame says a member is typing.
type TypingFrame struct {
	Type   string `json:"type"`
	ChatID string `json:"chat_id"`
	UserID string `json:"user_id"`
}

// ErrorFrame reports a frame the server refused; ChatID and ClientMsgID, when the refused
// frame had them, let the client tell which one.
type ErrorFrame struct {
	Type        string `json:"type"`
	Code        string `json:"code"`
	Message     string `json:"message"`
	ChatID      string `json:"chat_id,omitempty"`
	ClientMsgID string `json:"client_msg_id,omitempty"`
}

// Encode marshals a frame. Frames are structs of strings, numbers and slices, which always
// marshal.
func Encode(frame any) []byte {
	b, _ := json.Marshal(frame)
	return b
}
