package app

import "github.com/convene/convene/teams-svc/internal/domain"

// TeamView is a team as one of its members sees it.
type TeamView struct {
	Team domain.Team
	Role domain.Role
}

// MemberView is a membership with the member's account.
type MemberView struct {
	Membership domain.Membership
	User       domain.User
}

// RequestView is a join request with the requester's account.
type RequestView struct {
	Request domain.JoinRequest
	User    domain.User
}

// PostView is a post with its author's account.
type PostView struct {
	Post   domain.Post
	Author domain.User
}

// CommentView is a comment with its author's account.
type CommentView struct {
	Comment domain.Comment
	Author  domain.User
}
