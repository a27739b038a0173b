package adapters_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/db"
	"github.com/convene/convene/platform/testkit"
	"github.com/convene/convene/teams-svc/internal/adapters"
	"github.com/convene/convene/teams-svc/internal/domain"
	"github.com/convene/convene/teams-svc/migrations"
)

// TestRepository runs one suite, with the same assertions, on Postgres and on SQLite
// (the embedded default).
func TestRepository(t *testing.T) {
	backends := map[string]func(t *testing.T) db.Params{
		"postgres": func(t *testing.T) db.Params { return db.Params{URL: testkit.NewPostgresDB(t)} },
		"sqlite":   func(t *testing.T) db.Params { return db.Params{SQLitePath: filepath.Join(t.TempDir(), "teams.db")} },
	}
	for name, params := range backends {
		t.Run(name, func(t *testing.T) {
			for _, tc := range repoSuite {
				t.Run(tc.name, func(t *testing.T) {
					p := params(t)
					p.Migrations = migrations.FS
					gdb, err := db.Open(context.Background(), p)
					require.NoError(t, err)
					t.Cleanup(func() {
						if sqlDB, err := gdb.DB(); err == nil {
							sqlDB.Close()
						}
					})
					tc.run(t, adapters.NewRepository(gdb))
				})
			}
		})
	}
}

var repoSuite = []struct {
	name string
	run  func(t *testing.T, r *adapters.Repository)
}{
	{"teams", testTeams},
	{"join requests", testJoinRequests},
	{"concurrent accepts make one membership", testConcurrentAccept},
	{"roster and last admin", testRoster},
	{"last admin under concurrency", testLastAdminConcurrent},
	{"posts and pagination", testPosts},
	{"comment count under concurrency", testCommentCount},
	{"delete team cascades and records the event", testDeleteTeam},
	{"outbox claims", testOutbox},
}

var ctx = context.Background()

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// newTeam stores a team with admin as its first admin.
func newTeam(t *testing.T, r *adapters.Repository, admin string) domain.Team {
	t.Helper()
	team, err := domain.NewTeam("team "+admin, "", now())
	require.NoError(t, err)
	require.NoError(t, r.CreateTeam(ctx, team, domain.NewMembership(team.ID, admin, domain.RoleAdmin, now())))
	return team
}

func addMember(t *testing.T, r *adapters.Repository, teamID, user string, role domain.Role) {
	t.Helper()
	require.NoError(t, r.AddMember(ctx, domain.NewMembership(teamID, user, role, now()), "test"))
}

func testTeams(t *testing.T, r *adapters.Repository) {
	admin := domain.NewID()
	team := newTeam(t, r, admin)

	got, err := r.Team(ctx, team.ID)
	require.NoError(t, err)
	require.Equal(t, team, got)
	_, err = r.Team(ctx, domain.NewID())
	require.ErrorIs(t, err, domain.ErrNotFound)

	byCode, err := r.TeamByJoinCode(ctx, team.JoinCode)
	require.NoError(t, err)
	require.Equal(t, team.ID, byCode.ID)

	other, err := domain.NewTeam("other", "", now())
	require.NoError(t, err)
	other.JoinCode = team.JoinCode
	require.ErrorIs(t, r.CreateTeam(ctx, other, domain.NewMembership(other.ID, admin, domain.RoleAdmin, now())), domain.ErrJoinCodeTaken)
	_, err = r.Team(ctx, other.ID)
	require.ErrorIs(t, err, domain.ErrNotFound, "a failed create leaves nothing behind")

	code := domain.NewJoinCode()
	require.NoError(t, r.SetJoinCode(ctx, team.ID, code))
	_, err = r.TeamByJoinCode(ctx, team.JoinCode)
	require.ErrorIs(t, err, domain.ErrNotFound, "the old code is dead")
	require.ErrorIs(t, r.SetJoinCode(ctx, domain.NewID(), domain.NewJoinCode()), domain.ErrNotFound)

	team.Name, team.Description, team.JoinCode = "renamed", "about", code
	require.NoError(t, r.UpdateTeam(ctx, team))
	got, err = r.Team(ctx, team.ID)
	require.NoError(t, err)
	require.Equal(t, team, got)

	m, err := r.Membership(ctx, team.ID, admin)
	require.NoError(t, err)
	require.Equal(t, domain.RoleAdmin, m.Role)
	_, err = r.Membership(ctx, team.ID, domain.NewID())
	require.ErrorIs(t, err, domain.ErrNotMember)
	_, err = r.Membership(ctx, domain.NewID(), admin)
	require.ErrorIs(t, err, domain.ErrNotFound)

	// Five teams of one user, paged two at a time, newest first.
	user := domain.NewID()
	var want []string
	for range 5 {
		tm := newTeam(t, r, domain.NewID())
		addMember(t, r, tm.ID, user, domain.RoleMember)
		want = append([]string{tm.ID}, want...)
	}
	var seen []string
	cursor := ""
	for {
		p, err := r.TeamsOf(ctx, user, domain.Page{Limit: 2, Cursor: cursor})
		require.NoError(t, err)
		for _, tm := range p.Items {
			require.Equal(t, domain.RoleMember, tm.Membership.Role)
			seen = append(seen, tm.Team.ID)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	require.Equal(t, want, seen)
}

func testJoinRequests(t *testing.T, r *adapters.Repository) {
	admin, user := domain.NewID(), domain.NewID()
	team := newTeam(t, r, admin)

	req := domain.NewJoinRequest(team.ID, user, now())
	require.NoError(t, r.CreateJoinRequest(ctx, req))
	require.ErrorIs(t, r.CreateJoinRequest(ctx, domain.NewJoinRequest(team.ID, user, now())), domain.ErrRequestPending)
	require.ErrorIs(t, r.CreateJoinRequest(ctx, domain.NewJoinRequest(team.ID, admin, now())), domain.ErrAlreadyMember)
	require.ErrorIs(t, r.CreateJoinRequest(ctx, domain.NewJoinRequest(domain.NewID(), user, now())), domain.ErrNotFound)

	pending, err := r.PendingRequests(ctx, team.ID, domain.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, pending.Items, 1)
	require.Equal(t, req.ID, pending.Items[0].ID)

	other := newTeam(t, r, domain.NewID())
	_, _, err = r.AcceptRequest(ctx, other.ID, req.ID, admin, now())
	require.ErrorIs(t, err, domain.ErrNotFound, "a request is only reachable through its own team")
	_, _, err = r.AcceptRequest(ctx, team.ID, domain.NewID(), admin, now())
	require.ErrorIs(t, err, domain.ErrNotFound)

	accepted, m, err := r.AcceptRequest(ctx, team.ID, req.ID, admin, now())
	require.NoError(t, err)
	require.Equal(t, domain.RequestAccepted, accepted.Status)
	require.Equal(t, admin, accepted.DecidedBy)
	require.Equal(t, user, m.UserID)
	require.Equal(t, domain.RoleMember, m.Role)
	_, _, err = r.AcceptRequest(ctx, team.ID, req.ID, admin, now())
	require.ErrorIs(t, err, domain.ErrRequestNotPending)
	_, err = r.RejectRequest(ctx, team.ID, req.ID, admin, now())
	require.ErrorIs(t, err, domain.ErrRequestNotPending)

	// A rejected request cannot be accepted; the user may ask again afterwards.
	u2 := domain.NewID()
	r2 := domain.NewJoinRequest(team.ID, u2, now())
	require.NoError(t, r.CreateJoinRequest(ctx, r2))
	rejected, err := r.RejectRequest(ctx, team.ID, r2.ID, admin, now())
	require.NoError(t, err)
	require.Equal(t, domain.RequestRejected, rejected.Status)
	_, _, err = r.AcceptRequest(ctx, team.ID, r2.ID, admin, now())
	require.ErrorIs(t, err, domain.ErrRequestNotPending)
	_, err = r.Membership(ctx, team.ID, u2)
	require.ErrorIs(t, err, domain.ErrNotMember)
	require.NoError(t, r.CreateJoinRequest(ctx, domain.NewJoinRequest(team.ID, u2, now())))

	// Adding the user directly settles their pending request.
	addMember(t, r, team.ID, u2, domain.RoleMember)
	pending, err = r.PendingRequests(ctx, team.ID, domain.Page{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, pending.Items)
	require.ErrorIs(t, r.AddMember(ctx, domain.NewMembership(team.ID, u2, domain.RoleMember, now()), admin), domain.ErrAlreadyMember)
	require.ErrorIs(t, r.AddMember(ctx, domain.NewMembership(domain.NewID(), u2, domain.RoleMember, now()), admin), domain.ErrNotFound)
}

func testConcurrentAccept(t *testing.T, r *adapters.Repository) {
	admin, user := domain.NewID(), domain.NewID()
	team := newTeam(t, r, admin)
	req := domain.NewJoinRequest(team.ID, user, now())
	require.NoError(t, r.CreateJoinRequest(ctx, req))

	const n = 10
	var ok, notPending atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, _, err := r.AcceptRequest(ctx, team.ID, req.ID, admin, now())
			switch {
			case err == nil:
				ok.Add(1)
			case err == domain.ErrRequestNotPending:
				notPending.Add(1)
			default:
				t.Errorf("accept: %v", err)
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, 1, ok.Load())
	require.EqualValues(t, n-1, notPending.Load())
	all, err := r.AllMembers(ctx, team.ID)
	require.NoError(t, err)
	require.Len(t, all, 2)
}

func testRoster(t *testing.T, r *adapters.Repository) {
	admin, member := domain.NewID(), domain.NewID()
	team := newTeam(t, r, admin)
	addMember(t, r, team.ID, member, domain.RoleMember)

	rule := func(role domain.Role) func(domain.RosterChange) error {
		return func(c domain.RosterChange) error { return c.ChangeRole(role) }
	}
	remove := func(c domain.RosterChange) error { return c.Remove() }

	_, err := r.ChangeRole(ctx, team.ID, member, admin, domain.RoleMember, rule(domain.RoleMember))
	require.ErrorIs(t, err, domain.ErrForbidden)
	_, err = r.ChangeRole(ctx, team.ID, admin, admin, domain.RoleMember, rule(domain.RoleMember))
	require.ErrorIs(t, err, domain.ErrLastAdmin)
	require.ErrorIs(t, r.RemoveMember(ctx, team.ID, admin, admin, remove), domain.ErrLastAdmin)
	_, err = r.ChangeRole(ctx, domain.NewID(), admin, member, domain.RoleAdmin, rule(domain.RoleAdmin))
	require.ErrorIs(t, err, domain.ErrNotFound)

	m, err := r.ChangeRole(ctx, team.ID, admin, member, domain.RoleAdmin, rule(domain.RoleAdmin))
	require.NoError(t, err)
	require.Equal(t, domain.RoleAdmin, m.Role)
	// Now two admins: the first may step down and leave.
	_, err = r.ChangeRole(ctx, team.ID, admin, admin, domain.RoleMember, rule(domain.RoleMember))
	require.NoError(t, err)
	require.NoError(t, r.RemoveMember(ctx, team.ID, admin, admin, remove))
	_, err = r.Membership(ctx, team.ID, admin)
	require.ErrorIs(t, err, domain.ErrNotMember)
	require.ErrorIs(t, r.RemoveMember(ctx, team.ID, member, domain.NewID(), remove), domain.ErrNotMember)
	all, err := r.AllMembers(ctx, team.ID)
	require.NoError(t, err)
	require.Len(t, all, 1)
	_, err = r.AllMembers(ctx, domain.NewID())
	require.ErrorIs(t, err, domain.ErrNotFound)
}

// testLastAdminConcurrent has two admins try to leave at once: one must stay.
func testLastAdminConcurrent(t *testing.T, r *adapters.Repository) {
	for range 5 {
		a, b := domain.NewID(), domain.NewID()
		team := newTeam(t, r, a)
		addMember(t, r, team.ID, b, domain.RoleAdmin)
		remove := func(c domain.RosterChange) error { return c.Remove() }
		demote := func(c domain.RosterChange) error { return c.ChangeRole(domain.RoleMember) }

		errs := make([]error, 2)
		var wg sync.WaitGroup
		wg.Go(func() { errs[0] = r.RemoveMember(ctx, team.ID, a, a, remove) })
		wg.Go(func() { _, errs[1] = r.ChangeRole(ctx, team.ID, b, b, domain.RoleMember, demote) })
		wg.Wait()
		failed := 0
		for _, err := range errs {
			if err != nil {
				require.ErrorIs(t, err, domain.ErrLastAdmin)
				failed++
			}
		}
		require.Equal(t, 1, failed, "exactly one of the two changes is refused")
		all, err := r.AllMembers(ctx, team.ID)
		require.NoError(t, err)
		admins := 0
		for _, m := range all {
			if m.IsAdmin() {
				admins++
			}
		}
		require.Equal(t, 1, admins)
	}
}

func testPosts(t *testing.T, r *adapters.Repository) {
	admin := domain.NewID()
	team := newTeam(t, r, admin)
	var want []string
	for i := range 7 {
		p, err := domain.NewPost(team.ID, admin, fmt.Sprintf("post %d", i), now())
		require.NoError(t, err)
		stored, created, err := r.CreatePost(ctx, p, "")
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, p, stored)
		want = append([]string{p.ID}, want...)
	}
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 4)
		pg, err := r.Posts(ctx, team.ID, domain.Page{Limit: 3, Cursor: cursor})
		require.NoError(t, err)
		for _, p := range pg.Items {
			seen = append(seen, p.ID)
		}
		if pg.Next == "" {
			break
		}
		cursor = pg.Next
	}
	require.Equal(t, want, seen, "newest first, nothing missed or repeated")

	// Idempotent create: the same key from the same author returns the first post.
	p, err := domain.NewPost(team.ID, admin, "once", now())
	require.NoError(t, err)
	first, created, err := r.CreatePost(ctx, p, "key-1")
	require.NoError(t, err)
	require.True(t, created)
	retry, err := domain.NewPost(team.ID, admin, "once", now())
	require.NoError(t, err)
	again, created, err := r.CreatePost(ctx, retry, "key-1")
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, first, again)
	_, _, err = r.CreatePost(ctx, domain.Post{ID: domain.NewID(), TeamID: domain.NewID(), AuthorID: admin, Text: "x", CreatedAt: now()}, "")
	require.ErrorIs(t, err, domain.ErrNotFound)

	edited := now()
	first.Text, first.EditedAt = "edited", &edited
	require.NoError(t, r.UpdatePost(ctx, first))
	got, err := r.Post(ctx, team.ID, first.ID)
	require.NoError(t, err)
	require.Equal(t, first, got)
	other := newTeam(t, r, admin)
	_, err = r.Post(ctx, other.ID, first.ID)
	require.ErrorIs(t, err, domain.ErrNotFound, "a post is only reachable through its own team")

	c, err := domain.NewComment(team.ID, first.ID, admin, "c", now())
	require.NoError(t, err)
	_, _, err = r.CreateComment(ctx, c, "")
	require.NoError(t, err)
	require.NoError(t, r.DeletePost(ctx, team.ID, first.ID))
	require.ErrorIs(t, r.DeletePost(ctx, team.ID, first.ID), domain.ErrNotFound)
	_, err = r.Comment(ctx, team.ID, first.ID, c.ID)
	require.ErrorIs(t, err, domain.ErrNotFound, "comments go with their post")
	_, _, err = r.CreateComment(ctx, c, "")
	require.ErrorIs(t, err, domain.ErrNotFound)
}

func testCommentCount(t *testing.T, r *adapters.Repository) {
	admin := domain.NewID()
	team := newTeam(t, r, admin)
	post, err := domain.NewPost(team.ID, admin, "p", now())
	require.NoError(t, err)
	_, _, err = r.CreatePost(ctx, post, "")
	require.NoError(t, err)

	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := domain.NewComment(team.ID, post.ID, admin, fmt.Sprintf("c%d", i), now())
			if err != nil {
				t.Error(err)
				return
			}
			if _, _, err := r.CreateComment(ctx, c, ""); err != nil {
				t.Errorf("comment: %v", err)
			}
			ids[i] = c.ID
		})
	}
	wg.Wait()
	got, err := r.Post(ctx, team.ID, post.ID)
	require.NoError(t, err)
	require.EqualValues(t, n, got.CommentCount)

	// A retried comment (same key) is stored and counted once.
	c, err := domain.NewComment(team.ID, post.ID, admin, "once", now())
	require.NoError(t, err)
	_, created, err := r.CreateComment(ctx, c, "k")
	require.NoError(t, err)
	require.True(t, created)
	c2, err := domain.NewComment(team.ID, post.ID, admin, "once", now())
	require.NoError(t, err)
	stored, created, err := r.CreateComment(ctx, c2, "k")
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, c.ID, stored.ID)

	// Deleting 25 comments concurrently, each twice, uncounts each once.
	var deleted atomic.Int32
	for _, id := range ids[:25] {
		for range 2 {
			wg.Go(func() {
				err := r.DeleteComment(ctx, team.ID, post.ID, id)
				if err == nil {
					deleted.Add(1)
				} else if err != domain.ErrNotFound {
					t.Errorf("delete: %v", err)
				}
			})
		}
	}
	wg.Wait()
	require.EqualValues(t, 25, deleted.Load())
	got, err = r.Post(ctx, team.ID, post.ID)
	require.NoError(t, err)
	require.EqualValues(t, n-25+1, got.CommentCount)

	// Oldest first, paged.
	var seen []string
	cursor := ""
	for {
		pg, err := r.Comments(ctx, team.ID, post.ID, domain.Page{Limit: 10, Cursor: cursor})
		require.NoError(t, err)
		for _, c := range pg.Items {
			seen = append(seen, c.ID)
		}
		if pg.Next == "" {
			break
		}
		cursor = pg.Next
	}
	require.Len(t, seen, n-25+1)
	require.IsIncreasing(t, seen)
}

func testDeleteTeam(t *testing.T, r *adapters.Repository) {
	admin, member := domain.NewID(), domain.NewID()
	team := newTeam(t, r, admin)
	addMember(t, r, team.ID, member, domain.RoleMember)
	require.NoError(t, r.CreateJoinRequest(ctx, domain.NewJoinRequest(team.ID, domain.NewID(), now())))
	post, err := domain.NewPost(team.ID, admin, "p", now())
	require.NoError(t, err)
	_, _, err = r.CreatePost(ctx, post, "")
	require.NoError(t, err)
	c, err := domain.NewComment(team.ID, post.ID, member, "c", now())
	require.NoError(t, err)
	_, _, err = r.CreateComment(ctx, c, "")
	require.NoError(t, err)

	ev := domain.NewTeamDeleted(team.ID, now())
	members, err := r.DeleteTeam(ctx, team.ID, ev)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{admin, member}, members)

	_, err = r.Team(ctx, team.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = r.Post(ctx, team.ID, post.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = r.Comment(ctx, team.ID, post.ID, c.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	pending, err := r.PendingRequests(ctx, team.ID, domain.Page{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, pending.Items)
	teams, err := r.TeamsOf(ctx, member, domain.Page{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, teams.Items)

	due, err := r.Due(ctx, now(), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	require.Equal(t, ev, due[0])

	_, err = r.DeleteTeam(ctx, team.ID, domain.NewTeamDeleted(team.ID, now()))
	require.ErrorIs(t, err, domain.ErrNotFound)
	due, err = r.Due(ctx, now(), 10)
	require.NoError(t, err)
	require.Len(t, due, 1, "a failed delete records no event")
}

func testOutbox(t *testing.T, r *adapters.Repository) {
	team := newTeam(t, r, domain.NewID())
	ev := domain.NewTeamDeleted(team.ID, now())
	_, err := r.DeleteTeam(ctx, team.ID, ev)
	require.NoError(t, err)

	due, err := r.Due(ctx, now(), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	ok, err := r.Claim(ctx, due[0], now().Add(time.Minute))
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = r.Claim(ctx, due[0], now().Add(time.Minute))
	require.NoError(t, err)
	require.False(t, ok, "a second relay holding the same version loses")
	due, err = r.Due(ctx, now(), 10)
	require.NoError(t, err)
	require.Empty(t, due, "a claimed event is not due during its lease")

	require.NoError(t, r.Retry(ctx, ev.ID, now().Add(-time.Second), strings.Repeat("é\x00", 1000)))
	due, err = r.Due(ctx, now(), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	require.Equal(t, 1, due[0].Attempts)

	require.NoError(t, r.Delivered(ctx, ev.ID))
	due, err = r.Due(ctx, now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, due)
}
