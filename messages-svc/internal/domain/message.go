// Package domain holds messages-svc's types and rules: messages with their per-chat sequence,
// read positions, and the interfaces the use cases need from the outside world.
package domain

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of a message, from API.md.
const (
	MaxTextLength        = 10000
	MaxClientMsgIDLength = 64
)

// Message is one chat message. Seq is its gap-free position in the chat, assigned by the
// repository in the transaction that stores it.
type Message struct {
	ID          string
	ChatID      string
	Seq         int64
	SenderID    string
	Text        string
	ClientMsgID string
	CreatedAt   time.Time
	// EditedAt is nil until the sender edits the text.
	EditedAt *time.Time
	// Deleted marks a tombstone: the text is gone, the seq stays so that the order has no hole.
	Deleted bool
}

// NewMessageParams is what a sender supplies, plus the server-chosen id and time.
type NewMessageParams struct {
	ID          string
	ChatID      string
	SenderID    string
	Text        string
	ClientMsgID string
	Now         time.Time
}

// NewMessage validates a message to send. Seq is left to the repository.
func NewMessage(p NewMessageParams) (Message, error) {
	if err := ValidateText(p.Text); err != nil {
		return Message{}, err
	}
	if err := ValidateClientMsgID(p.ClientMsgID); err != nil {
		return Message{}, err
	}
	return Message{
		ID:          p.ID,
		ChatID:      p.ChatID,
		SenderID:    p.SenderID,
		Text:        p.Text,
		ClientMsgID: p.ClientMsgID,
		CreatedAt:   Timestamp(p.Now),
	}, nil
}

// ValidateText enforces 1–10000 characters (counted as Unicode code points, as a user
// counts them) and valid UTF-8; a text of only blanks is empty.
func ValidateText(text string) error {
	if strings.TrimSpace(text) == "" {
		return invalid("text_required", "text is required")
	}
	if !utf8.ValidString(text) {
		return invalid("invalid_text", "text must be valid UTF-8")
	}
	if utf8.RuneCountInString(text) > MaxTextLength {
		return invalid("text_too_long", fmt.Sprintf("text exceeds %d characters", MaxTextLength))
	}
	return nil
}

// ValidateClientMsgID enforces a client-chosen idempotency key of 1–64 characters.
func ValidateClientMsgID(id string) error {
	if strings.TrimSpace(id) == "" {
		return invalid("client_msg_id_required", "client_msg_id is required")
	}
	if len(id) > MaxClientMsgIDLength || !utf8.ValidString(id) {
		return invalid("client_msg_id_too_long", fmt.Sprintf("client_msg_id exceeds %d characters", MaxClientMsgIDLength))
	}
	return nil
}

// Edit replaces the text; only the sender may, and not once the message is deleted.
func (m *Message) Edit(editor, text string, now time.Time) error {
	if m.SenderID != editor {
		return ErrForbidden
	}
	if m.Deleted {
		return ErrMessageDeleted
	}
	if err := ValidateText(text); err != nil {
		return err
	}
	t := Timestamp(now)
	m.Text = text
	m.EditedAt = &t
	return nil
}

// Delete turns the message into a tombstone; only the sender may. Deleting a tombstone
// again is allowed and changes nothing, so that a retried DELETE answers the same.
func (m *Message) Delete(deleter string) error {
	if m.SenderID != deleter {
		return ErrForbidden
	}
	m.Deleted = true
	m.Text = ""
	return nil
}

// Timestamp normalises a time to what both databases store exactly: UTC, microseconds.
func Timestamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
