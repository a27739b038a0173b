package service_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	chatsv1 "github.com/convene/convene/proto/chats/v1"
	usersv1 "github.com/convene/convene/proto/users/v1"
)

// The benchmarks run chats-svc in-process on Postgres and Redis, like the component tests;
// scripts/bench-chats.sh runs them and docs/benchmarks-chats.md records the figures.

// BenchmarkIsMember measures messages-svc's hot path: IsMember over gRPC, answered from
// the Redis cache.
func BenchmarkIsMember(b *testing.B) {
	h := start(b, options{})
	alice, bob := h.users.add("alice"), h.users.add("bob")
	chat := h.createChat(alice, "bench", bob)
	req := &chatsv1.IsMemberRequest{ChatId: chat.ID, UserId: bob.GetId()}
	// Calls wait on the network (gRPC, Redis) far more than they compute: 8 callers per
	// CPU measure throughput rather than one caller's round trips.
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := h.chats.IsMember(context.Background(), req)
			if err != nil || !resp.GetMember() {
				b.Errorf("IsMember: %v %v", resp, err)
				return
			}
		}
	})
}

// BenchmarkListChats measures GET /api/v1/chats (the first page, 50 chats) for a user in
// 50 and in 500 chats, half of them with a last message: one database query for the page,
// one GetChatSummaries call and one GetUsers call for its chats. The page costs the same
// whatever the number of chats.
func BenchmarkListChats(b *testing.B) {
	for _, n := range []int{50, 500} {
		b.Run("chats="+strconv.Itoa(n), func(b *testing.B) {
			h := start(b, options{})
			alice, bob := h.users.add("alice"), h.users.add("bob")
			for i := range n {
				c := h.createChat(alice, "chat "+strconv.Itoa(i), bob)
				if i%2 == 0 {
					at := time.Now()
					h.messages.setLastMessage(c.ID, bob, "hello", at, int64(i))
					h.recordActivity(map[string]time.Time{c.ID: at})
				}
			}
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := h.do(alice, http.MethodGet, "/api/v1/chats", nil)
					if r.Status != http.StatusOK {
						b.Errorf("list: %d %s", r.Status, r.Body)
						return
					}
				}
			})
		})
	}
}

// BenchmarkCreateChat measures POST /api/v1/chats with two members: two email lookups,
// one transaction (chat, members, outbox event), then the relay's delivery.
func BenchmarkCreateChat(b *testing.B) {
	h := start(b, options{})
	members := []*usersv1.User{h.users.add("bob"), h.users.add("carol")}
	emails := []string{members[0].GetEmail(), members[1].GetEmail()}
	// Every chat has a new creator, so that the per-user write limit is not what is
	// measured; the two members join every chat.
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		creator := h.users.add("creator")
		r := h.do(creator, http.MethodPost, "/api/v1/chats", map[string]any{"title": "bench", "member_emails": emails})
		require.Equal(b, http.StatusCreated, r.Status, string(r.Body))
	}
}
