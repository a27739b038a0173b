package adapters

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/chats-svc/internal/domain"
	usersv1 "github.com/convene/convene/proto/users/v1"
)

// UsersClient is domain.UserDirectory over users.v1.
type UsersClient struct{ c usersv1.UsersServiceClient }

// NewUsersClient wraps a users.v1 client.
func NewUsersClient(c usersv1.UsersServiceClient) *UsersClient { return &UsersClient{c: c} }

var _ domain.UserDirectory = (*UsersClient)(nil)

// UserByEmail implements domain.UserDirectory.
func (u *UsersClient) UserByEmail(ctx context.Context, email string) (domain.User, error) {
	resp, err := u.c.GetUserByEmail(ctx, &usersv1.GetUserByEmailRequest{Email: email})
	if err != nil {
		switch status.Code(err) {
		// users-svc may also refuse an address it finds malformed: no account has it.
		case codes.NotFound, codes.InvalidArgument:
			return domain.User{}, domain.ErrUserNotFound
		default:
			return domain.User{}, fmt.Errorf("%w: users-svc GetUserByEmail: %v", domain.ErrUnavailable, err)
		}
	}
	if resp.GetUser().GetId() == "" {
		return domain.User{}, domain.ErrUserNotFound
	}
	return userFromProto(resp.GetUser()), nil
}

// Users implements domain.UserDirectory.
func (u *UsersClient) Users(ctx context.Context, ids []string) ([]domain.User, error) {
	resp, err := u.c.GetUsers(ctx, &usersv1.GetUsersRequest{Ids: ids})
	if err != nil {
		return nil, fmt.Errorf("%w: users-svc GetUsers: %v", domain.ErrUnavailable, err)
	}
	out := make([]domain.User, len(resp.GetUsers()))
	for i, pu := range resp.GetUsers() {
		out[i] = userFromProto(pu)
	}
	return out, nil
}

func userFromProto(u *usersv1.User) domain.User {
	return domain.User{ID: u.GetId(), Username: u.GetUsername(), Email: u.GetEmail()}
}
