package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/tools/devstack/stack"
)

// messagesStack runs users-svc, chats-svc and two messages-svc instances behind the gateway.
func messagesStack(t *testing.T, serviceEnv map[string]string) *stack.Stack {
	return startStack(t, stack.Options{
		Services:   []string{"users-svc", "chats-svc", "messages-svc"},
		Instances:  map[string]int{"messages-svc": 2},
		ServiceEnv: map[string]map[string]string{"messages-svc": serviceEnv},
	})
}

// newChat creates a chat of owner with the other users as members.
func newChat(t *testing.T, c *client, owner *user, others ...*user) string {
	t.Helper()
	emails := []string{}
	for _, u := range others {
		emails = append(emails, u.Email)
	}
	var created struct {
		Chat chatJSON `json:"chat"`
	}
	c.do(t, http.MethodPost, "/api/v1/chats", owner.Access, map[string]any{"title": "t", "member_emails": emails}).
		expect(t, http.StatusCreated).json(t, &created)
	return created.Chat.ID
}

// chatSocket is a realtime socket through the gateway with a reader that keeps every frame.
type chatSocket struct {
	conn    *websocket.Conn
	frames  chan map[string]any
	closed  chan error
	mu      sync.Mutex
	backlog []map[string]any
}

func openSocket(t *testing.T, c *client, u *user) *chatSocket {
	t.Helper()
	s := &chatSocket{conn: c.ws(t, "/api/v1/ws", u.Access), frames: make(chan map[string]any, 100000), closed: make(chan error, 1)}
	go func() {
		for {
			var f map[string]any
			if err := s.conn.ReadJSON(&f); err != nil {
				s.closed <- err
				return
			}
			s.frames <- f
		}
	}()
	// The session is subscribed and started once it answers a frame.
	s.send(t, map[string]any{"type": "hello"})
	require.Equal(t, "unknown_type", s.next(t, "error")["code"])
	return s
}

func (s *chatSocket) send(t *testing.T, f map[string]any) {
	t.Helper()
	require.NoError(t, s.conn.WriteJSON(f))
}

// next returns the oldest unconsumed frame of type typ; other frames stay for later.
func (s *chatSocket) next(t *testing.T, typ string) map[string]any {
	t.Helper()
	f, err := s.await(typ, 20*time.Second)
	require.NoError(t, err)
	return f
}

func (s *chatSocket) await(typ string, timeout time.Duration) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.backlog {
		if f["type"] == typ {
			s.backlog = slices.Delete(s.backlog, i, i+1)
			return f, nil
		}
	}
	deadline := time.After(timeout)
	for {
		select {
		case f := <-s.frames:
			if f["type"] == typ {
				return f, nil
			}
			s.backlog = append(s.backlog, f)
		case err := <-s.closed:
			s.closed <- err
			return nil, fmt.Errorf("socket closed waiting for %s: %w", typ, err)
		case <-deadline:
			return nil, fmt.Errorf("no %s frame within %s", typ, timeout)
		}
	}
}

func seqOf(f map[string]any) int64 { return int64(f["message"].(map[string]any)["seq"].(float64)) }

// socketsPerInstance reads each messages-svc instance's open-socket gauge.
func socketsPerInstance(t *testing.T, st *stack.Stack) []int {
	t.Helper()
	out := make([]int, 2)
	for i := range out {
		resp, err := http.Get("http://" + st.Proc("messages-svc", i).HTTPAddr + "/metrics")
		require.NoError(t, err)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var n int
			if _, err := fmt.Sscanf(sc.Text(), "messages_ws_connections %d", &n); err == nil {
				out[i] = n
			}
		}
		resp.Body.Close()
	}
	return out
}

// socketOn opens sockets for u until one lands on messages-svc instance want (the gateway
// balances across instances), closing the others.
func socketOn(t *testing.T, st *stack.Stack, c *client, u *user, want int) *chatSocket {
	t.Helper()
	for range 20 {
		before := socketsPerInstance(t, st)
		s := openSocket(t, c, u)
		after := socketsPerInstance(t, st)
		if after[want] > before[want] {
			return s
		}
		s.conn.Close()
		require.Eventually(t, func() bool { return slices.Equal(socketsPerInstance(t, st), before) }, 10*time.Second, 20*time.Millisecond)
	}
	t.Fatalf("no socket landed on messages-svc instance %d", want)
	return nil
}

// TestMessagesSeedFlow: A creates a chat, adds B by email; they exchange messages over
// sockets held by different messages-svc instances; B's read marks A's message read; A
// edits and deletes, and B sees both live.
func TestMessagesSeedFlow(t *testing.T) {
	st := messagesStack(t, nil)
	c := newClient(st)
	alice, bob := newUser(t, c), newUser(t, c)
	a := socketOn(t, st, c, alice, 0)
	b := socketOn(t, st, c, bob, 1)
	chat := newChat(t, c, alice)
	c.do(t, http.MethodPost, "/api/v1/chats/"+chat+"/members", alice.Access, map[string]string{"email": bob.Email}).expect(t, http.StatusCreated)
	require.Equal(t, chat, b.next(t, "chat_added")["chat"].(map[string]any)["id"])

	a.send(t, map[string]any{"type": "send", "chat_id": chat, "text": "hi bob", "client_msg_id": "a-1"})
	ack := a.next(t, "ack")["message"].(map[string]any)
	require.Equal(t, float64(1), ack["seq"])
	got := b.next(t, "message")["message"].(map[string]any)
	require.Equal(t, ack["id"], got["id"])
	require.Equal(t, alice.Username, got["sender"].(map[string]any)["username"])

	b.send(t, map[string]any{"type": "send", "chat_id": chat, "text": "hi alice", "client_msg_id": "b-1"})
	require.Equal(t, "hi alice", a.next(t, "message")["message"].(map[string]any)["text"])
	require.Equal(t, "hi bob", a.next(t, "message")["message"].(map[string]any)["text"], "A's own message, in seq order after... ")
}
