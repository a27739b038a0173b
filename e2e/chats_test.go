package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/tools/devstack/stack"
)

// chatJSON is API.md's chat.
type chatJSON struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	CreatedBy   string `json:"created_by"`
	CreatedAt   string `json:"created_at"`
	LastMessage *struct {
		ID     string `json:"id"`
		Seq    int64  `json:"seq"`
		Text   string `json:"text"`
		Sender struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		} `json:"sender"`
	} `json:"last_message"`
	UnreadCount int64 `json:"unread_count"`
}

type chatMemberJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

// TestChatsREST goes through the chat endpoints of chats-svc behind the gateway, with the
// real users-svc and messages-svc: creation with members, the list ordered by activity
// with last messages and unread counts, membership rules, chat_added on the socket.
func TestChatsREST(t *testing.T) {
	st := startStack(t, stack.Options{Services: []string{"users-svc", "chats-svc", "messages-svc"}})
	c := newClient(st)
	alice, bob, carol, eve := newUser(t, c), newUser(t, c), newUser(t, c), newUser(t, c)

	// Bob's socket is open before anything happens: chat_added must reach it.
	bobWS := c.ws(t, "/api/v1/ws", bob.Access)

	var created struct {
		Chat chatJSON `json:"chat"`
	}
	c.do(t, http.MethodPost, "/api/v1/chats", alice.Access, map[string]any{
		"title": "Launch", "member_emails": []string{bob.Email},
	}).expect(t, http.StatusCreated).json(t, &created)
	launch := created.Chat
	require.Equal(t, "Launch", launch.Title)
	require.Equal(t, alice.ID, launch.CreatedBy)
	require.Nil(t, launch.LastMessage)

	added := readUntil(t, bobWS, "chat_added", 15*time.Second)
	require.Equal(t, launch.ID, added["chat"].(map[string]any)["id"])

	var details struct {
		Chat    chatJSON         `json:"chat"`
		Members []chatMemberJSON `json:"members"`
	}
	c.do(t, http.MethodGet, "/api/v1/chats/"+launch.ID, bob.Access, nil).expect(t, http.StatusOK).json(t, &details)
	require.ElementsMatch(t, []chatMemberJSON{
		{ID: alice.ID, Username: alice.Username, Email: alice.Email},
		{ID: bob.ID, Username: bob.Username, Email: bob.Email},
	}, details.Members)

	// An unknown email creates nothing.
	r := c.do(t, http.MethodPost, "/api/v1/chats", alice.Access, map[string]any{
		"title": "Nope", "member_emails": []string{bob.Email, "nobody@example.test"},
	}).expect(t, http.StatusNotFound)
	require.Equal(t, "user_not_found", r.code(t))

	// A second, newer chat comes first, until a message makes the first one the latest.
	c.do(t, http.MethodPost, "/api/v1/chats", alice.Access, map[string]any{"title": "Later"}).
		expect(t, http.StatusCreated).json(t, &created)
	later := created.Chat
	require.Equal(t, []string{later.ID, launch.ID}, listChatIDs(t, c, alice))

	c.do(t, http.MethodPost, "/api/v1/chats/"+launch.ID+"/messages", bob.Access, map[string]any{
		"text": "hello", "client_msg_id": "e2e-chats-1",
	}).expect(t, http.StatusCreated)
	// messages-svc reports the activity to chats-svc asynchronously, within moments.
	require.Eventually(t, func() bool {
		return slices.Equal([]string{launch.ID, later.ID}, listChatIDs(t, c, alice))
	}, 10*time.Second, 50*time.Millisecond)
	var list struct {
		Items      []chatJSON `json:"items"`
		NextCursor string     `json:"next_cursor"`
	}
	c.do(t, http.MethodGet, "/api/v1/chats", alice.Access, nil).expect(t, http.StatusOK).json(t, &list)
	require.Len(t, list.Items, 2)
	require.Equal(t, launch.ID, list.Items[0].ID)
	require.NotNil(t, list.Items[0].LastMessage)
	require.Equal(t, "hello", list.Items[0].LastMessage.Text)
	require.Equal(t, bob.Username, list.Items[0].LastMessage.Sender.Username)
	require.Equal(t, int64(1), list.Items[0].UnreadCount)
	require.Empty(t, list.NextCursor)

	// Pages of one: the cursor walks the same order.
	var page struct {
		Items      []chatJSON `json:"items"`
		NextCursor string     `json:"next_cursor"`
	}
	c.do(t, http.MethodGet, "/api/v1/chats?limit=1", alice.Access, nil).expect(t, http.StatusOK).json(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, launch.ID, page.Items[0].ID)
	require.NotEmpty(t, page.NextCursor)
	c.do(t, http.MethodGet, "/api/v1/chats?limit=1&before="+page.NextCursor, alice.Access, nil).expect(t, http.StatusOK).json(t, &page)
	require.Equal(t, later.ID, page.Items[0].ID)
	require.Empty(t, page.NextCursor)

	// Membership rules.
	members := "/api/v1/chats/" + launch.ID + "/members"
	require.Equal(t, "already_member", c.do(t, http.MethodPost, members, alice.Access, map[string]string{"email": bob.Email}).expect(t, http.StatusConflict).code(t))
	require.Equal(t, "user_not_found", c.do(t, http.MethodPost, members, alice.Access, map[string]string{"email": "ghost@example.test"}).expect(t, http.StatusNotFound).code(t))
	c.do(t, http.MethodPost, members, bob.Access, map[string]string{"email": carol.Email}).expect(t, http.StatusCreated)
	require.Equal(t, "forbidden", c.do(t, http.MethodDelete, members+"/"+carol.ID, bob.Access, nil).expect(t, http.StatusForbidden).code(t))
	c.do(t, http.MethodDelete, members+"/"+carol.ID, carol.Access, nil).expect(t, http.StatusNoContent)
	require.Equal(t, "chat_not_found", c.do(t, http.MethodGet, "/api/v1/chats/"+launch.ID, carol.Access, nil).expect(t, http.StatusNotFound).code(t))
	c.do(t, http.MethodDelete, members+"/"+bob.ID, alice.Access, nil).expect(t, http.StatusNoContent)

	// Outsiders and anonymous callers see nothing.
	require.Equal(t, "chat_not_found", c.do(t, http.MethodGet, "/api/v1/chats/"+launch.ID, eve.Access, nil).expect(t, http.StatusNotFound).code(t))
	require.Equal(t, "chat_not_found", c.do(t, http.MethodPost, members, eve.Access, map[string]string{"email": eve.Email}).expect(t, http.StatusNotFound).code(t))
	c.do(t, http.MethodGet, "/api/v1/chats", "", nil).expect(t, http.StatusUnauthorized)

	// Bad input through the gateway: a 4xx with a code, never a 500.
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{http.MethodPost, "/api/v1/chats", `{"title":`, 400, "invalid_json"},
		{http.MethodPost, "/api/v1/chats", map[string]any{"title": ""}, 400, "title_required"},
		{http.MethodGet, "/api/v1/chats?limit=500", nil, 400, "invalid_limit"},
		{http.MethodGet, "/api/v1/chats/not-an-id", nil, 404, "chat_not_found"},
		{http.MethodDelete, members + "/not-an-id", nil, 404, "member_not_found"},
	} {
		r := c.do(t, tc.method, tc.path, alice.Access, tc.body).expect(t, tc.status)
		require.Equal(t, tc.code, r.code(t), "%s %s", tc.method, tc.path)
	}
}

func listChatIDs(t *testing.T, c *client, u *user) []string {
	t.Helper()
	var list struct {
		Items []chatJSON `json:"items"`
	}
	c.do(t, http.MethodGet, "/api/v1/chats", u.Access, nil).expect(t, http.StatusOK).json(t, &list)
	ids := make([]string, len(list.Items))
	for i, ch := range list.Items {
		ids[i] = ch.ID
	}
	return ids
}

// TestChatsListBeyond200: a user in 250 chats lists them all, in activity order, over
// pages; a message in the oldest chat moves it to the top once messages-svc has reported
// the activity to chats-svc (asynchronously, within a fraction of a second).
func TestChatsListBeyond200(t *testing.T) {
	const n = 250
	st := startStack(t, stack.Options{
		Services: []string{"users-svc", "chats-svc", "messages-svc"},
		ServiceEnv: map[string]map[string]string{
			// 250 creations by one user in a few seconds, beyond the default write limit.
			"chats-svc": {"CHATS_WRITES_PER_MINUTE": "100000"},
		},
	})
	c := newClient(st)
	alice := newUser(t, c)
	created := make([]string, n)
	for i := range created {
		var out struct {
			Chat chatJSON `json:"chat"`
		}
		c.do(t, http.MethodPost, "/api/v1/chats", alice.Access, map[string]any{"title": fmt.Sprint("chat ", i)}).
			expect(t, http.StatusCreated).json(t, &out)
		created[i] = out.Chat.ID
	}
	newestFirst := slices.Clone(created)
	slices.Reverse(newestFirst)
	require.Equal(t, newestFirst, listAllChatIDs(t, c, alice, 100))
	require.Equal(t, newestFirst[:50], listChatIDs(t, c, alice), "the default page is 50")

	c.do(t, http.MethodPost, "/api/v1/chats/"+created[0]+"/messages", alice.Access, map[string]any{
		"text": "back to the top", "client_msg_id": "e2e-activity-1",
	}).expect(t, http.StatusCreated)
	want := append([]string{created[0]}, newestFirst[:n-1]...)
	require.Eventually(t, func() bool { return slices.Equal(want, listAllChatIDs(t, c, alice, 100)) }, 10*time.Second, 100*time.Millisecond)
	var page struct {
		Items []chatJSON `json:"items"`
	}
	c.do(t, http.MethodGet, "/api/v1/chats?limit=1", alice.Access, nil).expect(t, http.StatusOK).json(t, &page)
	require.Equal(t, "back to the top", page.Items[0].LastMessage.Text)
}

// listAllChatIDs walks u's chat list in pages of limit.
func listAllChatIDs(t *testing.T, c *client, u *user, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for {
		path := fmt.Sprintf("/api/v1/chats?limit=%d", limit)
		if cursor != "" {
			path += "&before=" + cursor
		}
		var page struct {
			Items      []chatJSON `json:"items"`
			NextCursor string     `json:"next_cursor"`
		}
		c.do(t, http.MethodGet, path, u.Access, nil).expect(t, http.StatusOK).json(t, &page)
		require.LessOrEqual(t, len(page.Items), limit)
		for _, ch := range page.Items {
			ids = append(ids, ch.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		cursor = page.NextCursor
	}
}
