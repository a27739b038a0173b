package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// ListPosts lists a team's posts, newest first, with their authors resolved in one
// batched users-svc call for the whole page.
func (a *App) ListPosts(ctx context.Context, actor, teamID string, p domain.Page) (domain.Paged[PostView], error) {
	if _, err := a.member(ctx, teamID, actor); err != nil {
		return domain.Paged[PostView]{}, err
	}
	res, err := a.posts.Posts(ctx, teamID, p)
	if err != nil {
		return domain.Paged[PostView]{}, err
	}
	ids := make([]string, len(res.Items))
	for i, post := range res.Items {
		ids[i] = post.AuthorID
	}
	users := a.resolveUsers(ctx, ids)
	out := domain.Paged[PostView]{Items: make([]PostView, len(res.Items)), Next: res.Next}
	for i, post := range res.Items {
		out.Items[i] = PostView{Post: post, Author: users[post.AuthorID]}
	}
	return out, nil
}

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
