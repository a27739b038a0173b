package app

import (
	"context"
)

// DeleteComment removes a comment (its author or a team admin).
func (a *App) DeleteComment(ctx context.Context, actor, teamID, postID, commentID string) error {
	m, err := a.member(ctx, teamID, actor)
	if err != nil {
		return err
	}
	c, err := a.posts.Comment(ctx, teamID, postID, commentID)
	if err != nil {
		return err
	}
	if err := c.CanDelete(m); err != nil {
		return err
	}
	return a.posts.DeleteComment(ctx, teamID, postID, commentID)
}
