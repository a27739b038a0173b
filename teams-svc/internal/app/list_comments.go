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
