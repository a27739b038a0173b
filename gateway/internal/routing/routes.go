// Package routing holds the gateway's route table: which service owns a public path, and
// whether the path needs a token. It is the gateway's domain: no HTTP library in sight.
package routing

import (
	"errors"
	"slices"
	"strings"
)

// Auth says what a route asks of the caller's token.
type Auth int

const (
	// Authenticated routes need a valid access token; anything else is a 401.
	Authenticated Auth = iota
	// Public routes pass without a token.
	Public
	// Optional routes pass without a token, but a valid one still reaches the service as
	// the caller's identity (logout, so that users-svc can revoke that very token).
	Optional
)

// Route maps a path pattern to the service that owns it.
type Route struct {
	// Pattern is a path of segments; "*" matches exactly one non-empty segment.
	Pattern string
	// Exact routes match the pattern only; others match it and everything below it.
	Exact   bool
	Service string
	Auth    Auth
	// WebSocket routes accept the token in ?access_token= too, as browsers cannot set
	// headers on a WebSocket.
	WebSocket bool
	// RateLimited routes are limited per client IP (register, login, refresh).
	RateLimited bool
	// RevokesToken routes revoke the caller's access token when the service answers 204.
	RevokesToken bool

	segments []string
}

// ErrNoRoute means no route matches the path.
var ErrNoRoute = errors.New("routing: no route")

// ErrBadPath means the path has empty, "." or ".." segments; such paths could reach a
// different resource at the service than the one the gateway authorised.
var ErrBadPath = errors.New("routing: malformed path")

// Service names, as registered in discovery.
const (
	UsersSvc      = "users-svc"
	TeamsSvc      = "teams-svc"
	ChatsSvc      = "chats-svc"
	MessagesSvc   = "messages-svc"
	ConferenceSvc = "conference-svc"
)

// Default is the public API of API.md.
func Default() []Route {
	return []Route{
		{Pattern: "/api/v1/auth/register", Exact: true, Service: UsersSvc, Auth: Public, RateLimited: true},
		{Pattern: "/api/v1/auth/login", Exact: true, Service: UsersSvc, Auth: Public, RateLimited: true},
		{Pattern: "/api/v1/auth/refresh", Exact: true, Service: UsersSvc, Auth: Public, RateLimited: true},
		{Pattern: "/api/v1/auth/logout", Exact: true, Service: UsersSvc, Auth: Optional, RevokesToken: true},
		{Pattern: "/api/v1/auth", Service: UsersSvc},
		{Pattern: "/.well-known/jwks.json", Exact: true, Service: UsersSvc, Auth: Public},
		{Pattern: "/api/v1/users", Service: UsersSvc},
		{Pattern: "/api/v1/teams/*/conferences", Service: ConferenceSvc},
		{Pattern: "/api/v1/teams", Service: TeamsSvc},
		{Pattern: "/api/v1/conferences/*/ws", Exact: true, Service: ConferenceSvc, WebSocket: true},
		{Pattern: "/api/v1/conferences", Service: ConferenceSvc},
		{Pattern: "/api/v1/chats/*/messages", Service: MessagesSvc},
		{Pattern: "/api/v1/chats/*/read", Exact: true, Service: MessagesSvc},
		{Pattern: "/api/v1/chats", Service: ChatsSvc},
		{Pattern: "/api/v1/ws", Exact: true, Service: MessagesSvc, WebSocket: true},
	}
}

// Table finds the route of a path; the most specific pattern wins, whatever the order
// the routes were given in.
type Table struct {
	routes []*Route
}

// NewTable sorts routes by specificity: more segments first, then fewer wildcards, then
// exact before prefix.
func NewTable(routes []Route) *Table {
	t := &Table{}
	for _, r := range routes {
		r.segments = strings.Split(strings.Trim(r.Pattern, "/"), "/")
		t.routes = append(t.routes, &r)
	}
	slices.SortStableFunc(t.routes, func(a, b *Route) int {
		if d := len(b.segments) - len(a.segments); d != 0 {
			return d
		}
		if d := wildcards(a) - wildcards(b); d != 0 {
			return d
		}
		if a.Exact != b.Exact {
			if a.Exact {
				return -1
			}
			return 1
		}
		return 0
	})
	return t
}

func wildcards(r *Route) int {
	n := 0
	for _, s := range r.segments {
		if s == "*" {
			n++
		}
	}
	return n
}

// Routes returns the table's routes, most specific first.
func (t *Table) Routes() []Route {
	out := make([]Route, len(t.routes))
	for i, r := range t.routes {
		out[i] = *r
	}
	return out
}

// Match returns the route for a request path (already percent-decoded). It does not
// allocate: it runs on every request.
func (t *Table) Match(path string) (*Route, error) {
	if !validPath(path) {
		return nil, ErrBadPath
	}
	for _, r := range t.routes {
		if r.matches(path) {
			return r, nil
		}
	}
	return nil, ErrNoRoute
}

// validPath accepts "/" followed by non-empty segments other than "." and "..", with an
// optional trailing slash.
func validPath(path string) bool {
	if path == "" || path[0] != '/' {
		return false
	}
	rest := strings.TrimSuffix(path[1:], "/")
	for rest != "" {
		seg, tail, _ := strings.Cut(rest, "/")
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		rest = tail
	}
	return true
}

func (r *Route) matches(path string) bool {
	rest := strings.TrimSuffix(path[1:], "/")
	for _, want := range r.segments {
		if rest == "" {
			return false
		}
		seg, tail, _ := strings.Cut(rest, "/")
		if want != "*" && seg != want {
			return false
		}
		rest = tail
	}
	return rest == "" || !r.Exact
}
