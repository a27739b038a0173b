package service_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/platform/testkit"
	teamsv1 "github.com/convene/convene/proto/teams/v1"
)

// TestMembershipCache: after the first call, membership answers come from the in-process
// L1 or Redis (the hit counters in /metrics move, the database counter does not); a
// removal invalidates at once.
func TestMembershipCache(t *testing.T) {
	h := start(t, options{})
	a, b := h.users.add("alice"), h.users.add("bob")
	teamID, _ := h.createTeam(a)
	h.addMember(a, teamID, b)

	hits := func() float64 {
		return h.metric("teams_cache_requests_total", "cache", "membership", "result", "hit") +
			h.metric("teams_cache_requests_total", "cache", "membership", "result", "l1_hit")
	}
	queries := func() float64 { return h.metric("teams_sql_statements_total", "kind", "row") }

	res, err := h.membership(teamID, b.ID)
	require.NoError(t, err)
	require.True(t, res.GetMember())
	require.Equal(t, teamsv1.Role_ROLE_MEMBER, res.GetRole())

	hits0, queries0 := hits(), queries()
	for range 10 {
		res, err := h.membership(teamID, b.ID)
		require.NoError(t, err)
		require.True(t, res.GetMember())
	}
	require.Equal(t, hits0+10, hits(), "answered from the cache")
	require.Equal(t, queries0, queries(), "without asking the database")

	list, err := h.teams.ListMembers(context.Background(), &teamsv1.ListMembersRequest{TeamId: teamID})
	require.NoError(t, err)
	require.Len(t, list.GetMembers(), 2)

	// Removal is visible at once, over gRPC and HTTP.
	h.must(200, &b, "GET", "/api/v1/teams/"+teamID, nil)
	h.must(204, &a, "DELETE", "/api/v1/teams/"+teamID+"/members/"+b.ID, nil)
	res, err = h.membership(teamID, b.ID)
	require.NoError(t, err)
	require.False(t, res.GetMember())
	h.must(404, &b, "GET", "/api/v1/teams/"+teamID, nil)
	list, err = h.teams.ListMembers(context.Background(), &teamsv1.ListMembersRequest{TeamId: teamID})
	require.NoError(t, err)
	require.Len(t, list.GetMembers(), 1)

	// Joining again is visible at once too (the cached "not a member" is dropped).
	h.addMember(a, teamID, b)
	res, err = h.membership(teamID, b.ID)
	require.NoError(t, err)
	require.True(t, res.GetMember())
	h.must(200, &a, "PATCH", "/api/v1/teams/"+teamID+"/members/"+b.ID, map[string]any{"role": "admin"})
	res, err = h.membership(teamID, b.ID)
	require.NoError(t, err)
	require.Equal(t, teamsv1.Role_ROLE_ADMIN, res.GetRole())

	// A deleted team is gone for its members at once.
	h.must(204, &a, "DELETE", "/api/v1/teams/"+teamID, nil)
	res, err = h.membership(teamID, a.ID)
	if err == nil {
		require.False(t, res.GetMember())
	} else {
		require.Equal(t, codes.NotFound, status.Code(err))
	}
	h.must(404, &a, "GET", "/api/v1/teams/"+teamID, nil)
}

// TestGRPCAuthorization: services may ask anything; a user passed on by a service may
// ask about themself, or about a team they belong to.
func TestGRPCAuthorization(t *testing.T) {
	h := start(t, options{})
	a, b, outsider := h.users.add("alice"), h.users.add("bob"), h.users.add("outsider")
	teamID, _ := h.createTeam(a)
	h.addMember(a, teamID, b)
	unknown := "0190f0e4-a0b2-7c3d-8e9f-0a1b2c3d4e5f"

	cases := []struct {
		name       string
		ctx        context.Context
		team, user string
		code       codes.Code
		member     bool
	}{
		{"service asks", context.Background(), teamID, b.ID, codes.OK, true},
		{"service asks about an outsider", context.Background(), teamID, outsider.ID, codes.OK, false},
		{"service asks about no team", context.Background(), unknown, b.ID, codes.NotFound, false},
		{"member asks about self", asUser(b), teamID, b.ID, codes.OK, true},
		{"member asks about another", asUser(b), teamID, a.ID, codes.OK, true},
		{"outsider asks about self", asUser(outsider), teamID, outsider.ID, codes.OK, false},
		{"outsider asks about a member", asUser(outsider), teamID, a.ID, codes.NotFound, false},
		{"malformed team id", context.Background(), "nope", b.ID, codes.InvalidArgument, false},
		{"malformed user id", context.Background(), teamID, "", codes.InvalidArgument, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := h.teams.GetMembership(tc.ctx, &teamsv1.GetMembershipRequest{TeamId: tc.team, UserId: tc.user})
			require.Equal(t, tc.code, status.Code(err), "%v", err)
			if err == nil {
				require.Equal(t, tc.member, res.GetMember())
			}
		})
	}
	_, err := h.teams.ListMembers(asUser(outsider), &teamsv1.ListMembersRequest{TeamId: teamID})
	require.Equal(t, codes.NotFound, status.Code(err))
	_, err = h.teams.ListMembers(asUser(b), &teamsv1.ListMembersRequest{TeamId: teamID})
	require.NoError(t, err)
	_, err = h.teams.ListMembers(context.Background(), &teamsv1.ListMembersRequest{TeamId: unknown})
	require.Equal(t, codes.NotFound, status.Code(err))
}

// startRedis runs a throwaway Redis on a free port, so that a test can stop it without
// touching the shared one.
func startRedis(t testing.TB) (url string, stop func()) {
	t.Helper()
	addr := testkit.FreeAddr(t)
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	require.NoError(t, cmd.Start())
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 5*time.Second, 20*time.Millisecond)
	return fmt.Sprintf("redis://%s/0", addr), stop
}

// TestRedisDown: with Redis stopped, membership answers still come, correctly, from the
// database, and membership changes still take effect.
func TestRedisDown(t *testing.T) {
	url, stopRedis := startRedis(t)
	h := start(t, options{redisURL: url})
	a, b, c := h.users.add("alice"), h.users.add("bob"), h.users.add("carol")
	teamID, code := h.createTeam(a)
	h.addMember(a, teamID, b)
	res, err := h.membership(teamID, b.ID)
	require.NoError(t, err)
	require.True(t, res.GetMember())

	stopRedis()

	for range 3 {
		res, err = h.membership(teamID, b.ID)
		require.NoError(t, err)
		require.True(t, res.GetMember())
		res, err = h.membership(teamID, c.ID)
		require.NoError(t, err)
		require.False(t, res.GetMember())
	}
	h.must(200, &b, "GET", "/api/v1/teams/"+teamID+"/posts", nil)
	h.must(204, &a, "DELETE", "/api/v1/teams/"+teamID+"/members/"+b.ID, nil)
	res, err = h.membership(teamID, b.ID)
	require.NoError(t, err)
	require.False(t, res.GetMember(), "the change is seen although the cache could not be told")
	h.must(404, &b, "GET", "/api/v1/teams/"+teamID, nil)
	reqID := h.must(202, &c, "POST", "/api/v1/teams/join", map[string]any{"code": code}).obj("request")["id"].(string)
	h.must(200, &a, "POST", "/api/v1/teams/"+teamID+"/requests/"+reqID+"/accept", nil)
	h.must(201, &c, "POST", "/api/v1/teams/"+teamID+"/posts", map[string]any{"text": "still here"})

	ready, err := http.Get(h.base + "/readyz")
	require.NoError(t, err)
	ready.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, ready.StatusCode, "readiness reports the dependency")
}
