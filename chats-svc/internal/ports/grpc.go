package ports

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/chats-svc/internal/app"
	"github.com/convene/convene/chats-svc/internal/domain"
	"github.com/convene/convene/platform/authn"
	chatsv1 "github.com/convene/convene/proto/chats/v1"
)

// GRPCServer serves chats.v1 to messages-svc.
type GRPCServer struct {
	chatsv1.UnimplementedChatsServiceServer
	app *app.App
	log *slog.Logger
}

// NewGRPCServer returns the chats.v1 server.
func NewGRPCServer(a *app.App, log *slog.Logger) *GRPCServer {
	return &GRPCServer{app: a, log: log}
}

// IsMember implements chatsv1.ChatsServiceServer.
func (s *GRPCServer) IsMember(ctx context.Context, req *chatsv1.IsMemberRequest) (*chatsv1.IsMemberResponse, error) {
	if req.GetChatId() == "" || req.GetUserId() == "" {
		return nil, status.Error(codes.InvalidArgument, "chat_id and user_id are required")
	}
	ok, err := s.app.IsMember(ctx, caller(ctx), req.GetChatId(), req.GetUserId())
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	return &chatsv1.IsMemberResponse{Member: ok}, nil
}

// ListMembers implements chatsv1.ChatsServiceServer.
func (s *GRPCServer) ListMembers(ctx context.Context, req *chatsv1.ListMembersRequest) (*chatsv1.ListMembersResponse, error) {
	if req.GetChatId() == "" {
		return nil, status.Error(codes.InvalidArgument, "chat_id is required")
	}
	ids, err := s.app.ListMembers(ctx, caller(ctx), req.GetChatId())
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	return &chatsv1.ListMembersResponse{UserIds: ids}, nil
}

// ListUserChats implements chatsv1.ChatsServiceServer.
func (s *GRPCServer) ListUserChats(ctx context.Context, req *chatsv1.ListUserChatsRequest) (*chatsv1.ListUserChatsResponse, error) {
	if req.GetUserId() == "" {
		return nil, status.Error(codes.InvalidArgument, "user_id is required")
	}
	ids, err := s.app.ListUserChats(ctx, caller(ctx), req.GetUserId())
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	return &chatsv1.ListUserChatsResponse{ChatIds: ids}, nil
}

// RecordActivity implements chatsv1.ChatsServiceServer.
func (s *GRPCServer) RecordActivity(ctx context.Context, req *chatsv1.RecordActivityRequest) (*chatsv1.RecordActivityResponse, error) {
	batch := make([]domain.Activity, len(req.GetActivities()))
	for i, a := range req.GetActivities() {
		at, err := time.Parse(time.RFC3339Nano, a.GetLastActivityAt())
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "activities[%d].last_activity_at %q is not RFC 3339", i, a.GetLastActivityAt())
		}
		batch[i] = domain.Activity{ChatID: a.GetChatId(), At: at}
	}
	if err := s.app.RecordActivity(ctx, caller(ctx), batch); err != nil {
		return nil, s.toStatus(ctx, err)
	}
	return &chatsv1.RecordActivityResponse{}, nil
}

// caller is the identity grpcx's server interceptor verified: every call has one.
func caller(ctx context.Context) app.Caller {
	id, _ := authn.FromContext(ctx)
	return app.Caller{UserID: id.UserID, Service: id.IsService()}
}

func (s *GRPCServer) toStatus(ctx context.Context, err error) error {
	code := toGRPCCode(err)
	if code == codes.Internal {
		s.log.ErrorContext(ctx, "chats.v1 call failed", "err", err)
		return status.Error(codes.Internal, "internal error")
	}
	return status.Error(code, err.Error())
}
