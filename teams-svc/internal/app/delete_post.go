package app

import (
	"context"
)

// DeletePost removes a post and its comments (its author or a team admin).
func (a *App) DeletePost(ctx context.Context, actor, teamID, postID string) error {
	m, err := a.member(ctx, teamID, actor)
	if err != nil {
		return err
	}
	post, err := a.posts.Post(ctx, teamID, postID)
	if err != nil {
		return err
	}
	if err := post.CanDelete(m); err != nil {
		return err
	}
	return a.posts.DeletePost(ctx, teamID, postID)
}
