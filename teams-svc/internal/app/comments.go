package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// ListComments lists a post's comments, oldest first.
func (a *App) ListComments(ctx context.Context, actor, teamID, postID string, p domain.Page) (domain.Paged[CommentView], error) {
	if _, err := a.member(ctx, teamID, actor); err != nil {
		return domain.Paged[CommentView]{}, err
	}
	if _, err := a.posts.Post(ctx, teamID, postID); err != nil {
		return domain.Paged[CommentView]{}, err
	}
	res, err := a.posts.Comments(ctx, teamID, postID, p)
	if err != nil {
		return domain.Paged[CommentView]{}, err
	}
	ids := make([]string, len(res.Items))
	for i, c := range res.Items {
		ids[i] = c.AuthorID
	}
	users := a.resolveUsers(ctx, ids)
	out := domain.Paged[CommentView]{Items: make([]CommentView, len(res.Items)), Next: res.Next}
	for i, c := range res.Items {
		out.Items[i] = CommentView{Comment: c, Author: users[c.AuthorID]}
	}
	return out, nil
}

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
