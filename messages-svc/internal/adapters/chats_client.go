package adapters

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/messages-svc/internal/domain"
	"github.com/convene/convene/platform/authn"
	chatsv1 "github.com/convene/convene/proto/chats/v1"
)

// ChatsClient is domain.Membership over chats-svc's gRPC API (which caches the answers in
// Redis); CachedMembership keeps them in this process too.
type ChatsClient struct {
	c chatsv1.ChatsServiceClient
	// self is this service's identity.
	self authn.Identity
}

// NewChatsClient wraps a chats.v1 client; service is this service's name.
func NewChatsClient(c chatsv1.ChatsServiceClient, service string) *ChatsClient {
	return &ChatsClient{c: c, self: authn.Identity{UserID: authn.ServicePrefix + service}}
}

// asService makes a call carry this service's identity rather than the end user's that ctx
// may hold: chats-svc then answers with the whole member list, the same for every caller,
// which is what can be cached and shared. The app checks the user against that list.
func (c *ChatsClient) asService(ctx context.Context) context.Context {
	return authn.WithIdentity(ctx, c.self)
}

// Members implements domain.Membership.
func (c *ChatsClient) Members(ctx context.Context, chatID string) ([]string, error) {
	resp, err := c.c.ListMembers(c.asService(ctx), &chatsv1.ListMembersRequest{ChatId: chatID})
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return nil, nil
		}
		return nil, rpcError("chats-svc", err)
	}
	return resp.GetUserIds(), nil
}

// IsMember implements domain.Membership.
func (c *ChatsClient) IsMember(ctx context.Context, chatID, userID string) (bool, error) {
	resp, err := c.c.IsMember(c.asService(ctx), &chatsv1.IsMemberRequest{ChatId: chatID, UserId: userID})
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return false, nil
		}
		return false, rpcError("chats-svc", err)
	}
	return resp.GetMember(), nil
}

// UserChats implements domain.Membership.
func (c *ChatsClient) UserChats(ctx context.Context, userID string) ([]string, error) {
	resp, err := c.c.ListUserChats(ctx, &chatsv1.ListUserChatsRequest{UserId: userID})
	if err != nil {
		return nil, rpcError("chats-svc", err)
	}
	return resp.GetChatIds(), nil
}

// rpcError reports a failed call to another service as ErrUnavailable: whatever went wrong
// there, this service cannot answer now, and its caller may retry.
func rpcError(service string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %s: %s", domain.ErrUnavailable, service, status.Convert(err).Message())
}
