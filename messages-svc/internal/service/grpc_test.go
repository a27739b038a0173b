package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/grpcx"
	"github.com/convene/convene/platform/testkit"
	messagesv1 "github.com/convene/convene/proto/messages/v1"
)

// client dials an instance's messages.v1 the way chats-svc does.
func (e *env) client(t *testing.T, in *instance) messagesv1.MessagesServiceClient {
	t.Helper()
	conn, err := grpcx.Dial(grpcx.ClientParams{
		Service:  "messages-svc",
		Resolver: discovery.NewStatic(func(k string) string { return map[string]string{"MESSAGES_SVC_GRPC_ADDRS": in.grpc}[k] }),
		Signer:   authn.NewSigner(testkit.Secret),
		Caller:   "chats-svc",
	})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return messagesv1.NewMessagesServiceClient(conn)
}

func TestGRPCForChatsService(t *testing.T) {
	e := newEnv(t, nil)
	in1, in2 := e.start(t), e.start(t)
	c := e.client(t, in1)
	ctx := context.Background()
	alice, bob := e.dir.user(t, "alice"), e.dir.user(t, "bob")
	chat, quiet := e.dir.chat(t, alice, bob), e.dir.chat(t, alice, bob)

	t.Run("summaries: last message and the caller's unread count", func(t *testing.T) {
		e.send(t, in1, alice, chat, "one", "1")
		e.send(t, in1, bob, chat, "two", "2")
		last := e.send(t, in1, alice, chat, "three", "3")
		resp, err := c.GetChatSummaries(ctx, &messagesv1.GetChatSummariesRequest{UserId: bob, ChatIds: []string{chat, quiet}})
		require.NoError(t, err)
		require.Len(t, resp.GetSummaries(), 2)
		s := resp.GetSummaries()[0]
		require.Equal(t, chat, s.GetChatId())
		require.Equal(t, int64(2), s.GetUnreadCount())
		require.Equal(t, last["id"], s.GetLastMessage().GetId())
		require.Equal(t, int64(3), s.GetLastMessage().GetSeq())
		require.Equal(t, "three", s.GetLastMessage().GetText())
		require.Equal(t, last["created_at"], s.GetLastMessage().GetCreatedAt())
		require.Nil(t, resp.GetSummaries()[1].GetLastMessage())
		require.Zero(t, resp.GetSummaries()[1].GetUnreadCount())
	})

	t.Run("summaries refuse bad requests", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			ctx  context.Context
			req  *messagesv1.GetChatSummariesRequest
			code codes.Code
		}{
			{"malformed chat id", ctx, &messagesv1.GetChatSummariesRequest{UserId: bob, ChatIds: []string{"x"}}, codes.InvalidArgument},
			{"missing user", ctx, &messagesv1.GetChatSummariesRequest{ChatIds: []string{chat}}, codes.InvalidArgument},
			{"too many chats", ctx, &messagesv1.GetChatSummariesRequest{UserId: bob, ChatIds: make([]string, 201)}, codes.InvalidArgument},
			{"another user's counts", authn.WithIdentity(ctx, authn.Identity{UserID: alice}), &messagesv1.GetChatSummariesRequest{UserId: bob, ChatIds: []string{chat}}, codes.PermissionDenied},
		} {
			_, err := c.GetChatSummaries(tc.ctx, tc.req)
			require.Equal(t, tc.code, status.Code(err), tc.name)
		}
		resp, err := c.GetChatSummaries(authn.WithIdentity(ctx, authn.Identity{UserID: bob}), &messagesv1.GetChatSummariesRequest{UserId: bob, ChatIds: []string{chat}})
		require.NoError(t, err, "a user's own counts, propagated by chats-svc")
		require.Len(t, resp.GetSummaries(), 1)
	})

	t.Run("published chat events reach sockets on every instance", func(t *testing.T) {
		carol := e.dir.user(t, "carol")
		sock := e.dial(t, in2, carol)
		sock.ready(t)
		newChat := e.dir.chat(t, alice)
		e.dir.addMember(newChat, carol)
		_, err := c.PublishChatEvent(ctx, &messagesv1.PublishChatEventRequest{
			UserIds:   []string{carol},
			EventJson: []byte(`{"type":"chat_added","chat":{"id":"` + newChat + `"}}`),
		})
		require.NoError(t, err)
		require.Equal(t, "chat_added", sock.next(t).Type)

		// The chat joined after connecting delivers live from its first message.
		e.send(t, in1, alice, newChat, "welcome", "w")
		require.Equal(t, "welcome", sock.next(t, "message").Message["text"])

		for _, bad := range [][]byte{[]byte(`nope`), []byte(`{"chat":{}}`), []byte(`[]`)} {
			_, err := c.PublishChatEvent(ctx, &messagesv1.PublishChatEventRequest{UserIds: []string{carol}, EventJson: bad})
			require.Equal(t, codes.InvalidArgument, status.Code(err), string(bad))
		}
		_, err = c.PublishChatEvent(ctx, &messagesv1.PublishChatEventRequest{UserIds: []string{"x"}, EventJson: []byte(`{"type":"t"}`)})
		require.Equal(t, codes.InvalidArgument, status.Code(err))
		sock.none(t, 200*time.Millisecond, "t")
	})
}
