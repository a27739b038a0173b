package domain

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewRegistration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		username string
		email    string
		password string
		err      error
		email2   string
	}{
		{"valid", "alice", "alice@example.com", "password1", nil, "alice@example.com"},
		{"email normalised", "alice", "  Alice@Example.COM ", "password1", nil, "alice@example.com"},
		{"all allowed username chars", "a_b.c-D9", "a@b.io", "password1", nil, "a@b.io"},
		{"username 3", "abc", "a@b.io", "password1", nil, "a@b.io"},
		{"username 32", strings.Repeat("a", 32), "a@b.io", "password1", nil, "a@b.io"},
		{"username missing", "", "a@b.io", "password1", ErrUsernameRequired, ""},
		{"username short", "ab", "a@b.io", "password1", ErrUsernameInvalid, ""},
		{"username long", strings.Repeat("a", 33), "a@b.io", "password1", ErrUsernameInvalid, ""},
		{"username space", "al ice", "a@b.io", "password1", ErrUsernameInvalid, ""},
		{"username unicode", "alicé", "a@b.io", "password1", ErrUsernameInvalid, ""},
		{"username at", "al@ce", "a@b.io", "password1", ErrUsernameInvalid, ""},
		{"email missing", "alice", "", "password1", ErrEmailRequired, ""},
		{"email blank", "alice", "   ", "password1", ErrEmailRequired, ""},
		{"email no at", "alice", "alice.example.com", "password1", ErrEmailInvalid, ""},
		{"email display name", "alice", "Alice <alice@example.com>", "password1", ErrEmailInvalid, ""},
		{"email dotless domain", "alice", "alice@localhost", "password1", ErrEmailInvalid, ""},
		{"email trailing dot", "alice", "alice@example.com.", "password1", ErrEmailInvalid, ""},
		{"email too long", "alice", strings.Repeat("a", 250) + "@b.io", "password1", ErrEmailInvalid, ""},
		{"email two ats", "alice", "a@b@c.io", "password1", ErrEmailInvalid, ""},
		{"password missing", "alice", "a@b.io", "", ErrPasswordRequired, ""},
		{"password 7", "alice", "a@b.io", "1234567", ErrPasswordTooShort, ""},
		{"password 8", "alice", "a@b.io", "12345678", nil, "a@b.io"},
		{"password 8 runes in 16 bytes", "alice", "a@b.io", "éééééééé", nil, "a@b.io"},
		{"password 7 runes in 14 bytes", "alice", "a@b.io", "ééééééé", ErrPasswordTooShort, ""},
		{"password 256 bytes", "alice", "a@b.io", strings.Repeat("p", 256), nil, "a@b.io"},
		{"password 257 bytes", "alice", "a@b.io", strings.Repeat("p", 257), ErrPasswordTooLong, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, err := NewRegistration(tc.username, tc.email, tc.password)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.email2, reg.Email)
			require.Equal(t, tc.username, reg.Username)
		})
	}
}

func TestParseLogin(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		login    string
		password string
		want     Login
		err      error
	}{
		{"email", " Alice@Example.com ", "pw", Login{Email: "alice@example.com"}, nil},
		{"username", "Alice", "pw", Login{UsernameKey: "alice"}, nil},
		{"missing login", " ", "pw", Login{}, ErrLoginRequired},
		{"login too long", strings.Repeat("a", 255), "pw", Login{}, ErrLoginTooLong},
		{"missing password", "alice", "", Login{}, ErrPasswordRequired},
		{"password too long", "alice", strings.Repeat("p", 257), Login{}, ErrPasswordTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseLogin(tc.login, tc.password)
			require.ErrorIs(t, err, tc.err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestValidID(t *testing.T) {
	t.Parallel()
	id, err := NewID()
	require.NoError(t, err)
	cases := []struct {
		id   string
		want bool
	}{
		{id, true},
		{"", false},
		{"not-a-uuid", false},
		{strings.ReplaceAll(id, "-", ""), false},
		{"{" + id + "}", false},
		{strings.Repeat("z", 36), false},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, ValidID(tc.id), tc.id)
	}
}
