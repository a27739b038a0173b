package app

import (
	"context"
	"encoding/json"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// MaxChatEventBytes bounds a frame pushed by chats-svc (a chat with its last message fits).
const MaxChatEventBytes = 64 << 10

// PublishChatEvent delivers a frame built by chats-svc (chat_added, member changes) to the
// given users' sockets. The frame must be a JSON object with a string "type".
func (a *Application) PublishChatEvent(ctx context.Context, userIDs []string, frame []byte) error {
	if len(frame) > MaxChatEventBytes {
		return &domain.ValidationError{Code: "event_too_large", Message: "event exceeds 64 KiB"}
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(frame, &head); err != nil || head.Type == "" {
		return &domain.ValidationError{Code: "invalid_event", Message: "event must be a JSON object with a type"}
	}
	for _, id := range userIDs {
		if !domain.ValidID(id) {
			return &domain.ValidationError{Code: "invalid_user_id", Message: "user ids must be UUIDs"}
		}
	}
	return a.events.Publish(ctx, domain.Event{Kind: domain.EventRaw, Recipients: userIDs, Raw: frame})
}
