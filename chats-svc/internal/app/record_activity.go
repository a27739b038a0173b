package app

import (
	"context"

	"github.com/convene/convene/chats-svc/internal/domain"
)

// RecordActivity moves the chats' latest activity forward (chats.v1 RecordActivity). Only
// a service may report activity: messages-svc, after messages commit. Malformed ids cannot
// name a chat and are skipped, like unknown chats.
func (a *App) RecordActivity(ctx context.Context, caller Caller, batch []domain.Activity) error {
	if !caller.Service {
		return domain.ErrForbidden
	}
	if len(batch) > domain.MaxActivityBatch {
		return domain.ErrTooManyActivities
	}
	valid := make([]domain.Activity, 0, len(batch))
	for _, act := range batch {
		if validID(act.ChatID) {
			valid = append(valid, act)
		}
	}
	return a.repo.RecordActivity(ctx, domain.CoalesceActivity(valid, a.now()))
}
