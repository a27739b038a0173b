package domain

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewMessageValidates(t *testing.T) {
	cases := []struct {
		name, text, client, code string
	}{
		{"ok", "hi", "c1", ""},
		{"max text", strings.Repeat("é", MaxTextLength), "c1", ""},
		{"empty text", "", "c1", "text_required"},
		{"blank text", " \n\t", "c1", "text_required"},
		{"text too long", strings.Repeat("a", MaxTextLength+1), "c1", "text_too_long"},
		{"invalid utf-8", "a\xffb", "c1", "invalid_text"},
		{"no client id", "hi", "", "client_msg_id_required"},
		{"client id max", "hi", strings.Repeat("c", MaxClientMsgIDLength), ""},
		{"client id too long", "hi", strings.Repeat("c", MaxClientMsgIDLength+1), "client_msg_id_too_long"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMessage(NewMessageParams{ID: "id", ChatID: "c", SenderID: "u", Text: tc.text, ClientMsgID: tc.client, Now: time.Now()})
			if tc.code == "" {
				require.NoError(t, err)
				require.Equal(t, tc.text, m.Text)
				require.Equal(t, time.UTC, m.CreatedAt.Location())
				return
			}
			var v *ValidationError
			require.True(t, errors.As(err, &v), err)
			require.Equal(t, tc.code, v.Code)
		})
	}
}

func TestEditAndDeleteRules(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6789, time.FixedZone("x", 3600))
	cases := []struct {
		name    string
		deleted bool
		act     func(m *Message) error
		want    error
	}{
		{"sender edits", false, func(m *Message) error { return m.Edit("alice", "new", now) }, nil},
		{"other edits", false, func(m *Message) error { return m.Edit("bob", "new", now) }, ErrForbidden},
		{"edit deleted", true, func(m *Message) error { return m.Edit("alice", "new", now) }, ErrMessageDeleted},
		{"sender deletes", false, func(m *Message) error { return m.Delete("alice") }, nil},
		{"delete again", true, func(m *Message) error { return m.Delete("alice") }, nil},
		{"other deletes", false, func(m *Message) error { return m.Delete("bob") }, ErrForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := Message{SenderID: "alice", Text: "old", Deleted: tc.deleted}
			require.ErrorIs(t, tc.act(&m), tc.want)
		})
	}

	m := Message{SenderID: "alice", Text: "old"}
	require.NoError(t, m.Edit("alice", "new", now))
	require.Equal(t, "new", m.Text)
	require.Equal(t, Timestamp(now), *m.EditedAt)
	require.Equal(t, time.UTC, m.EditedAt.Location())
	require.Equal(t, 6000, m.EditedAt.Nanosecond(), "stored at microsecond precision")
	require.Error(t, m.Edit("alice", "", now))
	require.Equal(t, "new", m.Text, "a refused edit changes nothing")

	require.NoError(t, m.Delete("alice"))
	require.True(t, m.Deleted)
	require.Empty(t, m.Text)
}

func TestReadRules(t *testing.T) {
	for _, tc := range []struct {
		seq, last int64
		ok        bool
	}{{1, 1, true}, {5, 9, true}, {0, 9, false}, {-1, 9, false}, {10, 9, false}, {1, 0, false}} {
		err := ValidateReadSeq(tc.seq, tc.last)
		require.Equal(t, tc.ok, err == nil, "%d/%d", tc.seq, tc.last)
	}
	pos := []ReadPosition{{UserID: "alice", LastReadSeq: 9}, {UserID: "bob", LastReadSeq: 3}, {UserID: "carol", LastReadSeq: 5}}
	require.Equal(t, []string{"carol"}, ReadBy(Message{SenderID: "alice", Seq: 5}, pos), "the sender is never listed")
	require.Equal(t, []string{"bob", "carol"}, ReadBy(Message{SenderID: "alice", Seq: 3}, pos))
	require.Equal(t, []string{}, ReadBy(Message{SenderID: "bob", Seq: 10}, pos))
}

func TestValidID(t *testing.T) {
	id, err := NewID()
	require.NoError(t, err)
	for s, ok := range map[string]bool{
		id: true, "": false, "x": false, strings.ToUpper(id): false, "{" + id + "}": false, "urn:uuid:" + id: false,
	} {
		require.Equal(t, ok, ValidID(s), s)
	}
}
