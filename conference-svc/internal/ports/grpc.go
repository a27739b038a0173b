package ports

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/conference-svc/internal/app"
	"github.com/convene/convene/platform/authn"
	conferencev1 "github.com/convene/convene/proto/conference/v1"
)

// GRPC serves conference.v1 to other services.
type GRPC struct {
	conferencev1.UnimplementedConferenceServiceServer
	app *app.App
}

// NewGRPC returns the conference.v1 server over the use cases.
func NewGRPC(a *app.App) *GRPC { return &GRPC{app: a} }

// DeleteTeamConferences implements conference.v1: teams-svc calls it when a team is deleted.
func (g *GRPC) DeleteTeamConferences(ctx context.Context, req *conferencev1.DeleteTeamConferencesRequest) (*conferencev1.DeleteTeamConferencesResponse, error) {
	id, ok := authn.FromContext(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "identity required")
	}
	if req.GetTeamId() == "" {
		return nil, status.Error(codes.InvalidArgument, "team_id is required")
	}
	n, err := g.app.DeleteTeamConferences(ctx, req.GetTeamId(), id.UserID)
	if err != nil {
		return nil, grpcError(err)
	}
	return &conferencev1.DeleteTeamConferencesResponse{Deleted: int64(n)}, nil
}
