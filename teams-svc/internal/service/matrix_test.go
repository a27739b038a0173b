package service_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fixture is a team with one user of every kind the authorization matrix asks about.
type fixture struct {
	team, code         string
	admin, author      user
	member, outsider   user
	post, comment      string
	request            string
	requester, invitee user
}

func (h *harness) fixture() fixture {
	h.t.Helper()
	f := fixture{
		admin: h.users.add("admin"), author: h.users.add("author"), member: h.users.add("member"),
		outsider: h.users.add("outsider"), requester: h.users.add("requester"), invitee: h.users.add("invitee"),
	}
	f.team, f.code = h.createTeam(f.admin)
	h.addMember(f.admin, f.team, f.author)
	h.addMember(f.admin, f.team, f.member)
	f.post = h.post(f.author, f.team, "hello")
	f.comment = h.comment(f.author, f.team, f.post, "first")
	res := h.must(http.StatusAccepted, &f.requester, "POST", "/api/v1/teams/join", map[string]any{"code": f.code})
	f.request = res.obj("request")["id"].(string)
	return f
}

// TestAuthorizationMatrix calls every endpoint as an outsider, a member, the author of
// the post and comment, and an admin, each on a fresh team, and checks the status.
func TestAuthorizationMatrix(t *testing.T) {
	h := start(t, options{})
	type row struct {
		name   string
		method string
		path   string // with {team}, {post}, {comment}, {request}, {member}, {author}
		body   func(f fixture) any
		want   [4]int // outsider, member, author, admin
	}
	text := func(fixture) any { return map[string]any{"text": "words"} }
	rows := []row{
		{"create team", "POST", "/api/v1/teams", func(fixture) any { return map[string]any{"name": "n"} }, [4]int{201, 201, 201, 201}},
		{"list my teams", "GET", "/api/v1/teams", nil, [4]int{200, 200, 200, 200}},
		{"join", "POST", "/api/v1/teams/join", func(f fixture) any { return map[string]any{"code": f.code} }, [4]int{202, 409, 409, 409}},
		{"get team", "GET", "/api/v1/teams/{team}", nil, [4]int{404, 200, 200, 200}},
		{"update team", "PATCH", "/api/v1/teams/{team}", func(fixture) any { return map[string]any{"name": "renamed"} }, [4]int{404, 403, 403, 200}},
		{"delete team", "DELETE", "/api/v1/teams/{team}", nil, [4]int{404, 403, 403, 204}},
		{"rotate join code", "POST", "/api/v1/teams/{team}/join-code", nil, [4]int{404, 403, 403, 200}},
		{"list requests", "GET", "/api/v1/teams/{team}/requests", nil, [4]int{404, 403, 403, 200}},
		{"accept request", "POST", "/api/v1/teams/{team}/requests/{request}/accept", nil, [4]int{404, 403, 403, 200}},
		{"reject request", "POST", "/api/v1/teams/{team}/requests/{request}/reject", nil, [4]int{404, 403, 403, 200}},
		{"list members", "GET", "/api/v1/teams/{team}/members", nil, [4]int{404, 200, 200, 200}},
		{"add member", "POST", "/api/v1/teams/{team}/members", func(f fixture) any { return map[string]any{"email": f.invitee.Email} }, [4]int{404, 403, 403, 201}},
		{"change role", "PATCH", "/api/v1/teams/{team}/members/{member}", func(fixture) any { return map[string]any{"role": "admin"} }, [4]int{404, 403, 403, 200}},
		{"remove the author (author leaves)", "DELETE", "/api/v1/teams/{team}/members/{author}", nil, [4]int{404, 403, 204, 204}},
		{"list posts", "GET", "/api/v1/teams/{team}/posts", nil, [4]int{404, 200, 200, 200}},
		{"create post", "POST", "/api/v1/teams/{team}/posts", text, [4]int{404, 201, 201, 201}},
		{"edit post", "PATCH", "/api/v1/teams/{team}/posts/{post}", text, [4]int{404, 403, 200, 403}},
		{"delete post", "DELETE", "/api/v1/teams/{team}/posts/{post}", nil, [4]int{404, 403, 204, 204}},
		{"list comments", "GET", "/api/v1/teams/{team}/posts/{post}/comments", nil, [4]int{404, 200, 200, 200}},
		{"create comment", "POST", "/api/v1/teams/{team}/posts/{post}/comments", text, [4]int{404, 201, 201, 201}},
		{"edit comment", "PATCH", "/api/v1/teams/{team}/posts/{post}/comments/{comment}", text, [4]int{404, 403, 200, 403}},
		{"delete comment", "DELETE", "/api/v1/teams/{team}/posts/{post}/comments/{comment}", nil, [4]int{404, 403, 204, 204}},
	}
	roles := []string{"outsider", "member", "author", "admin"}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			h.t = t
			for i, role := range roles {
				f := h.fixture()
				who := map[string]user{"outsider": f.outsider, "member": f.member, "author": f.author, "admin": f.admin}[role]
				path := strings.NewReplacer(
					"{team}", f.team, "{post}", f.post, "{comment}", f.comment, "{request}", f.request,
					"{member}", f.member.ID, "{author}", f.author.ID,
				).Replace(r.path)
				var body any
				if r.body != nil {
					body = r.body(f)
				}
				res := h.call(&who, r.method, path, body)
				require.Equal(t, r.want[i], res.status, "%s as %s: %s", r.name, role, res.raw)
				if res.status == http.StatusNotFound {
					require.Equal(t, "not_found", res.errorCode(), "an outsider learns nothing")
				}
			}
		})
	}
}

// TestUnauthenticated: without the gateway's signed identity every API route is a 401.
func TestUnauthenticated(t *testing.T) {
	h := start(t, options{})
	id := "0190f0e4-a0b2-7c3d-8e9f-0a1b2c3d4e5f"
	for _, r := range []struct{ method, path string }{
		{"POST", "/api/v1/teams"}, {"GET", "/api/v1/teams"}, {"POST", "/api/v1/teams/join"},
		{"GET", "/api/v1/teams/" + id}, {"GET", "/api/v1/teams/" + id + "/posts"},
		{"DELETE", "/api/v1/teams/" + id + "/members/" + id},
	} {
		res := h.call(nil, r.method, r.path, "{}")
		require.Equal(t, http.StatusUnauthorized, res.status, r.path)
		require.Equal(t, "unauthenticated", res.errorCode())
	}
	forged := h.call(nil, "GET", "/api/v1/teams", nil, "X-Convene-Identity", "eyJzdWIiOiJ4In0.AAAA")
	require.Equal(t, http.StatusUnauthorized, forged.status)
}
