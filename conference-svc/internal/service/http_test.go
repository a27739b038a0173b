package service

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/grpcx"
	"github.com/convene/convene/platform/testkit"
	conferencev1 "github.com/convene/convene/proto/conference/v1"
)

func TestConferenceLifecycleOverHTTP(t *testing.T) {
	h := startService(t, harnessOptions{})
	host, member, outsider := newID(), newID(), newID()
	team := h.teams.team(host, member)

	r := h.do(t, http.MethodPost, "/api/v1/teams/"+team+"/conferences", host, map[string]any{
		"title": "  Planning  ", "starts_at": "2030-05-01T12:30:00+02:00", "waiting_room": true,
	})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	var created conferenceView
	r.json(t, &created)
	c := created.Conference
	require.Equal(t, "host", created.Role)
	require.Equal(t, "Planning", c.Title)
	require.Equal(t, "2030-05-01T10:30:00Z", c.StartsAt, "stored and shown in UTC")
	require.Equal(t, "scheduled", c.Status)
	require.Equal(t, host, c.CreatedBy)
	require.True(t, c.WaitingRoom)

	require.Equal(t, "participant", h.conference(t, c.ID, member).Role)
	require.Equal(t, http.StatusNotFound, h.do(t, http.MethodGet, "/api/v1/conferences/"+c.ID, outsider, nil).status)

	// A member who is not host can neither edit nor delete.
	r = h.do(t, http.MethodPatch, "/api/v1/conferences/"+c.ID, member, map[string]any{"title": "Mine"})
	require.Equal(t, http.StatusForbidden, r.status)
	require.Equal(t, "not_host", r.code(t))
	require.Equal(t, http.StatusForbidden, h.do(t, http.MethodDelete, "/api/v1/conferences/"+c.ID, member, nil).status)

	r = h.do(t, http.MethodPatch, "/api/v1/conferences/"+c.ID, host, map[string]any{"title": "Retro", "waiting_room": false})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var edited conferenceView
	r.json(t, &edited)
	require.Equal(t, "Retro", edited.Conference.Title)
	require.False(t, edited.Conference.WaitingRoom)
	require.Equal(t, c.StartsAt, edited.Conference.StartsAt, "fields left out stay as they were")

	r = h.do(t, http.MethodGet, "/api/v1/conferences/"+c.ID+"/ics", member, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "text/calendar"))
	require.Contains(t, string(r.body), "BEGIN:VEVENT\r\n")
	require.Contains(t, string(r.body), "DTSTART:20300501T103000Z\r\n")
	require.Contains(t, string(r.body), "SUMMARY:Retro\r\n")

	require.Equal(t, http.StatusNoContent, h.do(t, http.MethodDelete, "/api/v1/conferences/"+c.ID, host, nil).status)
	require.Equal(t, http.StatusNotFound, h.do(t, http.MethodGet, "/api/v1/conferences/"+c.ID, host, nil).status)
	require.Equal(t, http.StatusNotFound, h.do(t, http.MethodDelete, "/api/v1/conferences/"+c.ID, host, nil).status)
}

func TestListByStartsAtWithPages(t *testing.T) {
	h := startService(t, harnessOptions{})
	host := newID()
	team := h.teams.team(host)
	other := h.teams.team(host)
	starts := []string{"2030-03-01T10:00:00Z", "2030-01-01T10:00:00Z", "2030-02-01T10:00:00Z"}
	for _, s := range starts {
		r := h.do(t, http.MethodPost, "/api/v1/teams/"+team+"/conferences", host, map[string]any{"title": "x", "starts_at": s})
		require.Equal(t, http.StatusCreated, r.status)
	}
	h.createConference(t, other, host, false)

	type page struct {
		Items []struct {
			StartsAt string `json:"starts_at"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	var got []string
	cursor := ""
	for range 3 {
		r := h.do(t, http.MethodGet, "/api/v1/teams/"+team+"/conferences?limit=2&after="+cursor, host, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		var p page
		r.json(t, &p)
		for _, it := range p.Items {
			got = append(got, it.StartsAt)
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	require.Equal(t, []string{"2030-01-01T10:00:00Z", "2030-02-01T10:00:00Z", "2030-03-01T10:00:00Z"}, got)
}

func TestBadInputChangesNothing(t *testing.T) {
	h := startService(t, harnessOptions{})
	host, member, outsider := newID(), newID(), newID()
	team := h.teams.team(host, member)
	downTeam := h.teams.team(host)
	h.teams.setDown(downTeam, true)
	confID := h.createConference(t, team, host, false)
	confPath := "/api/v1/conferences/" + confID
	create := "/api/v1/teams/" + team + "/conferences"

	cases := []struct {
		name   string
		method string
		path   string
		user   string
		body   any
		status int
		code   string
	}{
		{"no identity", http.MethodGet, confPath, "", nil, 401, "unauthenticated"},
		{"malformed json", http.MethodPost, create, host, `{"title":`, 400, "invalid_json"},
		{"not an object", http.MethodPost, create, host, `[1]`, 400, "invalid_json"},
		{"wrong type", http.MethodPost, create, host, `{"title":5,"starts_at":"2030-01-01T00:00:00Z"}`, 400, "invalid_field"},
		{"missing title", http.MethodPost, create, host, map[string]any{"starts_at": "2030-01-01T00:00:00Z"}, 400, "title_required"},
		{"blank title", http.MethodPost, create, host, map[string]any{"title": "  ", "starts_at": "2030-01-01T00:00:00Z"}, 400, "title_required"},
		{"long title", http.MethodPost, create, host, map[string]any{"title": strings.Repeat("é", 201), "starts_at": "2030-01-01T00:00:00Z"}, 400, "title_too_long"},
		{"control characters", http.MethodPost, create, host, map[string]any{"title": "a\x00b", "starts_at": "2030-01-01T00:00:00Z"}, 400, "invalid_title"},
		{"missing starts_at", http.MethodPost, create, host, map[string]any{"title": "t"}, 400, "starts_at_required"},
		{"malformed starts_at", http.MethodPost, create, host, map[string]any{"title": "t", "starts_at": "tomorrow"}, 400, "invalid_starts_at"},
		{"starts_at out of range", http.MethodPost, create, host, map[string]any{"title": "t", "starts_at": "0001-01-01T00:00:00Z"}, 400, "starts_at_out_of_range"},
		{"oversized body", http.MethodPost, create, host, `{"title":"` + strings.Repeat("x", 9000) + `"}`, 413, "body_too_large"},
		{"malformed team id", http.MethodPost, "/api/v1/teams/not-a-uuid/conferences", host, map[string]any{"title": "t", "starts_at": "2030-01-01T00:00:00Z"}, 404, "not_found"},
		{"unknown team", http.MethodGet, "/api/v1/teams/" + newID() + "/conferences", host, nil, 404, "not_found"},
		{"outsider creates", http.MethodPost, create, outsider, map[string]any{"title": "t", "starts_at": "2030-01-01T00:00:00Z"}, 404, "not_found"},
		{"outsider lists", http.MethodGet, create, outsider, nil, 404, "not_found"},
		{"teams-svc down", http.MethodGet, "/api/v1/teams/" + downTeam + "/conferences", host, nil, 503, "unavailable"},
		{"limit zero", http.MethodGet, create + "?limit=0", host, nil, 400, "invalid_limit"},
		{"limit too large", http.MethodGet, create + "?limit=201", host, nil, 400, "invalid_limit"},
		{"limit not a number", http.MethodGet, create + "?limit=ten", host, nil, 400, "invalid_limit"},
		{"malformed cursor", http.MethodGet, create + "?after=zzz", host, nil, 400, "invalid_cursor"},
		{"malformed conference id", http.MethodGet, "/api/v1/conferences/42", host, nil, 404, "not_found"},
		{"unknown conference", http.MethodGet, "/api/v1/conferences/" + newID(), host, nil, 404, "not_found"},
		{"patch wrong type", http.MethodPatch, confPath, host, `{"waiting_room":"yes"}`, 400, "invalid_field"},
		{"patch blank title", http.MethodPatch, confPath, host, map[string]any{"title": ""}, 400, "title_required"},
		{"patch bad time", http.MethodPatch, confPath, host, map[string]any{"starts_at": 5}, 400, "invalid_field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(t, tc.method, tc.path, tc.user, tc.body)
			require.Equal(t, tc.status, r.status, string(r.body))
			require.Equal(t, tc.code, r.code(t))
		})
	}

	v := h.conference(t, confID, host)
	require.Equal(t, "Standup", v.Conference.Title, "failed edits changed nothing")
	r := h.do(t, http.MethodGet, create, host, nil)
	var list struct {
		Items []any `json:"items"`
	}
	r.json(t, &list)
	require.Len(t, list.Items, 1, "failed creates created nothing")
}

func TestCreateIsIdempotentAndRateLimited(t *testing.T) {
	h := startService(t, harnessOptions{createLimit: 3})
	host := newID()
	team := h.teams.team(host)
	other := h.teams.team(host)
	post := func(team, key string) response {
		req, err := http.NewRequest(http.MethodPost, h.base+"/api/v1/teams/"+team+"/conferences",
			strings.NewReader(`{"title":"t","starts_at":"2030-01-01T00:00:00Z"}`))
		require.NoError(t, err)
		req.Header.Set(authn.Header, h.identity(host))
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return response{status: resp.StatusCode, header: resp.Header, body: raw}
	}
	first := post(team, "k1")
	require.Equal(t, http.StatusCreated, first.status)
	again := post(team, "k1")
	require.Equal(t, http.StatusOK, again.status, "a retry answers with the first result")
	var a, b conferenceView
	first.json(t, &a)
	again.json(t, &b)
	require.Equal(t, a.Conference.ID, b.Conference.ID)
	r := post(other, "k1")
	require.Equal(t, http.StatusConflict, r.status)
	require.Equal(t, "idempotency_key_reused", r.code(t))

	r = post(team, "")
	require.Equal(t, http.StatusTooManyRequests, r.status, "the fourth create within a minute")
	require.Equal(t, "rate_limited", r.code(t))
	require.NotEmpty(t, r.header.Get("Retry-After"))

	r = post(team, strings.Repeat("k", 129))
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, "invalid_idempotency_key", r.code(t))
}

func TestDeleteTeamConferencesOverGRPC(t *testing.T) {
	h := startService(t, harnessOptions{})
	admin, member := newID(), newID()
	team := h.teams.team(admin, member)
	keep := h.teams.team(admin)
	c1 := h.createConference(t, team, admin, false)
	h.createConference(t, team, member, false)
	kept := h.createConference(t, keep, admin, false)

	// Someone in the room is told the conference ended.
	ws := h.dial(t, c1, member)
	ws.send(map[string]string{"type": "join"})
	ws.expect("joined")

	conn, err := grpcx.Dial(grpcx.ClientParams{
		Service: Name, Signer: authn.NewSigner(testkit.Secret), Caller: "teams-svc",
		Resolver: discovery.NewStatic(func(k string) string {
			if k == "CONFERENCE_SVC_GRPC_ADDRS" {
				return h.grpcAddr
			}
			return ""
		}),
	})
	require.NoError(t, err)
	defer conn.Close()
	client := conferencev1.NewConferenceServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// A member who is not the team's admin may not wipe it.
	asMember := authn.WithIdentity(ctx, authn.Identity{UserID: member})
	_, err = client.DeleteTeamConferences(asMember, &conferencev1.DeleteTeamConferencesRequest{TeamId: team})
	require.Equal(t, codes.PermissionDenied, status.Code(err))

	resp, err := client.DeleteTeamConferences(ctx, &conferencev1.DeleteTeamConferencesRequest{TeamId: team})
	require.NoError(t, err)
	require.EqualValues(t, 2, resp.GetDeleted())
	ws.expect("ended", "tracks", "participant_joined")
	ws.waitClosed()

	// Again, after teams-svc forgot the team, with the admin's identity: nothing left.
	h.teams.deleteTeam(team)
	asAdmin := authn.WithIdentity(ctx, authn.Identity{UserID: admin})
	resp, err = client.DeleteTeamConferences(asAdmin, &conferencev1.DeleteTeamConferencesRequest{TeamId: team})
	require.NoError(t, err)
	require.Zero(t, resp.GetDeleted())

	require.Equal(t, http.StatusNotFound, h.do(t, http.MethodGet, "/api/v1/conferences/"+c1, admin, nil).status)
	require.Equal(t, http.StatusOK, h.do(t, http.MethodGet, "/api/v1/conferences/"+kept, admin, nil).status)
}
