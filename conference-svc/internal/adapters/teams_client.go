package adapters

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/conference-svc/internal/domain"
	teamsv1 "github.com/convene/convene/proto/teams/v1"
)

// Memberships asks teams-svc who belongs to a team.
type Memberships struct{ client teamsv1.TeamsServiceClient }

// NewMemberships wraps a teams.v1 client (grpcx.Dial "teams-svc").
func NewMemberships(c teamsv1.TeamsServiceClient) *Memberships { return &Memberships{client: c} }

var _ domain.Memberships = (*Memberships)(nil)

// Membership implements domain.Memberships.
func (m *Memberships) Membership(ctx context.Context, teamID, userID string) (domain.TeamRole, error) {
	resp, err := m.client.GetMembership(ctx, &teamsv1.GetMembershipRequest{TeamId: teamID, UserId: userID})
	switch status.Code(err) {
	case codes.OK:
	case codes.NotFound:
		return "", domain.ErrNotFound
	case codes.InvalidArgument:
		// teams-svc rejects ids it could never have issued: no such team.
		return "", domain.ErrNotFound
	default:
		return "", fmt.Errorf("%w: teams-svc GetMembership: %v", domain.ErrUnavailable, err)
	}
	if !resp.GetMember() {
		return "", domain.ErrNotMember
	}
	if resp.GetRole() == teamsv1.Role_ROLE_ADMIN {
		return domain.TeamAdmin, nil
	}
	return domain.TeamMember, nil
}
