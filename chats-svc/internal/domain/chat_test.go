package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/chats-svc/internal/domain"
)

func TestNewChat(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600))
	cases := []struct {
		name, title, want string
		err               error
	}{
		{"ok", "Design", "Design", nil},
		{"trimmed", "  Design  ", "Design", nil},
		{"empty", "", "", domain.ErrTitleRequired},
		{"blank", " \t\n", "", domain.ErrTitleRequired},
		{"200 characters", strings.Repeat("é", 200), strings.Repeat("é", 200), nil},
		{"201 characters", strings.Repeat("é", 201), "", domain.ErrTitleTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := domain.NewChat("id", tc.title, "creator", now)
			require.ErrorIs(t, err, tc.err)
			if tc.err == nil {
				require.Equal(t, tc.want, c.Title)
				require.Equal(t, time.UTC, c.CreatedAt.Location())
				require.Equal(t, 123456000, c.CreatedAt.Nanosecond(), "kept to the microsecond, as Postgres does")
			}
		})
	}
}

func TestParseMemberEmails(t *testing.T) {
	many := make([]string, domain.MaxMemberEmails+1)
	for i := range many {
		many[i] = strings.Repeat("a", i+1) + "@example.com"
	}
	cases := []struct {
		name string
		in   []string
		want []string
		err  error
	}{
		{"none", nil, []string{}, nil},
		{"trimmed", []string{" bob@example.com "}, []string{"bob@example.com"}, nil},
		{"duplicates dropped, first spelling kept", []string{"Bob@example.com", "bob@EXAMPLE.com"}, []string{"Bob@example.com"}, nil},
		{"the maximum", many[:domain.MaxMemberEmails], many[:domain.MaxMemberEmails], nil},
		{"one too many", many, nil, domain.ErrTooManyMembers},
		{"blank entry", []string{"bob@example.com", " "}, nil, domain.ErrEmailRequired},
		{"not an address", []string{"bob"}, nil, domain.ErrInvalidEmail},
		{"display name form", []string{"Bob <bob@example.com>"}, nil, domain.ErrInvalidEmail},
		{"too long", []string{strings.Repeat("a", 250) + "@x.io"}, nil, domain.ErrInvalidEmail},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ParseMemberEmails(tc.in)
			require.ErrorIs(t, err, tc.err)
			if tc.err == nil {
				require.Equal(t, tc.want, got)
			}
		})
	}
}

func TestRosterRules(t *testing.T) {
	const creator, member, other, outsider = "creator", "member", "other", "outsider"
	newRoster := func() *domain.Roster {
		return &domain.Roster{Chat: domain.Chat{ID: "c", CreatedBy: creator}, Members: []string{creator, member, other}}
	}
	cases := []struct {
		name        string
		op          func(r *domain.Roster) error
		err         error
		wantMembers []string
	}{
		{"a member adds someone", func(r *domain.Roster) error { return r.Add(member, "new") }, nil, []string{creator, member, other, "new"}},
		{"adding a member twice", func(r *domain.Roster) error { return r.Add(member, other) }, domain.ErrAlreadyMember, nil},
		{"an outsider cannot add", func(r *domain.Roster) error { return r.Add(outsider, "new") }, domain.ErrChatNotFound, nil},
		{"a member leaves", func(r *domain.Roster) error { return r.Remove(member, member) }, nil, []string{creator, other}},
		{"the creator removes a member", func(r *domain.Roster) error { return r.Remove(creator, other) }, nil, []string{creator, member}},
		{"the creator leaves", func(r *domain.Roster) error { return r.Remove(creator, creator) }, nil, []string{member, other}},
		{"a member cannot remove another", func(r *domain.Roster) error { return r.Remove(member, other) }, domain.ErrForbidden, nil},
		{"a member cannot remove the creator", func(r *domain.Roster) error { return r.Remove(member, creator) }, domain.ErrForbidden, nil},
		{"the creator removes a non-member", func(r *domain.Roster) error { return r.Remove(creator, outsider) }, domain.ErrMemberNotFound, nil},
		{"an outsider cannot remove", func(r *domain.Roster) error { return r.Remove(outsider, member) }, domain.ErrChatNotFound, nil},
		{"an outsider cannot leave", func(r *domain.Roster) error { return r.Remove(outsider, outsider) }, domain.ErrChatNotFound, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRoster()
			err := tc.op(r)
			require.ErrorIs(t, err, tc.err)
			if tc.err == nil {
				require.Equal(t, tc.wantMembers, r.Members)
			} else {
				require.Equal(t, newRoster().Members, r.Members, "a refused change changes nothing")
			}
		})
	}
}

func TestEventFrames(t *testing.T) {
	chat := domain.Chat{ID: "c1", Title: "T", CreatedBy: "u1", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	added := domain.NewChatAdded("e1", chat, []string{"u1", "u2"}, chat.CreatedAt)
	require.JSONEq(t, `{"type":"chat_added","event_id":"e1","chat":{"id":"c1","title":"T","created_by":"u1","created_at":"2026-01-02T03:04:05Z"}}`, string(added.Frame))
	require.Equal(t, []string{"u1", "u2"}, added.UserIDs)
	require.Equal(t, chat.CreatedAt, added.NextAttemptAt, "due at once")

	removed := domain.NewMemberChanged("e2", domain.FrameMemberRemoved, "c1", "u2", []string{"u1", "u2"}, chat.CreatedAt)
	require.JSONEq(t, `{"type":"member_removed","event_id":"e2","chat_id":"c1","user_id":"u2"}`, string(removed.Frame))
}
