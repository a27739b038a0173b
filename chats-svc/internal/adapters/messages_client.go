package adapters

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/chats-svc/internal/domain"
	messagesv1 "github.com/convene/convene/proto/messages/v1"
)

// maxSummariesResponse lets GetChatSummaries answer for a full page of the chat list:
// app.MaxPageSize last messages of up to 10,000 characters (40 KB in UTF-8) each outgrow
// gRPC's default 4 MiB.
const maxSummariesResponse = 16 << 20

// MessagesClient is domain.MessageSummaries and domain.EventPublisher over messages.v1.
type MessagesClient struct {
	c messagesv1.MessagesServiceClient
}

// NewMessagesClient wraps a messages.v1 client.
func NewMessagesClient(c messagesv1.MessagesServiceClient) *MessagesClient {
	return &MessagesClient{c: c}
}

var (
	_ domain.MessageSummaries = (*MessagesClient)(nil)
	_ domain.EventPublisher   = (*MessagesClient)(nil)
)

// Summaries implements domain.MessageSummaries.
func (m *MessagesClient) Summaries(ctx context.Context, userID string, chatIDs []string) (map[string]domain.Summary, error) {
	resp, err := m.c.GetChatSummaries(ctx,
		&messagesv1.GetChatSummariesRequest{UserId: userID, ChatIds: chatIDs},
		grpc.MaxCallRecvMsgSize(maxSummariesResponse))
	if err != nil {
		return nil, fmt.Errorf("%w: messages-svc GetChatSummaries: %v", domain.ErrUnavailable, err)
	}
	out := make(map[string]domain.Summary, len(resp.GetSummaries()))
	for _, s := range resp.GetSummaries() {
		sum := domain.Summary{UnreadCount: s.GetUnreadCount()}
		if pm := s.GetLastMessage(); pm != nil {
			msg, err := messageFromProto(pm)
			if err != nil {
				return nil, fmt.Errorf("%w: messages-svc GetChatSummaries: %v", domain.ErrUnavailable, err)
			}
			sum.LastMessage = &msg
		}
		out[s.GetChatId()] = sum
	}
	return out, nil
}

// Publish implements domain.EventPublisher.
func (m *MessagesClient) Publish(ctx context.Context, userIDs []string, frame []byte) error {
	_, err := m.c.PublishChatEvent(ctx, &messagesv1.PublishChatEventRequest{UserIds: userIDs, EventJson: frame})
	switch status.Code(err) {
	case codes.OK:
		return nil
	case codes.InvalidArgument:
		return fmt.Errorf("%w: %v", domain.ErrEventRejected, err)
	default:
		return fmt.Errorf("%w: messages-svc PublishChatEvent: %v", domain.ErrUnavailable, err)
	}
}

func messageFromProto(pm *messagesv1.Message) (domain.Message, error) {
	created, err := time.Parse(time.RFC3339Nano, pm.GetCreatedAt())
	if err != nil {
		return domain.Message{}, fmt.Errorf("message %s: created_at %q is not RFC 3339", pm.GetId(), pm.GetCreatedAt())
	}
	msg := domain.Message{
		ID:          pm.GetId(),
		ChatID:      pm.GetChatId(),
		Seq:         pm.GetSeq(),
		SenderID:    pm.GetSenderId(),
		Text:        pm.GetText(),
		ClientMsgID: pm.GetClientMsgId(),
		CreatedAt:   created.UTC(),
		Deleted:     pm.GetDeleted(),
	}
	if e := pm.GetEditedAt(); e != "" {
		edited, err := time.Parse(time.RFC3339Nano, e)
		if err != nil {
			return domain.Message{}, fmt.Errorf("message %s: edited_at %q is not RFC 3339", pm.GetId(), e)
		}
		msg.EditedAt = edited.UTC()
	}
	return msg, nil
}
