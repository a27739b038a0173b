package openapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/gateway/internal/routing"
)

// apiRoutes is every method and path of ../shared/API.md, plus the gateway's own.
var apiRoutes = []string{
	"POST /api/v1/auth/register", "POST /api/v1/auth/login", "POST /api/v1/auth/refresh", "POST /api/v1/auth/logout",
	"GET /api/v1/users/me", "GET /api/v1/users", "GET /.well-known/jwks.json",
	"POST /api/v1/teams", "GET /api/v1/teams", "GET /api/v1/teams/{team_id}", "PATCH /api/v1/teams/{team_id}",
	"DELETE /api/v1/teams/{team_id}", "POST /api/v1/teams/{team_id}/join-code", "POST /api/v1/teams/join",
	"GET /api/v1/teams/{team_id}/requests", "POST /api/v1/teams/{team_id}/requests/{request_id}/accept",
	"POST /api/v1/teams/{team_id}/requests/{request_id}/reject", "GET /api/v1/teams/{team_id}/members",
	"POST /api/v1/teams/{team_id}/members", "PATCH /api/v1/teams/{team_id}/members/{user_id}",
	"DELETE /api/v1/teams/{team_id}/members/{user_id}",
	"GET /api/v1/teams/{team_id}/posts", "POST /api/v1/teams/{team_id}/posts",
	"PATCH /api/v1/teams/{team_id}/posts/{post_id}", "DELETE /api/v1/teams/{team_id}/posts/{post_id}",
	"GET /api/v1/teams/{team_id}/posts/{post_id}/comments", "POST /api/v1/teams/{team_id}/posts/{post_id}/comments",
	"PATCH /api/v1/teams/{team_id}/posts/{post_id}/comments/{comment_id}",
	"DELETE /api/v1/teams/{team_id}/posts/{post_id}/comments/{comment_id}",
	"POST /api/v1/chats", "GET /api/v1/chats", "GET /api/v1/chats/{chat_id}", "POST /api/v1/chats/{chat_id}/members",
	"DELETE /api/v1/chats/{chat_id}/members/{user_id}", "GET /api/v1/chats/{chat_id}/messages",
	"POST /api/v1/chats/{chat_id}/messages", "PATCH /api/v1/chats/{chat_id}/messages/{message_id}",
	"DELETE /api/v1/chats/{chat_id}/messages/{message_id}", "POST /api/v1/chats/{chat_id}/read",
	"GET /api/v1/ws",
	"POST /api/v1/teams/{team_id}/conferences", "GET /api/v1/teams/{team_id}/conferences",
	"GET /api/v1/conferences/{conf_id}", "PATCH /api/v1/conferences/{conf_id}", "DELETE /api/v1/conferences/{conf_id}",
	"GET /api/v1/conferences/{conf_id}/ics", "GET /api/v1/conferences/{conf_id}/ws",
	"GET /healthz", "GET /readyz", "GET /metrics", "GET /api/v1/openapi.json",
}

func TestDocumentIsValid(t *testing.T) {
	doc, err := Load()
	require.NoError(t, err)
	raw, err := JSON()
	require.NoError(t, err)
	require.True(t, json.Valid(raw))
	require.Equal(t, "3.0.3", doc.OpenAPI)
}

func TestEveryRouteIsDocumented(t *testing.T) {
	doc, err := Load()
	require.NoError(t, err)
	for _, r := range apiRoutes {
		t.Run(r, func(t *testing.T) {
			method, path, _ := strings.Cut(r, " ")
			item := doc.Paths.Find(path)
			require.NotNil(t, item, "path %s", path)
			op := item.GetOperation(method)
			require.NotNil(t, op, "%s %s", method, path)
			if method != http.MethodGet || !strings.HasSuffix(path, "/ws") {
				require.NotEmpty(t, op.Responses.Map(), "responses")
			}
			for code, resp := range op.Responses.Map() {
				if code[0] == '4' || code[0] == '5' {
					require.NotNil(t, resp.Value.Content.Get("application/json"), "%s %s %s has API.md's error shape", method, path, code)
				}
			}
		})
	}
}

// TestRouteTableIsDocumented checks that every prefix the gateway routes leads to at
// least one documented path, so that the table and the document cannot drift apart.
func TestRouteTableIsDocumented(t *testing.T) {
	doc, err := Load()
	require.NoError(t, err)
	for _, route := range routing.Default() {
		t.Run(route.Pattern, func(t *testing.T) {
			found := false
			for path := range doc.Paths.Map() {
				if matchesPattern(route, path) {
					found = true
					break
				}
			}
			require.True(t, found, "no documented path under %s", route.Pattern)
		})
	}
}

func matchesPattern(r routing.Route, docPath string) bool {
	want := strings.Split(strings.Trim(r.Pattern, "/"), "/")
	got := strings.Split(strings.Trim(docPath, "/"), "/")
	if len(got) < len(want) || (r.Exact && len(got) != len(want)) {
		return false
	}
	for i, w := range want {
		if w != "*" && w != got[i] {
			return false
		}
		if w == "*" && !strings.HasPrefix(got[i], "{") {
			return false
		}
	}
	return true
}
