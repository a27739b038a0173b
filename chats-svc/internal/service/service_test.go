package service_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/platform/authn"
	chatsv1 "github.com/convene/convene/proto/chats/v1"
	usersv1 "github.com/convene/convene/proto/users/v1"
)

func TestCreateChat(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	alice, bob, carol := h.users.add("alice"), h.users.add("bob"), h.users.add("carol")

	t.Run("without members", func(t *testing.T) {
		chat := h.createChat(alice, "  Notes  ")
		require.Equal(t, "Notes", chat.Title)
		require.Equal(t, alice.GetId(), chat.CreatedBy)
		require.Nil(t, chat.LastMessage)
		require.Zero(t, chat.UnreadCount)
		_, err := uuid.Parse(chat.ID)
		require.NoError(t, err)
		created, err := time.Parse(time.RFC3339Nano, chat.CreatedAt)
		require.NoError(t, err)
		require.Equal(t, time.UTC, created.Location())

		_, members := h.getChat(alice, chat.ID)
		require.Equal(t, []memberBody{{ID: alice.GetId(), Username: "alice", Email: alice.GetEmail()}}, members)
		require.Eventually(t, func() bool { return len(h.messages.eventsFor(chat.ID)) == 1 }, 10*time.Second, 10*time.Millisecond)
		ev := h.messages.eventsFor(chat.ID)[0]
		require.Equal(t, []string{alice.GetId()}, ev.UserIDs, "the creator's other devices learn of the chat too")
		require.Equal(t, "chat_added", ev.Frame["type"])
		require.Equal(t, map[string]any{"id": chat.ID, "title": "Notes", "created_by": alice.GetId(), "created_at": chat.CreatedAt}, ev.Frame["chat"])
	})

	t.Run("with members, duplicates and the creator's own email ignored", func(t *testing.T) {
		r := h.do(alice, http.MethodPost, "/api/v1/chats", map[string]any{
			"title":         "Trio",
			"member_emails": []string{bob.GetEmail(), strings.ToUpper(bob.GetEmail()), carol.GetEmail(), alice.GetEmail()},
		})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		var out struct {
			Chat chatBody `json:"chat"`
		}
		r.decode(t, &out)
		for _, u := range []*usersv1.User{alice, bob, carol} {
			_, members := h.getChat(u, out.Chat.ID)
			require.Equal(t, sortedIDs(alice, bob, carol), memberIDs(members))
		}
		require.Eventually(t, func() bool { return len(h.messages.eventsFor(out.Chat.ID)) == 1 }, 10*time.Second, 10*time.Millisecond)
		require.Equal(t, sortedIDs(alice, bob, carol), h.messages.eventsFor(out.Chat.ID)[0].UserIDs)
	})

	t.Run("unknown email creates nothing", func(t *testing.T) {
		dave := h.users.add("dave")
		r := h.do(dave, http.MethodPost, "/api/v1/chats", map[string]any{
			"title":         "Never",
			"member_emails": []string{bob.GetEmail(), "nobody@example.com"},
		})
		require.Equal(t, http.StatusNotFound, r.Status)
		require.Equal(t, "user_not_found", r.errorCode())
		require.Contains(t, string(r.Body), "nobody@example.com")
		list := h.do(dave, http.MethodGet, "/api/v1/chats", nil)
		require.Equal(t, http.StatusOK, list.Status)
		require.JSONEq(t, `{"items":[],"next_cursor":""}`, string(list.Body))
		ids, err := h.chats.ListUserChats(t.Context(), &chatsv1.ListUserChatsRequest{UserId: dave.GetId()})
		require.NoError(t, err)
		require.Empty(t, ids.GetChatIds())
	})
}

func TestListChats(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	alice, bob := h.users.add("alice"), h.users.add("bob")

	// Five chats; the first and third get messages later than every creation, the
	// first's latest: expected order 0, 2, 4, 3, 1.
	chats := make([]chatBody, 5)
	for i := range chats {
		chats[i] = h.createChat(alice, "chat "+strconv.Itoa(i), bob)
	}
	// Reported one after the other, so that chat 0's activity is the later one: chats-svc
	// clamps times in the future to its own clock.
	earlier := time.Now()
	h.messages.setLastMessage(chats[2].ID, alice, "earlier", earlier, 0)
	h.recordActivity(map[string]time.Time{chats[2].ID: earlier})
	latest := time.Now()
	h.messages.setLastMessage(chats[0].ID, bob, "latest", latest, 4)
	h.recordActivity(map[string]time.Time{chats[0].ID: latest})
	want := []string{chats[0].ID, chats[2].ID, chats[4].ID, chats[3].ID, chats[1].ID}

	callsBefore := h.messages.calls()
	got, pages := h.listAll(alice, 2)
	require.Equal(t, 3, pages)
	require.Equal(t, pages, h.messages.calls()-callsBefore, "one GetChatSummaries call per page")
	ids := make([]string, len(got))
	for i, c := range got {
		ids[i] = c.ID
	}
	require.Equal(t, want, ids)

	first := got[0]
	require.Equal(t, int64(4), first.UnreadCount)
	require.NotNil(t, first.LastMessage)
	require.Equal(t, "latest", first.LastMessage.Text)
	require.Equal(t, bob.GetId(), first.LastMessage.Sender.ID)
	require.Equal(t, "bob", first.LastMessage.Sender.Username)
	require.Nil(t, first.LastMessage.EditedAt)
	require.NotNil(t, first.LastMessage.ReadBy)
	require.Nil(t, got[2].LastMessage)

	// The default page holds them all; GET of one chat shows its summary too.
	r := h.do(alice, http.MethodGet, "/api/v1/chats", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var all struct {
		Items      []chatBody `json:"items"`
		NextCursor string     `json:"next_cursor"`
	}
	r.decode(t, &all)
	require.Len(t, all.Items, 5)
	require.Empty(t, all.NextCursor)
	chat, _ := h.getChat(alice, chats[0].ID)
	require.Equal(t, "latest", chat.LastMessage.Text)
	require.Equal(t, "bob", chat.LastMessage.Sender.Username)
}

func TestMemberRules(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	alice, bob, carol, dave := h.users.add("alice"), h.users.add("bob"), h.users.add("carol"), h.users.add("dave")
	chat := h.createChat(alice, "Rules", bob)
	members := "/api/v1/chats/" + chat.ID + "/members"

	cases := []struct {
		name   string
		as     *usersv1.User
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{"any member adds by email", bob, http.MethodPost, members, map[string]string{"email": carol.GetEmail()}, http.StatusCreated, ""},
		{"adding a member again", alice, http.MethodPost, members, map[string]string{"email": carol.GetEmail()}, http.StatusConflict, "already_member"},
		{"adding an unknown email", alice, http.MethodPost, members, map[string]string{"email": "ghost@example.com"}, http.StatusNotFound, "user_not_found"},
		{"a non-creator cannot remove another", bob, http.MethodDelete, members + "/" + carol.GetId(), nil, http.StatusForbidden, "forbidden"},
		{"the creator removes a member", alice, http.MethodDelete, members + "/" + carol.GetId(), nil, http.StatusNoContent, ""},
		{"the removed member sees nothing", carol, http.MethodGet, "/api/v1/chats/" + chat.ID, nil, http.StatusNotFound, "chat_not_found"},
		{"removing a non-member", alice, http.MethodDelete, members + "/" + dave.GetId(), nil, http.StatusNotFound, "member_not_found"},
		{"a member leaves", bob, http.MethodDelete, members + "/" + bob.GetId(), nil, http.StatusNoContent, ""},
		{"leaving twice", bob, http.MethodDelete, members + "/" + bob.GetId(), nil, http.StatusNotFound, "chat_not_found"},
	}
	for _, tc := range cases {
		r := h.do(tc.as, tc.method, tc.path, tc.body)
		require.Equal(t, tc.status, r.Status, "%s: %s", tc.name, r.Body)
		require.Equal(t, tc.code, r.errorCode(), tc.name)
		if tc.status == http.StatusCreated {
			var out struct {
				Member memberBody `json:"member"`
			}
			r.decode(t, &out)
			require.Equal(t, memberBody{ID: carol.GetId(), Username: "carol", Email: carol.GetEmail()}, out.Member, tc.name)
		}
	}
	_, ms := h.getChat(alice, chat.ID)
	require.Equal(t, sortedIDs(alice), memberIDs(ms))
}

func TestNonMembersSeeNothing(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	alice, bob, eve := h.users.add("alice"), h.users.add("bob"), h.users.add("eve")
	chat := h.createChat(alice, "Private", bob)
	unknown := uuid.Must(uuid.NewV7()).String()

	for _, tc := range []struct {
		name   string
		as     *usersv1.User
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{"read", eve, http.MethodGet, "/api/v1/chats/" + chat.ID, nil, http.StatusNotFound, "chat_not_found"},
		{"add someone", eve, http.MethodPost, "/api/v1/chats/" + chat.ID + "/members", map[string]string{"email": eve.GetEmail()}, http.StatusNotFound, "chat_not_found"},
		// Looking the email up before the membership check would leak which emails exist.
		{"probe an email", eve, http.MethodPost, "/api/v1/chats/" + chat.ID + "/members", map[string]string{"email": "ghost@example.com"}, http.StatusNotFound, "chat_not_found"},
		{"remove a member", eve, http.MethodDelete, "/api/v1/chats/" + chat.ID + "/members/" + bob.GetId(), nil, http.StatusNotFound, "chat_not_found"},
		{"leave", eve, http.MethodDelete, "/api/v1/chats/" + chat.ID + "/members/" + eve.GetId(), nil, http.StatusNotFound, "chat_not_found"},
		{"unknown chat", alice, http.MethodGet, "/api/v1/chats/" + unknown, nil, http.StatusNotFound, "chat_not_found"},
		{"no identity", nil, http.MethodGet, "/api/v1/chats", nil, http.StatusUnauthorized, "unauthenticated"},
		{"no identity on a chat", nil, http.MethodGet, "/api/v1/chats/" + chat.ID, nil, http.StatusUnauthorized, "unauthenticated"},
	} {
		r := h.do(tc.as, tc.method, tc.path, tc.body)
		require.Equal(t, tc.status, r.Status, "%s: %s", tc.name, r.Body)
		require.Equal(t, tc.code, r.errorCode(), tc.name)
	}
	list := h.do(eve, http.MethodGet, "/api/v1/chats", nil)
	require.JSONEq(t, `{"items":[],"next_cursor":""}`, string(list.Body))
	_, ms := h.getChat(alice, chat.ID)
	require.Equal(t, sortedIDs(alice, bob), memberIDs(ms), "nothing changed")

	// An identity signed with another secret is refused.
	req, err := http.NewRequest(http.MethodGet, h.base+"/api/v1/chats/"+chat.ID, nil)
	require.NoError(t, err)
	req.Header.Set(authn.Header, authn.NewSigner("not-the-internal-secret").Sign(authn.Identity{UserID: alice.GetId()}))
	resp, err := h.client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestMembershipOverGRPC(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	alice, bob, eve := h.users.add("alice"), h.users.add("bob"), h.users.add("eve")
	chat := h.createChat(alice, "Cached", bob)
	ctx := t.Context()

	isMember := func(user *usersv1.User) bool {
		t.Helper()
		resp, err := h.chats.IsMember(ctx, &chatsv1.IsMemberRequest{ChatId: chat.ID, UserId: user.GetId()})
		require.NoError(t, err)
		return resp.GetMember()
	}
	// Twice: the second answer comes from the cache.
	require.True(t, isMember(bob))
	require.True(t, isMember(bob))
	require.False(t, isMember(eve))
	members, err := h.chats.ListMembers(ctx, &chatsv1.ListMembersRequest{ChatId: chat.ID})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{alice.GetId(), bob.GetId()}, members.GetUserIds())
	bobChats, err := h.chats.ListUserChats(ctx, &chatsv1.ListUserChatsRequest{UserId: bob.GetId()})
	require.NoError(t, err)
	require.Equal(t, []string{chat.ID}, bobChats.GetChatIds())

	// Removing bob is visible at once, despite the cached answers.
	r := h.do(alice, http.MethodDelete, "/api/v1/chats/"+chat.ID+"/members/"+bob.GetId(), nil)
	require.Equal(t, http.StatusNoContent, r.Status)
	require.False(t, isMember(bob))
	members, err = h.chats.ListMembers(ctx, &chatsv1.ListMembersRequest{ChatId: chat.ID})
	require.NoError(t, err)
	require.Equal(t, []string{alice.GetId()}, members.GetUserIds())
	bobChats, err = h.chats.ListUserChats(ctx, &chatsv1.ListUserChatsRequest{UserId: bob.GetId()})
	require.NoError(t, err)
	require.Empty(t, bobChats.GetChatIds())

	// Adding eve is visible at once too.
	r = h.do(alice, http.MethodPost, "/api/v1/chats/"+chat.ID+"/members", map[string]string{"email": eve.GetEmail()})
	require.Equal(t, http.StatusCreated, r.Status)
	require.True(t, isMember(eve))

	// Calls carrying a user's identity learn only about that user's chats.
	for _, tc := range []struct {
		name string
		call func() (any, error)
		want any
		code codes.Code
	}{
		{"a member asks about another member", func() (any, error) {
			resp, err := h.chats.IsMember(userCtx(eve), &chatsv1.IsMemberRequest{ChatId: chat.ID, UserId: alice.GetId()})
			return resp.GetMember(), err
		}, true, codes.OK},
		{"an outsider asks about a member", func() (any, error) {
			resp, err := h.chats.IsMember(userCtx(bob), &chatsv1.IsMemberRequest{ChatId: chat.ID, UserId: alice.GetId()})
			return resp.GetMember(), err
		}, false, codes.OK},
		{"an outsider lists members", func() (any, error) {
			resp, err := h.chats.ListMembers(userCtx(bob), &chatsv1.ListMembersRequest{ChatId: chat.ID})
			return len(resp.GetUserIds()), err
		}, 0, codes.OK},
		{"a user lists their own chats", func() (any, error) {
			resp, err := h.chats.ListUserChats(userCtx(eve), &chatsv1.ListUserChatsRequest{UserId: eve.GetId()})
			return resp.GetChatIds(), err
		}, []string{chat.ID}, codes.OK},
		{"a user lists someone else's chats", func() (any, error) {
			_, err := h.chats.ListUserChats(userCtx(bob), &chatsv1.ListUserChatsRequest{UserId: alice.GetId()})
			return nil, err
		}, nil, codes.PermissionDenied},
		{"malformed chat id", func() (any, error) {
			resp, err := h.chats.IsMember(ctx, &chatsv1.IsMemberRequest{ChatId: "nope", UserId: alice.GetId()})
			return resp.GetMember(), err
		}, false, codes.OK},
		{"missing chat id", func() (any, error) {
			_, err := h.chats.IsMember(ctx, &chatsv1.IsMemberRequest{UserId: alice.GetId()})
			return nil, err
		}, nil, codes.InvalidArgument},
		{"missing user id", func() (any, error) {
			_, err := h.chats.ListUserChats(ctx, &chatsv1.ListUserChatsRequest{})
			return nil, err
		}, nil, codes.InvalidArgument},
	} {
		got, err := tc.call()
		require.Equal(t, tc.code, status.Code(err), tc.name)
		if tc.code == codes.OK {
			require.Equal(t, tc.want, got, tc.name)
		}
	}
}

func TestMemberEvents(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	alice, bob, carol := h.users.add("alice"), h.users.add("bob"), h.users.add("carol")
	chat := h.createChat(alice, "Events", bob)
	members := "/api/v1/chats/" + chat.ID + "/members"

	require.Equal(t, http.StatusCreated, h.do(bob, http.MethodPost, members, map[string]string{"email": carol.GetEmail()}).Status)
	require.Equal(t, http.StatusNoContent, h.do(alice, http.MethodDelete, members+"/"+bob.GetId(), nil).Status)

	require.Eventually(t, func() bool { return len(h.messages.eventsFor(chat.ID)) == 4 }, 10*time.Second, 10*time.Millisecond)
	events := h.messages.eventsFor(chat.ID)
	type want struct {
		typ   string
		users []string
		user  string
	}
	for i, w := range []want{
		{"chat_added", sortedIDs(alice, bob), ""},
		{"chat_added", sortedIDs(carol), ""},
		{"member_added", sortedIDs(alice, bob), carol.GetId()},
		{"member_removed", sortedIDs(alice, bob, carol), bob.GetId()},
	} {
		require.Equal(t, w.typ, events[i].Frame["type"], i)
		require.Equal(t, w.users, events[i].UserIDs, i)
		require.NotEmpty(t, events[i].Frame["event_id"], i)
		if w.user != "" {
			require.Equal(t, w.user, events[i].Frame["user_id"], i)
			require.Equal(t, chat.ID, events[i].Frame["chat_id"], i)
		}
	}
	// Nothing is delivered twice.
	require.Never(t, func() bool { return len(h.messages.eventsFor(chat.ID)) > 4 }, 300*time.Millisecond, 20*time.Millisecond)
}

func TestEventsWaitForMessagesSvc(t *testing.T) {
	t.Parallel()
	h := start(t, options{messagesDown: true})
	alice, bob := h.users.add("alice"), h.users.add("bob")

	// Creating and changing chats does not need messages-svc; listing them does.
	chat := h.createChat(alice, "Outage", bob)
	list := h.do(alice, http.MethodGet, "/api/v1/chats", nil)
	require.Equal(t, http.StatusServiceUnavailable, list.Status)
	require.Equal(t, "unavailable", list.errorCode())
	require.NotContains(t, string(list.Body), "messages-svc", "internal details stay in the log")
	require.Equal(t, http.StatusNoContent, h.do(bob, http.MethodDelete, "/api/v1/chats/"+chat.ID+"/members/"+bob.GetId(), nil).Status)

	// The relay keeps retrying, and failing to connect, while messages-svc is down.
	require.Never(t, func() bool { return len(h.messages.eventsFor(chat.ID)) > 0 }, 300*time.Millisecond, 20*time.Millisecond)

	h.startMessages()
	require.Eventually(t, func() bool { return len(h.messages.eventsFor(chat.ID)) == 2 }, 20*time.Second, 20*time.Millisecond)
	events := h.messages.eventsFor(chat.ID)
	require.Equal(t, "chat_added", events[0].Frame["type"])
	require.Equal(t, "member_removed", events[1].Frame["type"], "order is kept across retries")
	require.Never(t, func() bool { return len(h.messages.eventsFor(chat.ID)) > 2 }, 300*time.Millisecond, 20*time.Millisecond)
	require.Equal(t, http.StatusOK, h.do(alice, http.MethodGet, "/api/v1/chats", nil).Status)
}

func TestLimits(t *testing.T) {
	t.Parallel()

	t.Run("writes per minute", func(t *testing.T) {
		t.Parallel()
		h := start(t, options{writesPerMinute: 3})
		alice, bob := h.users.add("alice"), h.users.add("bob")
		for range 3 {
			h.createChat(alice, "ok")
		}
		r := h.do(alice, http.MethodPost, "/api/v1/chats", map[string]any{"title": "too many"})
		require.Equal(t, http.StatusTooManyRequests, r.Status)
		require.Equal(t, "rate_limited", r.errorCode())
		require.NotEmpty(t, r.Header.Get("Retry-After"))
		// Reads are not limited, and the limit is per user.
		require.Equal(t, http.StatusOK, h.do(alice, http.MethodGet, "/api/v1/chats", nil).Status)
		h.createChat(bob, "mine")
	})
}

// TestChatListBeyond200 lists a user's 250 chats over pages in activity order, and moves an
// old chat to the top with reported activity. Each page asks messages-svc about its own
// chats only, so there is no cap on how many chats a user is in.
func TestChatListBeyond200(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	alice := h.users.add("alice")
	const n = 250
	created := make([]string, n)
	for i := range created {
		created[i] = h.createChat(alice, "chat "+strconv.Itoa(i)).ID
	}
	// Newest first: creation order reversed (creation times are a request apart).
	want := slices.Clone(created)
	slices.Reverse(want)

	ids := func(cs []chatBody) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = c.ID
		}
		return out
	}
	for _, limit := range []int{50, 200} {
		got, pages := h.listAll(alice, limit)
		require.Equal(t, want, ids(got), "limit %d", limit)
		require.Equal(t, (n+limit-1)/limit, pages, "limit %d", limit)
	}

	// A message in the oldest chat moves it to the top; the others keep their order.
	h.recordActivity(map[string]time.Time{created[0]: time.Now()})
	got, _ := h.listAll(alice, 100)
	require.Equal(t, append([]string{created[0]}, want[:n-1]...), ids(got))

	// Older activity reported late, or twice, moves nothing back.
	h.recordActivity(map[string]time.Time{created[0]: time.Now().Add(-time.Hour), created[1]: time.Now().Add(-time.Hour)})
	got, _ = h.listAll(alice, 100)
	require.Equal(t, append([]string{created[0]}, want[:n-1]...), ids(got))
}

func TestRecordActivityOverGRPC(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	alice := h.users.add("alice")
	older, newer := h.createChat(alice, "older"), h.createChat(alice, "newer")
	ctx := t.Context()
	at := time.Now().UTC().Format(time.RFC3339Nano)
	activity := func(n int, chatID, at string) *chatsv1.RecordActivityRequest {
		req := &chatsv1.RecordActivityRequest{}
		for range n {
			req.Activities = append(req.Activities, &chatsv1.ChatActivity{ChatId: chatID, LastActivityAt: at})
		}
		return req
	}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		req  *chatsv1.RecordActivityRequest
		code codes.Code
	}{
		{"a user may not report activity", userCtx(alice), activity(1, older.ID, at), codes.PermissionDenied},
		{"a time that is not RFC 3339", ctx, activity(1, older.ID, "yesterday"), codes.InvalidArgument},
		{"more than 1000 activities", ctx, activity(1001, older.ID, at), codes.InvalidArgument},
		{"an empty batch", ctx, activity(0, older.ID, at), codes.OK},
		{"malformed and unknown chat ids are skipped", ctx, &chatsv1.RecordActivityRequest{Activities: []*chatsv1.ChatActivity{
			{ChatId: "nope", LastActivityAt: at}, {ChatId: uuid.Must(uuid.NewV7()).String(), LastActivityAt: at},
		}}, codes.OK},
	} {
		_, err := h.chats.RecordActivity(tc.ctx, tc.req)
		require.Equal(t, tc.code, status.Code(err), "%s: %v", tc.name, err)
	}
	// None of the refused calls moved the older chat up.
	got, _ := h.listAll(alice, 10)
	require.Equal(t, []string{newer.ID, older.ID}, []string{got[0].ID, got[1].ID})

	_, err := h.chats.RecordActivity(ctx, activity(1000, older.ID, at))
	require.NoError(t, err, "the maximum batch, one chat named 1000 times")
	got, _ = h.listAll(alice, 10)
	require.Equal(t, []string{older.ID, newer.ID}, []string{got[0].ID, got[1].ID})
}
