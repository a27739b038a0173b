package service_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/teams-svc/internal/service"
)

// TestSeedFlow walks the scenario: A creates a team, B joins with the code, A
// accepts, B posts, A comments, B edits, A (admin) deletes B's post; C is added by
// email; roles change; the last admin stays.
func TestSeedFlow(t *testing.T) {
	h := start(t, options{})
	a, b, c := h.users.add("alice"), h.users.add("bob"), h.users.add("carol")

	created := h.must(201, &a, "POST", "/api/v1/teams", map[string]any{"name": "  Design  ", "description": "pixels"})
	team := created.obj("team")
	require.Equal(t, "Design", team["name"])
	require.Equal(t, "pixels", team["description"])
	require.Len(t, team["join_code"], 12)
	createdAt, err := time.Parse(time.RFC3339Nano, team["created_at"].(string))
	require.NoError(t, err)
	require.Equal(t, time.UTC, createdAt.Location())
	teamID, code := team["id"].(string), team["join_code"].(string)

	// B joins with the code (typed in lower case with a dash), and asks only once.
	joined := h.must(202, &b, "POST", "/api/v1/teams/join", map[string]any{"code": strings.ToLower(code[:4] + "-" + code[4:])})
	req := joined.obj("request")
	require.Equal(t, "pending", req["status"])
	require.Equal(t, teamID, req["team_id"])
	require.Equal(t, map[string]any{"id": b.ID, "username": "bob", "email": b.Email}, req["user"])
	require.Equal(t, "request_pending", h.must(409, &b, "POST", "/api/v1/teams/join", map[string]any{"code": code}).errorCode())
	h.must(404, &b, "GET", "/api/v1/teams/"+teamID, nil)

	// A sees the request and accepts it.
	reqs := h.must(200, &a, "GET", "/api/v1/teams/"+teamID+"/requests", nil).items()
	require.Len(t, reqs, 1)
	require.Equal(t, req["id"], reqs[0]["id"])
	member := h.must(200, &a, "POST", "/api/v1/teams/"+teamID+"/requests/"+req["id"].(string)+"/accept", nil).obj("member")
	require.Equal(t, "member", member["role"])
	require.Equal(t, b.ID, member["user"].(map[string]any)["id"])
	require.Equal(t, "request_not_pending", h.must(409, &a, "POST", "/api/v1/teams/"+teamID+"/requests/"+req["id"].(string)+"/accept", nil).errorCode())
	require.Equal(t, "request_not_pending", h.must(409, &a, "POST", "/api/v1/teams/"+teamID+"/requests/"+req["id"].(string)+"/reject", nil).errorCode())
	require.Empty(t, h.must(200, &a, "GET", "/api/v1/teams/"+teamID+"/requests", nil).items())
	require.Equal(t, "already_member", h.must(409, &b, "POST", "/api/v1/teams/join", map[string]any{"code": code}).errorCode())
	got := h.must(200, &b, "GET", "/api/v1/teams/"+teamID, nil)
	require.Equal(t, "member", got.body["role"])
	require.Equal(t, code, got.obj("team")["join_code"], "members see the join code")
	mine := h.must(200, &b, "GET", "/api/v1/teams", nil).items()
	require.Len(t, mine, 1)
	require.Equal(t, "member", mine[0]["role"])

	// B posts, A comments, B edits.
	post := h.must(201, &b, "POST", "/api/v1/teams/"+teamID+"/posts", map[string]any{"text": "hello team"}).obj("post")
	require.Equal(t, map[string]any{"id": b.ID, "username": "bob"}, post["author"])
	require.EqualValues(t, 0, post["comment_count"])
	require.Nil(t, post["edited_at"])
	postID := post["id"].(string)
	comment := h.must(201, &a, "POST", "/api/v1/teams/"+teamID+"/posts/"+postID+"/comments", map[string]any{"text": "welcome"}).obj("comment")
	require.Equal(t, postID, comment["post_id"])
	require.Equal(t, "alice", comment["author"].(map[string]any)["username"])
	edited := h.must(200, &b, "PATCH", "/api/v1/teams/"+teamID+"/posts/"+postID, map[string]any{"text": "hello, team"}).obj("post")
	require.Equal(t, "hello, team", edited["text"])
	require.NotNil(t, edited["edited_at"])
	posts := h.must(200, &a, "GET", "/api/v1/teams/"+teamID+"/posts", nil)
	require.Len(t, posts.items(), 1)
	require.EqualValues(t, 1, posts.items()[0]["comment_count"])
	require.Equal(t, "hello, team", posts.items()[0]["text"])
	require.Equal(t, "", posts.body["next_cursor"])
	h.must(403, &a, "PATCH", "/api/v1/teams/"+teamID+"/posts/"+postID, map[string]any{"text": "not mine"})

	// A (admin) deletes B's post; its comments go with it.
	h.must(204, &a, "DELETE", "/api/v1/teams/"+teamID+"/posts/"+postID, nil)
	require.Empty(t, h.must(200, &b, "GET", "/api/v1/teams/"+teamID+"/posts", nil).items())
	h.must(404, &b, "GET", "/api/v1/teams/"+teamID+"/posts/"+postID+"/comments", nil)

	// C is added by email; adding again is a conflict; an unknown address is a 404.
	added := h.must(201, &a, "POST", "/api/v1/teams/"+teamID+"/members", map[string]any{"email": strings.ToUpper(c.Email)}).obj("member")
	require.Equal(t, c.ID, added["user"].(map[string]any)["id"])
	require.Equal(t, "already_member", h.must(409, &a, "POST", "/api/v1/teams/"+teamID+"/members", map[string]any{"email": c.Email}).errorCode())
	require.Equal(t, "user_not_found", h.must(404, &a, "POST", "/api/v1/teams/"+teamID+"/members", map[string]any{"email": "nobody@example.com"}).errorCode())
	members := h.must(200, &c, "GET", "/api/v1/teams/"+teamID+"/members", nil).items()
	require.Len(t, members, 3)
	require.Equal(t, c.ID, members[0]["user"].(map[string]any)["id"], "newest member first")

	// Roles: the last admin can neither be demoted nor leave; with a second admin, A can.
	require.Equal(t, "last_admin", h.must(409, &a, "PATCH", "/api/v1/teams/"+teamID+"/members/"+a.ID, map[string]any{"role": "member"}).errorCode())
	require.Equal(t, "last_admin", h.must(409, &a, "DELETE", "/api/v1/teams/"+teamID+"/members/"+a.ID, nil).errorCode())
	h.must(200, &a, "PATCH", "/api/v1/teams/"+teamID+"/members/"+c.ID, map[string]any{"role": "admin"})
	require.Equal(t, "admin", h.must(200, &c, "GET", "/api/v1/teams/"+teamID, nil).body["role"])
	h.must(200, &c, "PATCH", "/api/v1/teams/"+teamID+"/members/"+a.ID, map[string]any{"role": "member"})
	h.must(403, &a, "POST", "/api/v1/teams/"+teamID+"/join-code", nil)
	require.Equal(t, "last_admin", h.must(409, &c, "DELETE", "/api/v1/teams/"+teamID+"/members/"+c.ID, nil).errorCode())
	h.must(204, &a, "DELETE", "/api/v1/teams/"+teamID+"/members/"+a.ID, nil)
	h.must(404, &a, "GET", "/api/v1/teams/"+teamID, nil)
	require.Equal(t, "not_a_member", h.must(404, &c, "DELETE", "/api/v1/teams/"+teamID+"/members/"+a.ID, nil).errorCode())

	// Rotating the code kills the old one.
	newCode := h.must(200, &c, "POST", "/api/v1/teams/"+teamID+"/join-code", nil).body["join_code"].(string)
	require.NotEqual(t, code, newCode)
	require.Equal(t, "invalid_code", h.must(404, &a, "POST", "/api/v1/teams/join", map[string]any{"code": code}).errorCode())
	h.must(202, &a, "POST", "/api/v1/teams/join", map[string]any{"code": newCode})
}

// TestConcurrentComments: 50 parallel comments on one post give comment_count = 50,
// and concurrent deletes count down exactly.
func TestConcurrentComments(t *testing.T) {
	h := start(t, options{})
	a := h.users.add("alice")
	teamID, _ := h.createTeam(a)
	postID := h.post(a, teamID, "p")
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res := h.call(&a, "POST", "/api/v1/teams/"+teamID+"/posts/"+postID+"/comments", map[string]any{"text": fmt.Sprint("c", i)})
			if res.status != http.StatusCreated {
				t.Errorf("comment %d: %d %s", i, res.status, res.raw)
				return
			}
			ids[i] = res.obj("comment")["id"].(string)
		})
	}
	wg.Wait()
	countOf := func() float64 {
		items := h.must(200, &a, "GET", "/api/v1/teams/"+teamID+"/posts", nil).items()
		require.Len(t, items, 1)
		return items[0]["comment_count"].(float64)
	}
	require.EqualValues(t, n, countOf())

	for _, id := range ids[:20] {
		for range 2 {
			wg.Go(func() {
				res := h.call(&a, "DELETE", "/api/v1/teams/"+teamID+"/posts/"+postID+"/comments/"+id, nil)
				if res.status != http.StatusNoContent && res.status != http.StatusNotFound {
					t.Errorf("delete: %d %s", res.status, res.raw)
				}
			})
		}
	}
	wg.Wait()
	require.EqualValues(t, n-20, countOf())
	comments := h.must(200, &a, "GET", "/api/v1/teams/"+teamID+"/posts/"+postID+"/comments?limit=200", nil).items()
	require.Len(t, comments, n-20)
}

// TestConcurrentAccept: two admins accepting the same request at once make one
// membership; the other gets a 409.
func TestConcurrentAccept(t *testing.T) {
	h := start(t, options{})
	for range 5 {
		a1, a2, b := h.users.add("a1"), h.users.add("a2"), h.users.add("b")
		teamID, code := h.createTeam(a1)
		h.addMember(a1, teamID, a2)
		h.must(200, &a1, "PATCH", "/api/v1/teams/"+teamID+"/members/"+a2.ID, map[string]any{"role": "admin"})
		reqID := h.must(202, &b, "POST", "/api/v1/teams/join", map[string]any{"code": code}).obj("request")["id"].(string)

		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i, admin := range []user{a1, a2} {
			wg.Go(func() {
				statuses[i] = h.call(&admin, "POST", "/api/v1/teams/"+teamID+"/requests/"+reqID+"/accept", nil).status
			})
		}
		wg.Wait()
		require.ElementsMatch(t, []int{200, 409}, statuses)
		members := h.must(200, &a1, "GET", "/api/v1/teams/"+teamID+"/members", nil).items()
		require.Len(t, members, 3)
	}
}

// TestPostPaging pages through posts newest first with a stable cursor, and resolves
// the authors of a page with one users-svc call.
func TestPostPaging(t *testing.T) {
	h := start(t, options{tweak: func(c *service.Config) {
		// Expire user summaries at once, so that every page has to ask users-svc.
		c.UserCacheTTL = time.Nanosecond
	}})
	a := h.users.add("alice")
	teamID, _ := h.createTeam(a)
	authors := []user{a, h.users.add("bob"), h.users.add("carol")}
	for _, u := range authors[1:] {
		h.addMember(a, teamID, u)
	}
	var want []string
	for i := range 7 {
		want = append([]string{h.post(authors[i%3], teamID, fmt.Sprint("post ", i))}, want...)
	}
	// A post made while paging does not disturb the pages after the cursor.
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		before := h.users.getUsers.Load()
		path := "/api/v1/teams/" + teamID + "/posts?limit=3"
		if cursor != "" {
			path += "&before=" + cursor
		}
		res := h.must(200, &a, "GET", path, nil)
		require.Equal(t, int32(1), h.users.getUsers.Load()-before, "one users-svc call per page")
		for _, p := range res.items() {
			seen = append(seen, p["id"].(string))
			require.NotEmpty(t, p["author"].(map[string]any)["username"])
		}
		if page == 0 {
			h.post(a, teamID, "late")
		}
		cursor = res.body["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	require.Equal(t, want, seen)
}

// TestIdempotentPost: a retried POST with the same Idempotency-Key returns the first
// post instead of a duplicate.
func TestIdempotentPost(t *testing.T) {
	h := start(t, options{})
	a := h.users.add("alice")
	teamID, _ := h.createTeam(a)
	first := h.must(201, &a, "POST", "/api/v1/teams/"+teamID+"/posts", map[string]any{"text": "once"}, "Idempotency-Key", "k-1")
	again := h.must(200, &a, "POST", "/api/v1/teams/"+teamID+"/posts", map[string]any{"text": "once"}, "Idempotency-Key", "k-1")
	require.Equal(t, first.obj("post")["id"], again.obj("post")["id"])
	postID := first.obj("post")["id"].(string)
	c1 := h.must(201, &a, "POST", "/api/v1/teams/"+teamID+"/posts/"+postID+"/comments", map[string]any{"text": "c"}, "Idempotency-Key", "k-1")
	c2 := h.must(200, &a, "POST", "/api/v1/teams/"+teamID+"/posts/"+postID+"/comments", map[string]any{"text": "c"}, "Idempotency-Key", "k-1")
	require.Equal(t, c1.obj("comment")["id"], c2.obj("comment")["id"])
	items := h.must(200, &a, "GET", "/api/v1/teams/"+teamID+"/posts", nil).items()
	require.Len(t, items, 1)
	require.EqualValues(t, 1, items[0]["comment_count"])
}

// TestRateLimits: wrong join codes are limited per user (and a blocked user cannot
// tell a right code from a wrong one); writes are limited per user.
func TestRateLimits(t *testing.T) {
	h := start(t, options{tweak: func(c *service.Config) {
		c.JoinFailuresPerMinute = 3
		c.WritesPerMinute = 5
	}})
	a, guesser, other := h.users.add("alice"), h.users.add("guesser"), h.users.add("other")
	teamID, code := h.createTeam(a)
	for range 3 {
		require.Equal(t, "invalid_code", h.must(404, &guesser, "POST", "/api/v1/teams/join", map[string]any{"code": "ZZZZZZZZZZZZ"}).errorCode())
	}
	require.Equal(t, "rate_limited", h.must(429, &guesser, "POST", "/api/v1/teams/join", map[string]any{"code": "ZZZZZZZZZZZZ"}).errorCode())
	require.Equal(t, "rate_limited", h.must(429, &guesser, "POST", "/api/v1/teams/join", map[string]any{"code": code}).errorCode())
	h.must(202, &other, "POST", "/api/v1/teams/join", map[string]any{"code": code})

	// alice used one write creating the team.
	for range 4 {
		h.post(a, teamID, "p")
	}
	res := h.must(429, &a, "POST", "/api/v1/teams/"+teamID+"/posts", map[string]any{"text": "too many"})
	require.Equal(t, "rate_limited", res.errorCode())
	require.NotEmpty(t, res.header.Get("Retry-After"))
	require.Len(t, h.must(200, &a, "GET", "/api/v1/teams/"+teamID+"/posts", nil).items(), 4, "a refused write changes nothing")
}

// TestEmbeddedDefaults runs the main flow on the embedded setup of `make run`: SQLite,
// in-process cache and limiter.
func TestEmbeddedDefaults(t *testing.T) {
	h := start(t, options{embedded: true})
	a, b := h.users.add("alice"), h.users.add("bob")
	teamID, code := h.createTeam(a)
	reqID := h.must(202, &b, "POST", "/api/v1/teams/join", map[string]any{"code": code}).obj("request")["id"].(string)
	h.must(200, &a, "POST", "/api/v1/teams/"+teamID+"/requests/"+reqID+"/accept", nil)
	postID := h.post(b, teamID, "hello")
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if res := h.call(&a, "POST", "/api/v1/teams/"+teamID+"/posts/"+postID+"/comments", map[string]any{"text": "c"}); res.status != 201 {
				t.Errorf("comment: %d %s", res.status, res.raw)
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, 20, h.must(200, &b, "GET", "/api/v1/teams/"+teamID+"/posts", nil).items()[0]["comment_count"])
	res, err := h.membership(teamID, b.ID)
	require.NoError(t, err)
	require.True(t, res.GetMember())
	h.must(204, &a, "DELETE", "/api/v1/teams/"+teamID+"/members/"+b.ID, nil)
	res, err = h.membership(teamID, b.ID)
	require.NoError(t, err)
	require.False(t, res.GetMember())
	h.must(204, &a, "DELETE", "/api/v1/teams/"+teamID, nil)
	require.Eventually(t, func() bool { return len(h.conference.calls()) == 1 }, 10*time.Second, 20*time.Millisecond)
}
