package app

import (
	"context"
	"encoding/json"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// MaxChatEventBytes bounds a frame pushed by chats-svc (a chat with its last message fits).
const MaxChatEventBytes = 64 << 10

// Frame types of chats-svc's membership events: each means the chat's members changed.
const (
	frameChatAdded     = "chat_added"
	frameMemberAdded   = "member_added"
	frameMemberRemoved = "member_removed"
)

// PublishChatEvent delivers a frame built by chats-svc (chat_added, member changes) to the
// given users' sockets. The frame must be a JSON object with a string "type".
//
// A membership event first makes every instance forget the chat's cached members, and only
// then goes to the sockets: a removed member who sees member_removed receives nothing sent
// after it, and an added one sees everything. When that announcement fails, so does the
// call, and chats-svc retries it.
func (a *Application) PublishChatEvent(ctx context.Context, userIDs []string, frame []byte) error {
	if len(frame) > MaxChatEventBytes {
		return &domain.ValidationError{Code: "event_too_large", Message: "event exceeds 64 KiB"}
	}
	var head struct {
		Type   string `json:"type"`
		ChatID string `json:"chat_id"`
		Chat   *struct {
			ID string `json:"id"`
		} `json:"chat"`
	}
	if err := json.Unmarshal(frame, &head); err != nil || head.Type == "" {
		return &domain.ValidationError{Code: "invalid_event", Message: "event must be a JSON object with a type"}
	}
	for _, id := range userIDs {
		if !domain.ValidID(id) {
			return &domain.ValidationError{Code: "invalid_user_id", Message: "user ids must be UUIDs"}
		}
	}
	switch head.Type {
	case frameChatAdded, frameMemberAdded, frameMemberRemoved:
		chatID := head.ChatID
		if head.Type == frameChatAdded && head.Chat != nil {
			chatID = head.Chat.ID
		}
		if !domain.ValidID(chatID) {
			return &domain.ValidationError{Code: "invalid_chat_id", Message: head.Type + " must name its chat by a UUID"}
		}
		if err := a.events.Publish(ctx, domain.Event{Kind: domain.EventMembersChanged, ChatID: chatID}); err != nil {
			return err
		}
	}
	return a.events.Publish(ctx, domain.Event{Kind: domain.EventRaw, Recipients: userIDs, Raw: frame})
}
