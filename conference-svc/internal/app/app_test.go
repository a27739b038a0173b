package app

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/conference-svc/internal/domain"
)

// memConfs is an in-memory domain.Conferences.
type memConfs struct {
	confs map[string]domain.Conference
	hosts map[string]bool
}

func newMem() *memConfs {
	return &memConfs{confs: map[string]domain.Conference{}, hosts: map[string]bool{}}
}

func (m *memConfs) Create(_ context.Context, c domain.Conference, _ string) (domain.Conference, bool, error) {
	m.confs[c.ID] = c
	m.hosts[c.ID+"/"+c.CreatedBy] = true
	return c, true, nil
}
func (m *memConfs) Get(_ context.Context, id string) (domain.Conference, error) {
	c, ok := m.confs[id]
	if !ok {
		return c, domain.ErrNotFound
	}
	return c, nil
}
func (m *memConfs) ListByTeam(_ context.Context, team string, p domain.Page) ([]domain.Conference, error) {
	var out []domain.Conference
	for _, c := range m.confs {
		if c.TeamID == team && len(out) < p.Limit {
			out = append(out, c)
		}
	}
	return out, nil
}
func (m *memConfs) Update(_ context.Context, id string, fn func(*domain.Conference) error) (domain.Conference, error) {
	c := m.confs[id]
	if err := fn(&c); err != nil {
		return domain.Conference{}, err
	}
	m.confs[id] = c
	return c, nil
}
func (m *memConfs) Delete(_ context.Context, id string) error { delete(m.confs, id); return nil }
func (m *memConfs) DeleteByTeam(_ context.Context, team string) ([]string, error) {
	var ids []string
	for id, c := range m.confs {
		if c.TeamID == team {
			ids = append(ids, id)
			delete(m.confs, id)
		}
	}
	return ids, nil
}
func (m *memConfs) IsHost(_ context.Context, conf, user string) (bool, error) {
	return m.hosts[conf+"/"+user], nil
}
func (m *memConfs) SetRole(_ context.Context, conf, user string, r domain.Role) error {
	m.hosts[conf+"/"+user] = r == domain.RoleHost
	return nil
}
func (m *memConfs) SetRoomState(_ context.Context, id string, st domain.Status, n int) error {
	c, ok := m.confs[id]
	if !ok {
		return domain.ErrNotFound
	}
	c.Status, c.ParticipantCount = st, n
	m.confs[id] = c
	return nil
}
func (m *memConfs) ListLive(_ context.Context, after string, limit int) ([]string, error) {
	var ids []string
	for id, c := range m.confs {
		if c.Status == domain.StatusLive && id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids[:min(limit, len(ids))], nil
}

// teams answers memberships from a map; a missing team is ErrNotFound.
type teams map[string]map[string]domain.TeamRole

func (t teams) Membership(_ context.Context, team, user string) (domain.TeamRole, error) {
	members, ok := t[team]
	if !ok {
		return "", domain.ErrNotFound
	}
	r, ok := members[user]
	if !ok {
		return "", domain.ErrNotMember
	}
	return r, nil
}

type rooms struct{ closed []string }

func (r *rooms) SettingsChanged(domain.Conference) {}
func (r *rooms) Closed(ids ...string)              { r.closed = append(r.closed, ids...) }

const (
	team   = "01a20000-0000-7000-8000-000000000001"
	gone   = "01a20000-0000-7000-8000-000000000002"
	admin  = "admin"
	member = "member"
)

func newApp() (*App, *memConfs, *rooms) {
	m, r := newMem(), &rooms{}
	a := New(Params{
		Conferences: m,
		Memberships: teams{team: {admin: domain.TeamAdmin, member: domain.TeamMember}},
		Rooms:       r,
		Now:         func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) },
	})
	return a, m, r
}

func TestDeleteTeamConferencesAuthorization(t *testing.T) {
	cases := []struct {
		name   string
		team   string
		caller string
		err    error
		closed int
	}{
		{"teams-svc itself", team, TeamsService, nil, 1},
		{"the team's admin", team, admin, nil, 1},
		{"a member", team, member, domain.ErrForbidden, 0},
		{"an outsider", team, "stranger", domain.ErrForbidden, 0},
		{"anyone, once the team is gone", gone, "stranger", nil, 0},
		{"a malformed team id", "x", TeamsService, domain.ErrNotFound, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, _, r := newApp()
			v, _, err := a.CreateConference(context.Background(), CreateConference{
				TeamID: team, UserID: member, Title: "t", StartsAt: time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC),
			})
			require.NoError(t, err)
			n, err := a.DeleteTeamConferences(context.Background(), tc.team, tc.caller)
			require.ErrorIs(t, err, tc.err)
			require.Equal(t, tc.closed, n)
			require.Len(t, r.closed, tc.closed)
			if tc.closed > 0 {
				require.Equal(t, v.Conference.ID, r.closed[0])
			}
		})
	}
}

func TestHostRules(t *testing.T) {
	a, _, r := newApp()
	ctx := context.Background()
	v, created, err := a.CreateConference(ctx, CreateConference{
		TeamID: team, UserID: member, Title: "t", StartsAt: time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC),
	})
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, domain.RoleHost, v.Role, "the creator is host")
	id := v.Conference.ID

	got, err := a.GetConference(ctx, id, admin)
	require.NoError(t, err)
	require.Equal(t, domain.RoleParticipant, got.Role, "a team admin is not a conference host")
	title := "x"
	_, err = a.UpdateConference(ctx, id, admin, domain.Patch{Title: &title})
	require.ErrorIs(t, err, domain.ErrNotHost)
	require.ErrorIs(t, a.SetRole(ctx, id, admin, member, domain.RoleParticipant), domain.ErrNotHost)
	require.ErrorIs(t, a.SetRole(ctx, id, member, "stranger", domain.RoleHost), domain.ErrNotMember)
	require.NoError(t, a.SetRole(ctx, id, member, admin, domain.RoleHost))
	_, err = a.UpdateConference(ctx, id, admin, domain.Patch{Title: &title})
	require.NoError(t, err, "a promoted host may edit")

	_, err = a.GetConference(ctx, id, "stranger")
	require.ErrorIs(t, err, domain.ErrNotMember)
	_, err = a.GetConference(ctx, "not-an-id", member)
	require.ErrorIs(t, err, domain.ErrNotFound)

	require.NoError(t, a.DeleteConference(ctx, id, admin))
	require.Equal(t, []string{id}, r.closed)
	_, err = a.JoinConference(ctx, id, member)
	require.True(t, errors.Is(err, domain.ErrNotFound))
}

func TestListLimits(t *testing.T) {
	a, _, _ := newApp()
	cases := []struct {
		limit int
		after string
		err   error
	}{
		{0, "", nil},
		{200, "", nil},
		{201, "", ErrInvalidLimit},
		{-1, "", ErrInvalidLimit},
		{10, "zzz", ErrInvalidCursor},
	}
	for _, tc := range cases {
		_, err := a.ListConferences(context.Background(), ListConferences{TeamID: team, UserID: member, Limit: tc.limit, After: tc.after})
		require.ErrorIs(t, err, tc.err, "limit %d after %q", tc.limit, tc.after)
	}
}

func TestLiveConferences(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name        string
		live, other int
	}{
		{"none", 0, 3},
		{"one page", 7, 2},
		{"exactly a page", livePage, 1},
		{"more than a page", livePage + 3, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMem()
			a := New(Params{Conferences: m, Memberships: teams{}})
			var want []string
			for i := range tc.live + tc.other {
				id := a.newID()
				st := domain.StatusScheduled
				if i%2 == 1 {
					st = domain.StatusEnded
				}
				if i < tc.live {
					st = domain.StatusLive
					want = append(want, id)
				}
				m.confs[id] = domain.Conference{ID: id, Status: st}
			}
			got, err := a.LiveConferences(ctx)
			require.NoError(t, err)
			require.ElementsMatch(t, want, got)
		})
	}
}
