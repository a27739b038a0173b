package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// EditPost replaces a post's text (its author only) and marks it edited.
func (a *App) EditPost(ctx context.Context, actor, teamID, postID, text string) (PostView, error) {
	if err := domain.CheckPostText(text); err != nil {
		return PostView{}, err
	}
	m, err := a.member(ctx, teamID, actor)
	if err != nil {
		return PostView{}, err
	}
	post, err := a.posts.Post(ctx, teamID, postID)
	if err != nil {
		return PostView{}, err
	}
	if err := post.CanEdit(m); err != nil {
		return PostView{}, err
	}
	now := a.now()
	post.Text, post.EditedAt = text, &now
	if err := a.posts.UpdatePost(ctx, post); err != nil {
		return PostView{}, err
	}
	return PostView{Post: post, Author: a.resolveUser(ctx, post.AuthorID)}, nil
}
