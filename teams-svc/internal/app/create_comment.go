package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// CreateComment comments on a post; like CreatePost, a retry with the same idempotency
// key returns the first comment and created=false.
func (a *App) CreateComment(ctx context.Context, actor, teamID, postID, text, idempotencyKey string) (CommentView, bool, error) {
	c, err := domain.NewComment(teamID, postID, actor, text, a.now())
	if err != nil {
		return CommentView{}, false, err
	}
	if _, err := a.member(ctx, teamID, actor); err != nil {
		return CommentView{}, false, err
	}
	c, created, err := a.posts.CreateComment(ctx, c, idempotencyKey)
	if err != nil {
		return CommentView{}, false, err
	}
	return CommentView{Comment: c, Author: a.resolveUser(ctx, actor)}, created, nil
}
