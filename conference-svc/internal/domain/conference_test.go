package domain

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewConference(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600))
	cases := []struct {
		name  string
		title string
		start time.Time
		err   error
	}{
		{"valid", "  Standup ", at, nil},
		{"blank title", " \t", at, ErrTitleRequired},
		{"title at the limit", strings.Repeat("ü", MaxTitleLen), at, nil},
		{"title over the limit", strings.Repeat("ü", MaxTitleLen+1), at, ErrTitleTooLong},
		{"control character", "a\nb", at, ErrTitleInvalid},
		{"zero time", "t", time.Time{}, ErrStartsAtInvalid},
		{"far future", "t", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), ErrStartsAtInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewConference(NewConferenceParams{ID: "c", TeamID: "t", Title: tc.title, StartsAt: tc.start, CreatedBy: "u", Now: at})
			require.ErrorIs(t, err, tc.err)
			if tc.err == nil {
				require.Equal(t, StatusScheduled, c.Status)
				require.Equal(t, time.UTC, c.StartsAt.Location())
				require.Zero(t, c.StartsAt.Nanosecond(), "whole seconds")
				require.Equal(t, strings.TrimSpace(tc.title), c.Title)
			}
		})
	}
}

func TestApply(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	base, err := NewConference(NewConferenceParams{ID: "c", Title: "t", StartsAt: at, Now: at})
	require.NoError(t, err)
	title, blank, on := "new", "", true
	later := at.Add(time.Hour)
	cases := []struct {
		name  string
		start Status
		patch Patch
		err   error
	}{
		{"title", StatusScheduled, Patch{Title: &title}, nil},
		{"all fields", StatusLive, Patch{Title: &title, StartsAt: &later, WaitingRoom: &on}, nil},
		{"blank title", StatusScheduled, Patch{Title: &blank}, ErrTitleRequired},
		{"ended", StatusEnded, Patch{Title: &title}, ErrEnded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			c.Status = tc.start
			err := c.Apply(tc.patch, at)
			require.ErrorIs(t, err, tc.err)
			if tc.err != nil {
				require.Equal(t, "t", c.Title, "a failed edit changes nothing")
			}
		})
	}
}
