package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/tools/devstack/stack"
)

// teamsStack starts the gateway, users-svc and teams-svc. The limits that protect the
// services from one client would throttle tests that register and write this often
// from one address; they have tests of their own.
func teamsStack(t *testing.T) *client {
	st := startStack(t, stack.Options{
		Services: []string{"users-svc", "teams-svc"},
		ServiceEnv: map[string]map[string]string{
			"gateway":   {"AUTH_RATE_LIMIT": "100000", "AUTH_RATE_BURST": "100000"},
			"teams-svc": {"TEAMS_WRITES_PER_MINUTE": "100000"},
		},
	})
	return newClient(st)
}

// obj decodes a JSON object response.
func obj(t *testing.T, r *response) map[string]any {
	t.Helper()
	var m map[string]any
	r.json(t, &m)
	return m
}

func field(m map[string]any, path ...string) any {
	var cur any = m
	for _, k := range path {
		mm, _ := cur.(map[string]any)
		cur = mm[k]
	}
	return cur
}

func itemsOf(t *testing.T, r *response) []map[string]any {
	t.Helper()
	var l struct {
		Items      []map[string]any `json:"items"`
		NextCursor *string          `json:"next_cursor"`
	}
	r.json(t, &l)
	require.NotNil(t, l.NextCursor, "lists carry next_cursor")
	return l.Items
}

// teamCast is the set of users the authorization matrix plays with; every fixture makes
// a fresh team with them.
type teamCast struct {
	admin, author, member, outsider, requester, invitee *user
}

type teamFixture struct {
	team, code, post, comment, request string
}

func (c *client) teamFixture(t *testing.T, u teamCast) teamFixture {
	t.Helper()
	var f teamFixture
	created := obj(t, c.do(t, "POST", "/api/v1/teams", u.admin.Access, map[string]any{"name": "matrix"}).expect(t, 201))
	f.team, f.code = field(created, "team", "id").(string), field(created, "team", "join_code").(string)
	for _, m := range []*user{u.author, u.member} {
		c.do(t, "POST", "/api/v1/teams/"+f.team+"/members", u.admin.Access, map[string]any{"email": m.Email}).expect(t, 201)
	}
	f.post = field(obj(t, c.do(t, "POST", "/api/v1/teams/"+f.team+"/posts", u.author.Access, map[string]any{"text": "hi"}).expect(t, 201)), "post", "id").(string)
	f.comment = field(obj(t, c.do(t, "POST", "/api/v1/teams/"+f.team+"/posts/"+f.post+"/comments", u.author.Access, map[string]any{"text": "c"}).expect(t, 201)), "comment", "id").(string)
	f.request = field(obj(t, c.do(t, "POST", "/api/v1/teams/join", u.requester.Access, map[string]any{"code": f.code}).expect(t, 202)), "request", "id").(string)
	return f
}

// TestTeams goes through the gateway to teams-svc (and the real users-svc) like a client.
func TestTeams(t *testing.T) {
	c := teamsStack(t)

	t.Run("authorization matrix", func(t *testing.T) {
		t.Parallel()
		u := teamCast{newUser(t, c), newUser(t, c), newUser(t, c), newUser(t, c), newUser(t, c), newUser(t, c)}
		text := func(teamFixture) any { return map[string]any{"text": "words"} }
		rows := []struct {
			name, method, path string
			body               func(teamFixture) any
			want               [4]int // outsider, member, author, admin
		}{
			{"create team", "POST", "/api/v1/teams", func(teamFixture) any { return map[string]any{"name": "n"} }, [4]int{201, 201, 201, 201}},
			{"list my teams", "GET", "/api/v1/teams", nil, [4]int{200, 200, 200, 200}},
			{"join", "POST", "/api/v1/teams/join", func(f teamFixture) any { return map[string]any{"code": f.code} }, [4]int{202, 409, 409, 409}},
			{"get team", "GET", "/api/v1/teams/{team}", nil, [4]int{404, 200, 200, 200}},
			{"update team", "PATCH", "/api/v1/teams/{team}", func(teamFixture) any { return map[string]any{"description": "x"} }, [4]int{404, 403, 403, 200}},
			{"delete team", "DELETE", "/api/v1/teams/{team}", nil, [4]int{404, 403, 403, 204}},
			{"rotate join code", "POST", "/api/v1/teams/{team}/join-code", nil, [4]int{404, 403, 403, 200}},
			{"list requests", "GET", "/api/v1/teams/{team}/requests", nil, [4]int{404, 403, 403, 200}},
			{"accept request", "POST", "/api/v1/teams/{team}/requests/{request}/accept", nil, [4]int{404, 403, 403, 200}},
			{"reject request", "POST", "/api/v1/teams/{team}/requests/{request}/reject", nil, [4]int{404, 403, 403, 200}},
			{"list members", "GET", "/api/v1/teams/{team}/members", nil, [4]int{404, 200, 200, 200}},
			{"add member", "POST", "/api/v1/teams/{team}/members", func(teamFixture) any { return map[string]any{"email": u.invitee.Email} }, [4]int{404, 403, 403, 201}},
			{"change role", "PATCH", "/api/v1/teams/{team}/members/{member}", func(teamFixture) any { return map[string]any{"role": "admin"} }, [4]int{404, 403, 403, 200}},
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
		roles := []struct {
			name string
			u    *user
		}{{"outsider", u.outsider}, {"member", u.member}, {"author", u.author}, {"admin", u.admin}}
		for _, r := range rows {
			for i, role := range roles {
				f := c.teamFixture(t, u)
				path := strings.NewReplacer("{team}", f.team, "{post}", f.post, "{comment}", f.comment,
					"{request}", f.request, "{member}", u.member.ID, "{author}", u.author.ID).Replace(r.path)
				var body any
				if r.body != nil {
					body = r.body(f)
				}
				res := c.do(t, r.method, path, role.u.Access, body)
				require.Equal(t, r.want[i], res.Status, "%s as %s: %s", r.name, role.name, res.Body)
				if res.Status >= 400 {
					res.code(t)
				}
			}
		}
	})

	t.Run("seed flow", func(t *testing.T) {
		t.Parallel()
		a, b, cc := newUser(t, c), newUser(t, c), newUser(t, c)
		created := obj(t, c.do(t, "POST", "/api/v1/teams", a.Access, map[string]any{"name": "Design", "description": "pixels"}).expect(t, 201))
		require.Equal(t, "admin", created["role"])
		teamID, code := field(created, "team", "id").(string), field(created, "team", "join_code").(string)
		base := "/api/v1/teams/" + teamID

		req := obj(t, c.do(t, "POST", "/api/v1/teams/join", b.Access, map[string]any{"code": code}).expect(t, 202))
		require.Equal(t, "pending", field(req, "request", "status"))
		require.Equal(t, b.Username, field(req, "request", "user", "username"), "names come from users-svc")
		require.Equal(t, b.Email, field(req, "request", "user", "email"))
		require.Equal(t, "request_pending", c.do(t, "POST", "/api/v1/teams/join", b.Access, map[string]any{"code": code}).expect(t, 409).code(t))

		reqs := itemsOf(t, c.do(t, "GET", base+"/requests", a.Access, nil).expect(t, 200))
		require.Len(t, reqs, 1)
		reqID := reqs[0]["id"].(string)
		member := obj(t, c.do(t, "POST", base+"/requests/"+reqID+"/accept", a.Access, nil).expect(t, 200))
		require.Equal(t, "member", field(member, "member", "role"))
		require.Equal(t, "request_not_pending", c.do(t, "POST", base+"/requests/"+reqID+"/accept", a.Access, nil).expect(t, 409).code(t))

		post := obj(t, c.do(t, "POST", base+"/posts", b.Access, map[string]any{"text": "hello"}).expect(t, 201))
		postID := field(post, "post", "id").(string)
		require.Equal(t, b.Username, field(post, "post", "author", "username"))
		c.do(t, "POST", base+"/posts/"+postID+"/comments", a.Access, map[string]any{"text": "welcome"}).expect(t, 201)
		edited := obj(t, c.do(t, "PATCH", base+"/posts/"+postID, b.Access, map[string]any{"text": "hello!"}).expect(t, 200))
		require.NotNil(t, field(edited, "post", "edited_at"))
		posts := itemsOf(t, c.do(t, "GET", base+"/posts", a.Access, nil).expect(t, 200))
		require.Len(t, posts, 1)
		require.EqualValues(t, 1, posts[0]["comment_count"])
		require.Equal(t, b.Username, field(posts[0], "author", "username"))
		c.do(t, "DELETE", base+"/posts/"+postID, a.Access, nil).expect(t, 204)
		require.Empty(t, itemsOf(t, c.do(t, "GET", base+"/posts", b.Access, nil).expect(t, 200)))

		added := obj(t, c.do(t, "POST", base+"/members", a.Access, map[string]any{"email": cc.Email}).expect(t, 201))
		require.Equal(t, cc.ID, field(added, "member", "user", "id"))
		require.Equal(t, "already_member", c.do(t, "POST", base+"/members", a.Access, map[string]any{"email": cc.Email}).expect(t, 409).code(t))
		require.Equal(t, "user_not_found", c.do(t, "POST", base+"/members", a.Access, map[string]any{"email": "nobody-" + cc.Email}).expect(t, 404).code(t))
		require.Len(t, itemsOf(t, c.do(t, "GET", base+"/members", cc.Access, nil).expect(t, 200)), 3)

		require.Equal(t, "last_admin", c.do(t, "PATCH", base+"/members/"+a.ID, a.Access, map[string]any{"role": "member"}).expect(t, 409).code(t))
		require.Equal(t, "last_admin", c.do(t, "DELETE", base+"/members/"+a.ID, a.Access, nil).expect(t, 409).code(t))
		c.do(t, "PATCH", base+"/members/"+cc.ID, a.Access, map[string]any{"role": "admin"}).expect(t, 200)
		c.do(t, "DELETE", base+"/members/"+a.ID, a.Access, nil).expect(t, 204)
		c.do(t, "GET", base, a.Access, nil).expect(t, 404)
		require.Equal(t, "last_admin", c.do(t, "DELETE", base+"/members/"+cc.ID, cc.Access, nil).expect(t, 409).code(t))
		c.do(t, "DELETE", base, cc.Access, nil).expect(t, 204)
		c.do(t, "GET", base, b.Access, nil).expect(t, 404)
	})

	t.Run("bad input and no token", func(t *testing.T) {
		t.Parallel()
		a := newUser(t, c)
		teamID := field(obj(t, c.do(t, "POST", "/api/v1/teams", a.Access, map[string]any{"name": "x"}).expect(t, 201)), "team", "id").(string)
		base := "/api/v1/teams/" + teamID
		long, _ := json.Marshal(map[string]string{"text": strings.Repeat("x", 10001)})
		for _, tc := range []struct {
			method, path string
			body         any
			status       int
			code         string
		}{
			{"POST", base + "/posts", string(long), 400, "text_too_long"},
			{"POST", base + "/posts", `{"text":""}`, 400, "text_required"},
			{"POST", base + "/posts", `{"text":7}`, 400, "invalid_field"},
			{"POST", base + "/posts", `{"text":`, 400, "invalid_json"},
			{"GET", "/api/v1/teams/not-an-id", nil, 404, "not_found"},
			{"GET", "/api/v1/teams/0190f0e4-a0b2-7c3d-8e9f-0a1b2c3d4e5f/posts", nil, 404, "not_found"},
			{"GET", base + "/posts?limit=201", nil, 400, "invalid_limit"},
			{"POST", "/api/v1/teams", `{"name":""}`, 400, "name_required"},
			{"POST", "/api/v1/teams/join", `{"code":"WRONGWRONG22"}`, 404, "invalid_code"},
		} {
			res := c.do(t, tc.method, tc.path, a.Access, tc.body)
			require.Equal(t, tc.status, res.Status, "%s %s: %s", tc.method, tc.path, res.Body)
			require.Equal(t, tc.code, res.code(t))
		}
		require.Len(t, itemsOf(t, c.do(t, "GET", base+"/posts", a.Access, nil).expect(t, 200)), 0, "bad input changed nothing")
		c.do(t, "GET", "/api/v1/teams", "", nil).expect(t, 401)
		c.do(t, "GET", base, "not-a-token", nil).expect(t, 401)
	})
}
