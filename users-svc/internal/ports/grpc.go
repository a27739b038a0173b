package ports

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc/status"

	usersv1 "github.com/convene/convene/proto/users/v1"
	"github.com/convene/convene/users-svc/internal/app"
	"github.com/convene/convene/users-svc/internal/domain"
)

// GRPC serves users.v1. The server's interceptor (platform/grpcx) has already required a
// signed identity, a user's or a service's: account data is readable by any caller inside
// the cluster, which is what adding a member by email needs.
type GRPC struct {
	usersv1.UnimplementedUsersServiceServer
	app *app.Application
	log *slog.Logger
}

// NewGRPC returns the server.
func NewGRPC(a *app.Application, log *slog.Logger) *GRPC { return &GRPC{app: a, log: log} }

// GetUser implements usersv1.UsersServiceServer.
func (g *GRPC) GetUser(ctx context.Context, req *usersv1.GetUserRequest) (*usersv1.GetUserResponse, error) {
	u, err := g.app.User(ctx, req.GetId())
	if err != nil {
		return nil, g.status(ctx, err)
	}
	return &usersv1.GetUserResponse{User: toProto(u)}, nil
}

// GetUsers implements usersv1.UsersServiceServer.
func (g *GRPC) GetUsers(ctx context.Context, req *usersv1.GetUsersRequest) (*usersv1.GetUsersResponse, error) {
	users, err := g.app.Users(ctx, req.GetIds())
	if err != nil {
		return nil, g.status(ctx, err)
	}
	out := make([]*usersv1.User, len(users))
	for i, u := range users {
		out[i] = toProto(u)
	}
	return &usersv1.GetUsersResponse{Users: out}, nil
}

// GetUserByEmail implements usersv1.UsersServiceServer.
func (g *GRPC) GetUserByEmail(ctx context.Context, req *usersv1.GetUserByEmailRequest) (*usersv1.GetUserByEmailResponse, error) {
	u, err := g.app.UserByEmail(ctx, req.GetEmail())
	if err != nil {
		return nil, g.status(ctx, err)
	}
	return &usersv1.GetUserByEmailResponse{User: toProto(u)}, nil
}

func (g *GRPC) status(ctx context.Context, err error) error {
	code, msg, ok := grpcCode(err)
	if !ok {
		g.log.ErrorContext(ctx, "users.v1 call failed", "err", err)
	}
	return status.Error(code, msg)
}

func toProto(u domain.User) *usersv1.User {
	return &usersv1.User{Id: u.ID, Username: u.Username, Email: u.Email, CreatedAt: u.CreatedAt.UTC().Format(time.RFC3339)}
}
