package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/teams-svc/internal/domain"
)

func codeOf(err error) string {
	var v *domain.ValidationError
	if errors.As(err, &v) {
		return v.Code
	}
	return ""
}

func ptr(s string) *string { return &s }

func TestNewTeam(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name, teamName, description, code string
	}{
		{"ok", "Design", "pixels", ""},
		{"name trimmed", "  Design  ", "", ""},
		{"empty name", "", "", "name_required"},
		{"blank name", " \t ", "", "name_required"},
		{"name at limit", strings.Repeat("é", domain.MaxTeamNameLen), "", ""},
		{"name too long", strings.Repeat("é", domain.MaxTeamNameLen+1), "", "name_too_long"},
		{"NUL in name", "a\x00b", "", "name_invalid"},
		{"description too long", "x", strings.Repeat("d", domain.MaxDescriptionLen+1), "description_too_long"},
		{"NUL in description", "x", "a\x00", "description_invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team, err := domain.NewTeam(tc.teamName, tc.description, now)
			if tc.code != "" {
				require.Equal(t, tc.code, codeOf(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, strings.TrimSpace(tc.teamName), team.Name)
			require.True(t, domain.ValidID(team.ID))
			require.Len(t, team.JoinCode, domain.JoinCodeLen)
			require.Equal(t, now, team.CreatedAt)
		})
	}
}

func TestTeamUpdateKeepsAbsentFields(t *testing.T) {
	team := domain.Team{Name: "a", Description: "b"}
	require.NoError(t, team.Update(nil, ptr("c")))
	require.Equal(t, "a", team.Name)
	require.Equal(t, "c", team.Description)
	require.Equal(t, "name_required", codeOf(team.Update(ptr(""), nil)))
	require.Equal(t, "a", team.Name, "a refused update changes nothing")
}

func TestJoinCode(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := domain.NewJoinCode()
		require.Len(t, c, domain.JoinCodeLen)
		require.False(t, strings.ContainsAny(c, "01OIL"), "ambiguous characters are never used: %s", c)
		norm, err := domain.NormalizeJoinCode(c)
		require.NoError(t, err)
		require.Equal(t, c, norm)
		require.False(t, seen[c])
		seen[c] = true
	}

	cases := []struct {
		in, want string
		err      error
		code     string
	}{
		{in: "abcd-efgh-jkmn", want: "ABCDEFGHJKMN"},
		{in: " ABCD EFGH JKMN ", want: "ABCDEFGHJKMN"},
		{in: "", code: "code_required"},
		{in: "   ", code: "code_required"},
		{in: "ABCDEFGHJKM", err: domain.ErrInvalidCode},
		{in: "ABCDEFGHJKMNP", err: domain.ErrInvalidCode},
		{in: "ABCDEFGHJKM0", err: domain.ErrInvalidCode},
		{in: "ABCDEFGHJKMÉ", err: domain.ErrInvalidCode},
		{in: strings.Repeat("A", 10000), err: domain.ErrInvalidCode},
	}
	for _, tc := range cases {
		got, err := domain.NormalizeJoinCode(tc.in)
		switch {
		case tc.code != "":
			require.Equal(t, tc.code, codeOf(err), tc.in)
		case tc.err != nil:
			require.ErrorIs(t, err, tc.err, tc.in)
		default:
			require.NoError(t, err, tc.in)
			require.Equal(t, tc.want, got)
		}
	}
}

func TestParseRole(t *testing.T) {
	for in, want := range map[string]string{"admin": "", "member": "", "": "role_required", "owner": "invalid_role", "Admin": "invalid_role"} {
		_, err := domain.ParseRole(in)
		require.Equal(t, want, codeOf(err), in)
	}
}

func TestRosterChange(t *testing.T) {
	admin := &domain.Membership{UserID: "a", Role: domain.RoleAdmin}
	admin2 := &domain.Membership{UserID: "a2", Role: domain.RoleAdmin}
	member := &domain.Membership{UserID: "m", Role: domain.RoleMember}
	member2 := &domain.Membership{UserID: "m2", Role: domain.RoleMember}
	cases := []struct {
		name      string
		change    domain.RosterChange
		role      domain.Role
		roleErr   error
		removeErr error
	}{
		{"outsider", domain.RosterChange{Target: member, Admins: 1}, domain.RoleAdmin, domain.ErrNotFound, domain.ErrNotFound},
		{"member acts on another", domain.RosterChange{Actor: member, Target: member2, Admins: 1}, domain.RoleAdmin, domain.ErrForbidden, domain.ErrForbidden},
		{"member leaves", domain.RosterChange{Actor: member, Target: member, Admins: 1}, domain.RoleAdmin, domain.ErrForbidden, nil},
		{"member on a non-member", domain.RosterChange{Actor: member, Admins: 1}, domain.RoleAdmin, domain.ErrForbidden, domain.ErrForbidden},
		{"admin promotes", domain.RosterChange{Actor: admin, Target: member, Admins: 1}, domain.RoleAdmin, nil, nil},
		{"admin on a non-member", domain.RosterChange{Actor: admin, Admins: 1}, domain.RoleAdmin, domain.ErrNotMember, domain.ErrNotMember},
		{"last admin demotes self", domain.RosterChange{Actor: admin, Target: admin, Admins: 1}, domain.RoleMember, domain.ErrLastAdmin, domain.ErrLastAdmin},
		{"last admin keeps role", domain.RosterChange{Actor: admin, Target: admin, Admins: 1}, domain.RoleAdmin, nil, domain.ErrLastAdmin},
		{"one of two admins", domain.RosterChange{Actor: admin, Target: admin2, Admins: 2}, domain.RoleMember, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.change.ChangeRole(tc.role), tc.roleErr)
			if tc.roleErr == nil {
				require.NoError(t, tc.change.ChangeRole(tc.role))
			}
			require.ErrorIs(t, tc.change.Remove(), tc.removeErr)
			if tc.removeErr == nil {
				require.NoError(t, tc.change.Remove())
			}
		})
	}
}

func TestPostRules(t *testing.T) {
	now := time.Now()
	_, err := domain.NewPost("t", "u", "", now)
	require.Equal(t, "text_required", codeOf(err))
	_, err = domain.NewPost("t", "u", strings.Repeat("ü", domain.MaxTextLen+1), now)
	require.Equal(t, "text_too_long", codeOf(err))
	_, err = domain.NewComment("t", "p", "u", " \n", now)
	require.Equal(t, "text_required", codeOf(err))
	p, err := domain.NewPost("t", "author", strings.Repeat("ü", domain.MaxTextLen), now)
	require.NoError(t, err)

	author := domain.Membership{UserID: "author", Role: domain.RoleMember}
	other := domain.Membership{UserID: "other", Role: domain.RoleMember}
	admin := domain.Membership{UserID: "admin", Role: domain.RoleAdmin}
	cases := []struct {
		name            string
		actor           domain.Membership
		editErr, delErr error
	}{
		{"author", author, nil, nil},
		{"other member", other, domain.ErrForbidden, domain.ErrForbidden},
		{"admin", admin, domain.ErrForbidden, nil},
	}
	c, err := domain.NewComment("t", p.ID, "author", "hi", now)
	require.NoError(t, err)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.editErr, p.CanEdit(tc.actor))
			require.Equal(t, tc.delErr, p.CanDelete(tc.actor))
			require.Equal(t, tc.editErr, c.CanEdit(tc.actor))
			require.Equal(t, tc.delErr, c.CanDelete(tc.actor))
		})
	}
}

func TestNewPage(t *testing.T) {
	id := domain.NewID()
	cases := []struct {
		limit  int
		cursor string
		code   string
	}{
		{1, "", ""}, {200, id, ""}, {0, "", "invalid_limit"}, {201, "", "invalid_limit"}, {-1, "", "invalid_limit"},
		{50, "nope", "invalid_cursor"}, {50, strings.ToUpper(id) + "x", "invalid_cursor"},
	}
	for _, tc := range cases {
		_, err := domain.NewPage(tc.limit, tc.cursor)
		require.Equal(t, tc.code, codeOf(err), "%d %q", tc.limit, tc.cursor)
	}
}

func TestValidIDAndEmail(t *testing.T) {
	require.True(t, domain.ValidID(domain.NewID()))
	for _, bad := range []string{"", "1", "not-a-uuid", "0190f0e4a0b27c3d8e9f0a1b2c3d4e5f", "{0190f0e4-a0b2-7c3d-8e9f-0a1b2c3d4e5f}"} {
		require.False(t, domain.ValidID(bad), bad)
	}
	a, b := domain.NewID(), domain.NewID()
	require.Less(t, a, b, "ids sort in creation order")

	for in, want := range map[string]string{
		"a@b.c": "", "": "email_required", " ": "email_required", "nope": "invalid_email", "@b": "invalid_email", "a@": "invalid_email",
		strings.Repeat("a", 250) + "@b.cd": "email_too_long",
	} {
		require.Equal(t, want, codeOf(domain.CheckEmail(in)), in)
	}
}
