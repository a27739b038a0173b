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
