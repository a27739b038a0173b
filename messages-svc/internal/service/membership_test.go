package service_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/messages-svc/internal/service"
	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/testkit"
	messagesv1 "github.com/convene/convene/proto/messages/v1"
)

// TestMembershipIsCachedAndForgottenAtOnce: sends ask chats-svc about a chat's members once
// per instance, not once per send; and a removed member, once told, receives nothing more,
// whichever instance handles the next send.
func TestMembershipIsCachedAndForgottenAtOnce(t *testing.T) {
	// A TTL far beyond the test: only the membership event can explain a fresh list.
	e := newEnv(t, map[string]string{"MEMBERSHIP_CACHE_TTL": "1m"})
	in1, in2 := e.start(t), e.start(t)
	alice, bob, carol := e.dir.user(t, "alice"), e.dir.user(t, "bob"), e.dir.user(t, "carol")
	chat := e.dir.chat(t, alice, bob, carol)
	b, c := e.dial(t, in1, bob), e.dial(t, in2, carol)
	b.ready(t)
	c.ready(t)

	before := e.dir.memberCalls()
	for i := range 10 {
		e.send(t, []*instance{in1, in2}[i%2], alice, chat, "hi", path("warm-%d", i))
	}
	require.Equal(t, 2, e.dir.memberCalls()-before, "one ListMembers per instance for ten sends")
	for range 10 {
		b.next(t, "message")
		c.next(t, "message")
	}

	// chats-svc removes carol and publishes member_removed through instance 1.
	e.dir.removeMember(chat, carol)
	_, err := e.client(t, in1).PublishChatEvent(context.Background(), &messagesv1.PublishChatEventRequest{
		UserIds:   []string{alice, bob, carol},
		EventJson: []byte(`{"type":"member_removed","event_id":"e1","chat_id":"` + chat + `","user_id":"` + carol + `"}`),
	})
	require.NoError(t, err)
	// Carol's socket is on instance 2: once she sees the event, instance 2 forgot too.
	require.Equal(t, carol, c.next(t, "member_removed").UserID)
	require.Equal(t, carol, b.next(t, "member_removed").UserID)

	for i, in := range []*instance{in2, in1} {
		e.send(t, in, alice, chat, "after", path("after-%d", i))
		require.Equal(t, "after", b.next(t, "message").Message["text"])
	}
	c.none(t, 300*time.Millisecond, "message")
	code, _ := e.do(t, in2, carol, http.MethodGet, "/api/v1/chats/"+chat+"/messages", nil)
	require.Equal(t, http.StatusNotFound, code)

	// Added back (chat_added to her, member_added to the others): she receives again.
	e.dir.addMember(chat, carol)
	_, err = e.client(t, in2).PublishChatEvent(context.Background(), &messagesv1.PublishChatEventRequest{
		UserIds:   []string{carol},
		EventJson: []byte(`{"type":"chat_added","event_id":"e2","chat":{"id":"` + chat + `"}}`),
	})
	require.NoError(t, err)
	require.Equal(t, "chat_added", c.next(t, "chat_added").Type)
	e.send(t, in1, alice, chat, "welcome back", "back")
	// Membership opens the whole history: her socket fills in, in order, what was sent
	// while she was out, then the new message.
	for _, want := range []string{"after", "after", "welcome back"} {
		require.Equal(t, want, c.next(t, "message").Message["text"])
	}

	// A membership event that names no chat is refused: the caches could not be told.
	_, err = e.client(t, in1).PublishChatEvent(context.Background(), &messagesv1.PublishChatEventRequest{
		UserIds: []string{carol}, EventJson: []byte(`{"type":"member_removed","chat_id":"nope"}`),
	})
	require.Error(t, err)
}

// TestActivityReachesChatsSvc: sends are reported to chats-svc asynchronously, coalesced
// per chat, with the latest message's time.
func TestActivityReachesChatsSvc(t *testing.T) {
	e := newEnv(t, nil)
	in := e.start(t)
	alice := e.dir.user(t, "alice")
	chat, quiet := e.dir.chat(t, alice), e.dir.chat(t, alice)
	var last map[string]any
	for i := range 5 {
		last = e.send(t, in, alice, chat, "hi", path("a-%d", i))
	}
	want, err := time.Parse(time.RFC3339Nano, last["created_at"].(string))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.dir.lastActivity(chat).Equal(want) }, 10*time.Second, 10*time.Millisecond)
	require.True(t, e.dir.lastActivity(quiet).IsZero(), "a chat without messages has no activity")

	// A retry is no new activity.
	code, _ := e.do(t, in, alice, http.MethodPost, "/api/v1/chats/"+chat+"/messages", map[string]string{"text": "hi", "client_msg_id": "a-0"})
	require.Equal(t, http.StatusOK, code)
	require.Never(t, func() bool { return !e.dir.lastActivity(chat).Equal(want) }, 500*time.Millisecond, 20*time.Millisecond)
}

func TestPprofIsOptInAndLoopbackOnly(t *testing.T) {
	base := map[string]string{"INTERNAL_AUTH_SECRET": testkit.Secret}
	for _, tc := range []struct {
		name, key, value string
		ok               bool
	}{
		{"pprof off by default", "", "", true},
		{"pprof on loopback", "PPROF_ADDR", "127.0.0.1:6060", true},
		{"pprof on localhost", "PPROF_ADDR", "localhost:6060", true},
		{"pprof on IPv6 loopback", "PPROF_ADDR", "[::1]:6060", true},
		{"pprof on every interface", "PPROF_ADDR", ":6060", false},
		{"pprof on 0.0.0.0", "PPROF_ADDR", "0.0.0.0:6060", false},
		{"pprof on a LAN address", "PPROF_ADDR", "10.1.2.3:6060", false},
		{"pprof without a port", "PPROF_ADDR", "127.0.0.1", false},
		{"membership TTL of zero", "MEMBERSHIP_CACHE_TTL", "0s", false},
		{"membership TTL over a minute", "MEMBERSHIP_CACHE_TTL", "2m", false},
		{"membership TTL not a duration", "MEMBERSHIP_CACHE_TTL", "soon", false},
	} {
		vars := map[string]string{tc.key: tc.value}
		for k, v := range base {
			vars[k] = v
		}
		cfg, err := service.LoadConfig(config.FromMap(vars))
		if tc.ok {
			require.NoError(t, err, tc.name)
			require.Equal(t, tc.value, cfg.PprofAddr, tc.name)
		} else {
			require.Error(t, err, tc.name)
		}
	}

	pprofAddr := testkit.FreeAddr(t)
	e := newEnv(t, map[string]string{"PPROF_ADDR": pprofAddr})
	in := e.start(t)
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/goroutine?debug=1"} {
		resp, err := http.Get("http://" + pprofAddr + p)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, p)
	}
	resp, err := http.Get("http://" + in.http + "/debug/pprof/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "never on the public port")
}
