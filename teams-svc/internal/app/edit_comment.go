package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// EditComment replaces a comment's text (its author only) and marks it edited.
func (a *App) EditComment(ctx context.Context, actor, teamID, postID, commentID, text string) (CommentView, error) {
	if err := domain.CheckPostText(text); err != nil {
		return CommentView{}, err
	}
	m, err := a.member(ctx, teamID, actor)
	if err != nil {
		return CommentView{}, err
	}
	c, err := a.posts.Comment(ctx, teamID, postID, commentID)
	if err != nil {
		return CommentView{}, err
	}
	if err := c.CanEdit(m); err != nil {
		return CommentView{}, err
	}
	now := a.now()
	c.Text, c.EditedAt = text, &now
	if err := a.posts.UpdateComment(ctx, c); err != nil {
		return CommentView{}, err
	}
	return CommentView{Comment: c, Author: a.resolveUser(ctx, c.AuthorID)}, nil
}
