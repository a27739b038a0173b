package ports

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/platform/authn"
	teamsv1 "github.com/convene/convene/proto/teams/v1"
	"github.com/convene/convene/teams-svc/internal/app"
	"github.com/convene/convene/teams-svc/internal/domain"
)

// GRPC serves teams.v1 to other services.
type GRPC struct {
	teamsv1.UnimplementedTeamsServiceServer
	app *app.App
}

// NewGRPC returns the teams.v1 server.
func NewGRPC(a *app.App) *GRPC { return &GRPC{app: a} }

// caller is the identity grpcx verified: a service's own, or an end user's passed on.
func caller(ctx context.Context) (app.Caller, error) {
	id, ok := authn.FromContext(ctx)
	if !ok {
		return app.Caller{}, status.Error(codes.Unauthenticated, "missing identity")
	}
	return app.Caller{UserID: id.UserID, Service: id.IsService()}, nil
}

// GetMembership implements teams.v1: NOT_FOUND for no such team, member=false for a
// team the user does not belong to.
func (g *GRPC) GetMembership(ctx context.Context, req *teamsv1.GetMembershipRequest) (*teamsv1.GetMembershipResponse, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !domain.ValidID(req.GetTeamId()) || !domain.ValidID(req.GetUserId()) {
		return nil, status.Error(codes.InvalidArgument, "team_id and user_id must be ids")
	}
	m, err := g.app.Membership(ctx, who, req.GetTeamId(), req.GetUserId())
	if errors.Is(err, domain.ErrNotMember) {
		return &teamsv1.GetMembershipResponse{Member: false}, nil
	}
	if err != nil {
		return nil, grpcError(err)
	}
	return &teamsv1.GetMembershipResponse{Member: true, Role: roleOf(m.Role)}, nil
}

// ListMembers implements teams.v1.
func (g *GRPC) ListMembers(ctx context.Context, req *teamsv1.ListMembersRequest) (*teamsv1.ListMembersResponse, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !domain.ValidID(req.GetTeamId()) {
		return nil, status.Error(codes.InvalidArgument, "team_id must be an id")
	}
	members, err := g.app.AllMembers(ctx, who, req.GetTeamId())
	if err != nil {
		return nil, grpcError(err)
	}
	out := &teamsv1.ListMembersResponse{Members: make([]*teamsv1.Member, len(members))}
	for i, m := range members {
		out.Members[i] = &teamsv1.Member{UserId: m.UserID, Role: roleOf(m.Role)}
	}
	return out, nil
}

func roleOf(r domain.Role) teamsv1.Role {
	if r == domain.RoleAdmin {
		return teamsv1.Role_ROLE_ADMIN
	}
	return teamsv1.Role_ROLE_MEMBER
}
