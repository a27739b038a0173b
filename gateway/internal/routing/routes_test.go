package routing

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMatch(t *testing.T) {
	table := NewTable(Default())
	cases := []struct {
		path      string
		service   string
		auth      Auth
		websocket bool
		limited   bool
		err       error
	}{
		{path: "/api/v1/auth/register", service: UsersSvc, auth: Public, limited: true},
		{path: "/api/v1/auth/login", service: UsersSvc, auth: Public, limited: true},
		{path: "/api/v1/auth/refresh", service: UsersSvc, auth: Public, limited: true},
		{path: "/api/v1/auth/logout", service: UsersSvc, auth: Optional},
		{path: "/api/v1/auth/login/extra", service: UsersSvc, auth: Authenticated},
		{path: "/api/v1/auth/other", service: UsersSvc, auth: Authenticated},
		{path: "/.well-known/jwks.json", service: UsersSvc, auth: Public},
		{path: "/api/v1/users/me", service: UsersSvc, auth: Authenticated},
		{path: "/api/v1/users", service: UsersSvc, auth: Authenticated},
		{path: "/api/v1/users/", service: UsersSvc, auth: Authenticated},
		{path: "/api/v1/teams", service: TeamsSvc},
		{path: "/api/v1/teams/join", service: TeamsSvc},
		{path: "/api/v1/teams/t1/posts/p1/comments", service: TeamsSvc},
		{path: "/api/v1/teams/t1/conferences", service: ConferenceSvc},
		{path: "/api/v1/teams/t1/conferences/", service: ConferenceSvc},
		{path: "/api/v1/conferences/c1", service: ConferenceSvc},
		{path: "/api/v1/conferences/c1/ics", service: ConferenceSvc},
		{path: "/api/v1/conferences/c1/ws", service: ConferenceSvc, websocket: true},
		{path: "/api/v1/conferences/c1/ws/x", service: ConferenceSvc},
		{path: "/api/v1/chats", service: ChatsSvc},
		{path: "/api/v1/chats/c1", service: ChatsSvc},
		{path: "/api/v1/chats/c1/members/u1", service: ChatsSvc},
		{path: "/api/v1/chats/c1/messages", service: MessagesSvc},
		{path: "/api/v1/chats/c1/messages/m1", service: MessagesSvc},
		{path: "/api/v1/chats/c1/read", service: MessagesSvc},
		{path: "/api/v1/ws", service: MessagesSvc, websocket: true},
		{path: "/api/v1/usersx", err: ErrNoRoute},
		{path: "/api/v1/ws/other", err: ErrNoRoute},
		{path: "/api/v2/users", err: ErrNoRoute},
		{path: "/", err: ErrNoRoute},
		{path: "/api/v1/auth/login/../../users/me", err: ErrBadPath},
		{path: "/api/v1/./users", err: ErrBadPath},
		{path: "/api//v1/users", err: ErrBadPath},
		{path: "api/v1/users", err: ErrBadPath},
		{path: "", err: ErrBadPath},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			r, err := table.Match(tc.path)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.service, r.Service)
			require.Equal(t, tc.auth, r.Auth)
			require.Equal(t, tc.websocket, r.WebSocket)
			require.Equal(t, tc.limited, r.RateLimited)
		})
	}
}

func TestSpecificityIgnoresOrder(t *testing.T) {
	routes := Default()
	reversed := make([]Route, len(routes))
	for i, r := range routes {
		reversed[len(routes)-1-i] = r
	}
	table := NewTable(reversed)
	r, err := table.Match("/api/v1/teams/t1/conferences")
	require.NoError(t, err)
	require.Equal(t, ConferenceSvc, r.Service)
	r, err = table.Match("/api/v1/auth/login")
	require.NoError(t, err)
	require.Equal(t, Public, r.Auth)
}

func TestMatchDoesNotAllocate(t *testing.T) {
	table := NewTable(Default())
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = table.Match("/api/v1/chats/0190a1b2-c3d4/messages")
	})
	require.Zero(t, allocs)
}
