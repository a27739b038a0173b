package ports

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/messages-svc/internal/app"
	"github.com/convene/convene/messages-svc/internal/domain"
	"github.com/convene/convene/messages-svc/internal/wire"
	"github.com/convene/convene/platform/authn"
	messagesv1 "github.com/convene/convene/proto/messages/v1"
)

// GRPC serves messages.v1 to chats-svc. Every call carries an identity signed with the
// internal secret (checked by the grpcx interceptor): chats-svc's own, or the end user's it
// acts for.
type GRPC struct {
	messagesv1.UnimplementedMessagesServiceServer
	app *app.Application
}

// NewGRPC returns the gRPC port.
func NewGRPC(a *app.Application) *GRPC { return &GRPC{app: a} }

// GetChatSummaries implements messagesv1.MessagesServiceServer. A user may only ask for
// their own unread counts; a service may ask for anyone's.
func (g *GRPC) GetChatSummaries(ctx context.Context, req *messagesv1.GetChatSummariesRequest) (*messagesv1.GetChatSummariesResponse, error) {
	if id, ok := authn.FromContext(ctx); !ok || (!id.IsService() && id.UserID != req.GetUserId()) {
		return nil, status.Error(codes.PermissionDenied, "summaries of another user")
	}
	sums, err := g.app.ChatSummaries(ctx, req.GetUserId(), req.GetChatIds())
	if err != nil {
		return nil, grpcError(err)
	}
	out := &messagesv1.GetChatSummariesResponse{Summaries: make([]*messagesv1.ChatSummary, len(sums))}
	for i, s := range sums {
		out.Summaries[i] = &messagesv1.ChatSummary{ChatId: s.ChatID, UnreadCount: s.UnreadCount}
		if s.LastMessage != nil {
			out.Summaries[i].LastMessage = toProto(*s.LastMessage)
		}
	}
	return out, nil
}

// PublishChatEvent implements messagesv1.MessagesServiceServer.
func (g *GRPC) PublishChatEvent(ctx context.Context, req *messagesv1.PublishChatEventRequest) (*messagesv1.PublishChatEventResponse, error) {
	if err := g.app.PublishChatEvent(ctx, req.GetUserIds(), req.GetEventJson()); err != nil {
		return nil, grpcError(err)
	}
	return &messagesv1.PublishChatEventResponse{}, nil
}

func toProto(m domain.Message) *messagesv1.Message {
	out := &messagesv1.Message{
		Id: m.ID, ChatId: m.ChatID, Seq: m.Seq, SenderId: m.SenderID, Text: m.Text,
		ClientMsgId: m.ClientMsgID, CreatedAt: wire.FormatTime(m.CreatedAt), Deleted: m.Deleted,
	}
	if m.EditedAt != nil {
		out.EditedAt = wire.FormatTime(*m.EditedAt)
	}
	return out
}
