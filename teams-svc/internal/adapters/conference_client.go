package adapters

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	conferencev1 "github.com/convene/convene/proto/conference/v1"
	"github.com/convene/convene/teams-svc/internal/domain"
)

// ConferenceNotifier implements domain.TeamDeletionNotifier over conference-svc's gRPC
// API. DeleteTeamConferences is idempotent on the receiver, so a retried call is safe.
type ConferenceNotifier struct {
	client conferencev1.ConferenceServiceClient
}

// NewConferenceNotifier wraps a conference-svc client.
func NewConferenceNotifier(client conferencev1.ConferenceServiceClient) *ConferenceNotifier {
	return &ConferenceNotifier{client: client}
}

var _ domain.TeamDeletionNotifier = (*ConferenceNotifier)(nil)

// TeamDeleted implements domain.TeamDeletionNotifier. NOT_FOUND (a team conference-svc
// never heard of) is an acknowledgement too: there is nothing left to delete.
func (n *ConferenceNotifier) TeamDeleted(ctx context.Context, teamID string) error {
	_, err := n.client.DeleteTeamConferences(ctx, &conferencev1.DeleteTeamConferencesRequest{TeamId: teamID})
	if status.Code(err) == codes.NotFound {
		return nil
	}
	return err
}
