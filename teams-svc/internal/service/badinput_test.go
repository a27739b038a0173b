package service_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBadInput sends malformed, mistyped, empty, over-long and oversized input and
// unknown or malformed ids to every endpoint that takes them: each is a 4xx with an
// API.md code, and none changes anything.
func TestBadInput(t *testing.T) {
	h := start(t, options{})
	a := h.users.add("alice")
	teamID, _ := h.createTeam(a)
	postID := h.post(a, teamID, "p")
	commentID := h.comment(a, teamID, postID, "c")
	unknown := "0190f0e4-a0b2-7c3d-8e9f-0a1b2c3d4e5f"
	team := "/api/v1/teams/" + teamID
	post := team + "/posts/" + postID
	comment := post + "/comments/" + commentID
	long := strings.Repeat("x", 10001)
	huge := `{"text":"` + strings.Repeat("x", 70_000) + `"}`

	cases := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"team: malformed JSON", "POST", "/api/v1/teams", `{"name":`, 400, "invalid_json"},
		{"team: not an object", "POST", "/api/v1/teams", `[1]`, 400, "invalid_json"},
		{"team: empty body", "POST", "/api/v1/teams", ``, 400, "invalid_json"},
		{"team: wrong type", "POST", "/api/v1/teams", `{"name":5}`, 400, "invalid_field"},
		{"team: missing name", "POST", "/api/v1/teams", `{"description":"d"}`, 400, "name_required"},
		{"team: blank name", "POST", "/api/v1/teams", `{"name":"   "}`, 400, "name_required"},
		{"team: long name", "POST", "/api/v1/teams", map[string]any{"name": strings.Repeat("n", 101)}, 400, "name_too_long"},
		{"team: long description", "POST", "/api/v1/teams", map[string]any{"name": "n", "description": strings.Repeat("d", 2001)}, 400, "description_too_long"},
		{"team: NUL in name", "POST", "/api/v1/teams", `{"name":"a\u0000b"}`, 400, "name_invalid"},
		{"team: oversized body", "POST", "/api/v1/teams", huge, 413, "body_too_large"},
		{"patch team: empty name", "PATCH", team, `{"name":""}`, 400, "name_required"},
		{"patch team: wrong type", "PATCH", team, `{"description":[]}`, 400, "invalid_field"},
		{"patch team: unknown id", "PATCH", "/api/v1/teams/" + unknown, `{"name":"x"}`, 404, "not_found"},
		{"get team: malformed id", "GET", "/api/v1/teams/nope", nil, 404, "not_found"},
		{"get team: SQL in id", "GET", "/api/v1/teams/'%20OR%201=1--", nil, 404, "not_found"},
		{"delete team: unknown id", "DELETE", "/api/v1/teams/" + unknown, nil, 404, "not_found"},
		{"join: missing code", "POST", "/api/v1/teams/join", `{}`, 400, "code_required"},
		{"join: wrong type", "POST", "/api/v1/teams/join", `{"code":123}`, 400, "invalid_field"},
		{"join: wrong code", "POST", "/api/v1/teams/join", `{"code":"ZZZZZZZZZZZZ"}`, 404, "invalid_code"},
		{"join: long code", "POST", "/api/v1/teams/join", map[string]any{"code": long}, 404, "invalid_code"},
		{"accept: unknown request", "POST", team + "/requests/" + unknown + "/accept", nil, 404, "not_found"},
		{"accept: malformed request", "POST", team + "/requests/x/accept", nil, 404, "not_found"},
		{"reject: unknown request", "POST", team + "/requests/" + unknown + "/reject", nil, 404, "not_found"},
		{"add member: missing email", "POST", team + "/members", `{}`, 400, "email_required"},
		{"add member: not an email", "POST", team + "/members", `{"email":"nope"}`, 400, "invalid_email"},
		{"add member: long email", "POST", team + "/members", map[string]any{"email": strings.Repeat("e", 250) + "@x.io"}, 400, "email_too_long"},
		{"add member: unknown user", "POST", team + "/members", `{"email":"ghost@example.com"}`, 404, "user_not_found"},
		{"role: missing", "PATCH", team + "/members/" + a.ID, `{}`, 400, "role_required"},
		{"role: invalid", "PATCH", team + "/members/" + a.ID, `{"role":"owner"}`, 400, "invalid_role"},
		{"role: wrong type", "PATCH", team + "/members/" + a.ID, `{"role":true}`, 400, "invalid_field"},
		{"role: unknown user", "PATCH", team + "/members/" + unknown, `{"role":"admin"}`, 404, "not_a_member"},
		{"role: malformed user", "PATCH", team + "/members/abc", `{"role":"admin"}`, 404, "not_found"},
		{"remove: unknown user", "DELETE", team + "/members/" + unknown, nil, 404, "not_a_member"},
		{"posts: limit 0", "GET", team + "/posts?limit=0", nil, 400, "invalid_limit"},
		{"posts: limit 201", "GET", team + "/posts?limit=201", nil, 400, "invalid_limit"},
		{"posts: limit abc", "GET", team + "/posts?limit=abc", nil, 400, "invalid_limit"},
		{"posts: bad cursor", "GET", team + "/posts?before=xyz", nil, 400, "invalid_cursor"},
		{"members: limit 500", "GET", team + "/members?limit=500", nil, 400, "invalid_limit"},
		{"requests: bad cursor", "GET", team + "/requests?before=1", nil, 400, "invalid_cursor"},
		{"my teams: limit -1", "GET", "/api/v1/teams?limit=-1", nil, 400, "invalid_limit"},
		{"comments: bad cursor", "GET", post + "/comments?after=zz", nil, 400, "invalid_cursor"},
		{"post: empty text", "POST", team + "/posts", `{"text":""}`, 400, "text_required"},
		{"post: blank text", "POST", team + "/posts", `{"text":" \n\t"}`, 400, "text_required"},
		{"post: missing text", "POST", team + "/posts", `{}`, 400, "text_required"},
		{"post: 10001 chars", "POST", team + "/posts", map[string]any{"text": long}, 400, "text_too_long"},
		{"post: wrong type", "POST", team + "/posts", `{"text":{"a":1}}`, 400, "invalid_field"},
		{"post: NUL", "POST", team + "/posts", `{"text":"a\u0000"}`, 400, "text_invalid"},
		{"post: oversized body", "POST", team + "/posts", huge, 413, "body_too_large"},
		{"post: unknown team", "POST", "/api/v1/teams/" + unknown + "/posts", `{"text":"x"}`, 404, "not_found"},
		{"post: bad idempotency key", "POST", team + "/posts", `{"text":"x"}`, 400, "invalid_idempotency_key"},
		{"edit post: empty", "PATCH", post, `{"text":""}`, 400, "text_required"},
		{"edit post: 10001 chars", "PATCH", post, map[string]any{"text": long}, 400, "text_too_long"},
		{"edit post: unknown id", "PATCH", team + "/posts/" + unknown, `{"text":"x"}`, 404, "not_found"},
		{"edit post: malformed id", "PATCH", team + "/posts/1", `{"text":"x"}`, 404, "not_found"},
		{"delete post: unknown id", "DELETE", team + "/posts/" + unknown, nil, 404, "not_found"},
		{"comments: unknown post", "GET", team + "/posts/" + unknown + "/comments", nil, 404, "not_found"},
		{"comment: empty text", "POST", post + "/comments", `{"text":""}`, 400, "text_required"},
		{"comment: 10001 chars", "POST", post + "/comments", map[string]any{"text": long}, 400, "text_too_long"},
		{"comment: wrong type", "POST", post + "/comments", `{"text":1}`, 400, "invalid_field"},
		{"comment: unknown post", "POST", team + "/posts/" + unknown + "/comments", `{"text":"x"}`, 404, "not_found"},
		{"edit comment: empty", "PATCH", comment, `{"text":""}`, 400, "text_required"},
		{"edit comment: unknown id", "PATCH", post + "/comments/" + unknown, `{"text":"x"}`, 404, "not_found"},
		{"delete comment: malformed id", "DELETE", post + "/comments/-", nil, 404, "not_found"},
		{"unknown route", "GET", "/api/v1/teams/" + teamID + "/nothing", nil, 404, "not_found"},
		{"wrong method", "PUT", team, `{}`, 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			var headers []string
			if tc.code == "invalid_idempotency_key" {
				headers = []string{"Idempotency-Key", strings.Repeat("k", 101)}
			}
			res := h.call(&a, tc.method, tc.path, tc.body, headers...)
			require.Equal(t, tc.status, res.status, "%s", res.raw)
			require.Equal(t, tc.code, res.errorCode())
		})
	}
	h.t = t

	// Nothing changed: one team, one post with one comment, one member.
	teams := h.must(http.StatusOK, &a, "GET", "/api/v1/teams", nil).items()
	require.Len(t, teams, 1)
	require.Equal(t, "Team of alice", teams[0]["team"].(map[string]any)["name"])
	posts := h.must(http.StatusOK, &a, "GET", team+"/posts", nil).items()
	require.Len(t, posts, 1)
	require.Equal(t, "p", posts[0]["text"])
	require.EqualValues(t, 1, posts[0]["comment_count"])
	require.Nil(t, posts[0]["edited_at"])
	require.Len(t, h.must(http.StatusOK, &a, "GET", team+"/members", nil).items(), 1)
}

// TestPageLimits: limit defaults to 50 and goes up to 200.
func TestPageLimits(t *testing.T) {
	h := start(t, options{})
	a := h.users.add("alice")
	teamID, _ := h.createTeam(a)
	postID := h.post(a, teamID, "p")
	for i := range 205 {
		h.comment(a, teamID, postID, strings.Repeat("c", i%7+1))
	}
	path := "/api/v1/teams/" + teamID + "/posts/" + postID + "/comments"
	def := h.must(200, &a, "GET", path, nil)
	require.Len(t, def.items(), 50)
	require.NotEmpty(t, def.body["next_cursor"])
	full := h.must(200, &a, "GET", path+"?limit=200", nil)
	require.Len(t, full.items(), 200)
	rest := h.must(200, &a, "GET", path+"?limit=200&after="+full.body["next_cursor"].(string), nil)
	require.Len(t, rest.items(), 5)
	require.Equal(t, "", rest.body["next_cursor"])
}
