package service_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestBadInput sends every endpoint what it must refuse: each answer is a 4xx with a
// specific code, and nothing changes.
func TestBadInput(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	alice, bob := h.users.add("alice"), h.users.add("bob")
	chat := h.createChat(alice, "Existing", bob)
	require.Eventually(t, func() bool { return len(h.messages.eventsFor(chat.ID)) == 1 }, 10*time.Second, 10*time.Millisecond)
	chatPath := "/api/v1/chats/" + chat.ID
	unknownID := uuid.Must(uuid.NewV7()).String()

	tooManyEmails := make([]string, 101)
	for i := range tooManyEmails {
		tooManyEmails[i] = fmt.Sprintf("u%d@example.com", i)
	}
	hugeTitle := `{"title":"` + strings.Repeat("x", 40<<10) + `"}`

	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
	}{
		// POST /api/v1/chats
		{"create: malformed JSON", http.MethodPost, "/api/v1/chats", `{"title":`, 400, "invalid_json"},
		{"create: not an object", http.MethodPost, "/api/v1/chats", `["a"]`, 400, "invalid_json"},
		{"create: empty body", http.MethodPost, "/api/v1/chats", ``, 400, "invalid_json"},
		{"create: trailing data", http.MethodPost, "/api/v1/chats", `{"title":"a"}{}`, 400, "invalid_json"},
		{"create: title of the wrong type", http.MethodPost, "/api/v1/chats", `{"title":5}`, 400, "invalid_field"},
		{"create: member_emails of the wrong type", http.MethodPost, "/api/v1/chats", `{"title":"a","member_emails":"b@example.com"}`, 400, "invalid_field"},
		{"create: missing title", http.MethodPost, "/api/v1/chats", `{}`, 400, "title_required"},
		{"create: blank title", http.MethodPost, "/api/v1/chats", `{"title":"   "}`, 400, "title_required"},
		{"create: title over 200 characters", http.MethodPost, "/api/v1/chats", map[string]string{"title": strings.Repeat("ü", 201)}, 400, "title_too_long"},
		{"create: 101 member emails", http.MethodPost, "/api/v1/chats", map[string]any{"title": "a", "member_emails": tooManyEmails}, 400, "too_many_members"},
		{"create: malformed email", http.MethodPost, "/api/v1/chats", `{"title":"a","member_emails":["not-an-email"]}`, 400, "invalid_email"},
		{"create: empty email", http.MethodPost, "/api/v1/chats", `{"title":"a","member_emails":[""]}`, 400, "email_required"},
		{"create: oversized body", http.MethodPost, "/api/v1/chats", hugeTitle, 413, "body_too_large"},
		// GET /api/v1/chats
		{"list: limit 0", http.MethodGet, "/api/v1/chats?limit=0", nil, 400, "invalid_limit"},
		{"list: negative limit", http.MethodGet, "/api/v1/chats?limit=-1", nil, 400, "invalid_limit"},
		{"list: limit over 200", http.MethodGet, "/api/v1/chats?limit=201", nil, 400, "invalid_limit"},
		{"list: limit not a number", http.MethodGet, "/api/v1/chats?limit=ten", nil, 400, "invalid_limit"},
		{"list: malformed cursor", http.MethodGet, "/api/v1/chats?before=%25%25", nil, 400, "invalid_cursor"},
		{"list: cursor of garbage", http.MethodGet, "/api/v1/chats?before=Z2FyYmFnZQ", nil, 400, "invalid_cursor"},
		// GET /api/v1/chats/{id}
		{"get: malformed id", http.MethodGet, "/api/v1/chats/not-a-uuid", nil, 404, "chat_not_found"},
		{"get: unknown id", http.MethodGet, "/api/v1/chats/" + unknownID, nil, 404, "chat_not_found"},
		{"get: SQL in the id", http.MethodGet, "/api/v1/chats/'%20OR%201=1--", nil, 404, "chat_not_found"},
		// POST /api/v1/chats/{id}/members
		{"add: malformed JSON", http.MethodPost, chatPath + "/members", `{"email"`, 400, "invalid_json"},
		{"add: email of the wrong type", http.MethodPost, chatPath + "/members", `{"email":["x"]}`, 400, "invalid_field"},
		{"add: missing email", http.MethodPost, chatPath + "/members", `{}`, 400, "email_required"},
		{"add: malformed email", http.MethodPost, chatPath + "/members", `{"email":"bob at example"}`, 400, "invalid_email"},
		{"add: over-long email", http.MethodPost, chatPath + "/members", map[string]string{"email": strings.Repeat("a", 250) + "@x.io"}, 400, "invalid_email"},
		{"add: oversized body", http.MethodPost, chatPath + "/members", `{"email":"` + strings.Repeat("a", 40<<10) + `"}`, 413, "body_too_large"},
		{"add: malformed chat id", http.MethodPost, "/api/v1/chats/nope/members", map[string]string{"email": bob.GetEmail()}, 404, "chat_not_found"},
		{"add: unknown chat id", http.MethodPost, "/api/v1/chats/" + unknownID + "/members", map[string]string{"email": bob.GetEmail()}, 404, "chat_not_found"},
		// DELETE /api/v1/chats/{id}/members/{user_id}
		{"remove: malformed user id", http.MethodDelete, chatPath + "/members/nope", nil, 404, "member_not_found"},
		{"remove: unknown user id", http.MethodDelete, chatPath + "/members/" + unknownID, nil, 404, "member_not_found"},
		{"remove: malformed chat id", http.MethodDelete, "/api/v1/chats/nope/members/" + bob.GetId(), nil, 404, "chat_not_found"},
		{"remove: unknown chat id", http.MethodDelete, "/api/v1/chats/" + unknownID + "/members/" + bob.GetId(), nil, 404, "chat_not_found"},
		// Routing
		{"unknown route", http.MethodGet, "/api/v1/chats/" + chat.ID + "/nothing", nil, 404, "not_found"},
		{"wrong method", http.MethodPatch, chatPath, nil, 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(alice, tc.method, tc.path, tc.body)
			require.Equal(t, tc.status, r.Status, string(r.Body))
			require.Equal(t, tc.code, r.errorCode(), string(r.Body))
		})
	}

	// Nothing changed: alice still has the one chat, with the same members, and no event
	// was recorded beyond the chat's creation.
	r := h.do(alice, http.MethodGet, "/api/v1/chats", nil)
	var list struct {
		Items []chatBody `json:"items"`
	}
	r.decode(t, &list)
	require.Len(t, list.Items, 1)
	_, members := h.getChat(alice, chat.ID)
	require.Equal(t, sortedIDs(alice, bob), memberIDs(members))
	require.Never(t, func() bool { return len(h.messages.eventsFor(chat.ID)) > 1 }, 200*time.Millisecond, 20*time.Millisecond)
}
