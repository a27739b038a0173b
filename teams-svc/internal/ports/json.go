package ports

import (
	"time"

	"github.com/convene/convene/teams-svc/internal/app"
	"github.com/convene/convene/teams-svc/internal/domain"
)

// The JSON shapes of API.md.

type teamJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	JoinCode    string    `json:"join_code"`
	CreatedAt   time.Time `json:"created_at"`
}

type teamWithRoleJSON struct {
	Team teamJSON `json:"team"`
	Role string   `json:"role"`
}

type userJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

type authorJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

type requestJSON struct {
	ID        string    `json:"id"`
	TeamID    string    `json:"team_id"`
	User      userJSON  `json:"user"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

type memberJSON struct {
	User     userJSON  `json:"user"`
	Role     string    `json:"role"`
	JoinedAt time.Time `json:"joined_at"`
}

type postJSON struct {
	ID           string     `json:"id"`
	TeamID       string     `json:"team_id"`
	Author       authorJSON `json:"author"`
	Text         string     `json:"text"`
	CommentCount int64      `json:"comment_count"`
	CreatedAt    time.Time  `json:"created_at"`
	EditedAt     *time.Time `json:"edited_at"`
}

type commentJSON struct {
	ID        string     `json:"id"`
	PostID    string     `json:"post_id"`
	Author    authorJSON `json:"author"`
	Text      string     `json:"text"`
	CreatedAt time.Time  `json:"created_at"`
	EditedAt  *time.Time `json:"edited_at"`
}

type listJSON[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func teamOf(v app.TeamView) teamWithRoleJSON {
	t := v.Team
	return teamWithRoleJSON{
		Team: teamJSON{ID: t.ID, Name: t.Name, Description: t.Description, JoinCode: t.JoinCode, CreatedAt: t.CreatedAt},
		Role: string(v.Role),
	}
}

func userOf(u domain.User) userJSON { return userJSON{ID: u.ID, Username: u.Username, Email: u.Email} }

func requestOf(v app.RequestView) requestJSON {
	r := v.Request
	return requestJSON{ID: r.ID, TeamID: r.TeamID, User: userOf(v.User), Status: string(r.Status), CreatedAt: r.CreatedAt}
}

func memberOf(v app.MemberView) memberJSON {
	return memberJSON{User: userOf(v.User), Role: string(v.Membership.Role), JoinedAt: v.Membership.JoinedAt}
}

func postOf(v app.PostView) postJSON {
	p := v.Post
	return postJSON{
		ID: p.ID, TeamID: p.TeamID, Author: authorJSON{ID: v.Author.ID, Username: v.Author.Username},
		Text: p.Text, CommentCount: p.CommentCount, CreatedAt: p.CreatedAt, EditedAt: p.EditedAt,
	}
}

func commentOf(v app.CommentView) commentJSON {
	c := v.Comment
	return commentJSON{
		ID: c.ID, PostID: c.PostID, Author: authorJSON{ID: v.Author.ID, Username: v.Author.Username},
		Text: c.Text, CreatedAt: c.CreatedAt, EditedAt: c.EditedAt,
	}
}

func listOf[V any, T any](p domain.Paged[V], conv func(V) T) listJSON[T] {
	out := listJSON[T]{Items: make([]T, len(p.Items)), NextCursor: p.Next}
	for i, v := range p.Items {
		out.Items[i] = conv(v)
	}
	return out
}
