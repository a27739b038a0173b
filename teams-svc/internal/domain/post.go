package domain

import "time"

// Post is a message on a team's board; members comment on it.
type Post struct {
	ID       string
	TeamID   string
	AuthorID string
	Text     string
	// CommentCount is kept in the same transaction as every comment insert and delete.
	CommentCount int64
	CreatedAt    time.Time
	EditedAt     *time.Time
}

// NewPost validates the text and returns a post by author.
func NewPost(teamID, authorID, text string, now time.Time) (Post, error) {
	if err := CheckPostText(text); err != nil {
		return Post{}, err
	}
	return Post{ID: NewID(), TeamID: teamID, AuthorID: authorID, Text: text, CreatedAt: now}, nil
}

// CanEdit is nil when actor wrote the post: nobody edits another's words.
func (p Post) CanEdit(actor Membership) error { return canEdit(p.AuthorID, actor) }

// CanDelete is nil for the author and for team admins (moderation).
func (p Post) CanDelete(actor Membership) error { return canDelete(p.AuthorID, actor) }

// Comment is a reply to a post.
type Comment struct {
	ID        string
	PostID    string
	TeamID    string
	AuthorID  string
	Text      string
	CreatedAt time.Time
	EditedAt  *time.Time
}

// NewComment validates the text and returns a comment by author.
func NewComment(teamID, postID, authorID, text string, now time.Time) (Comment, error) {
	if err := CheckPostText(text); err != nil {
		return Comment{}, err
	}
	return Comment{ID: NewID(), PostID: postID, TeamID: teamID, AuthorID: authorID, Text: text, CreatedAt: now}, nil
}

// CanEdit is nil when actor wrote the comment.
func (c Comment) CanEdit(actor Membership) error { return canEdit(c.AuthorID, actor) }

// CanDelete is nil for the author and for team admins.
func (c Comment) CanDelete(actor Membership) error { return canDelete(c.AuthorID, actor) }

func canEdit(authorID string, actor Membership) error {
	if actor.UserID != authorID {
		return ErrForbidden
	}
	return nil
}

func canDelete(authorID string, actor Membership) error {
	if actor.UserID != authorID && !actor.IsAdmin() {
		return ErrForbidden
	}
	return nil
}
