package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// CreatePost posts text to the team. A retry with the same idempotency key returns the
// first post and created=false instead of posting twice.
func (a *App) CreatePost(ctx context.Context, actor, teamID, text, idempotencyKey string) (PostView, bool, error) {
	post, err := domain.NewPost(teamID, actor, text, a.now())
	if err != nil {
		return PostView{}, false, err
	}
	if _, err := a.member(ctx, teamID, actor); err != nil {
		return PostView{}, false, err
	}
	post, created, err := a.posts.CreatePost(ctx, post, idempotencyKey)
	if err != nil {
		return PostView{}, false, err
	}
	return PostView{Post: post, Author: a.resolveUser(ctx, actor)}, created, nil
}
