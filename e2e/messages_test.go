package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/testkit"
	"github.com/convene/convene/tools/devstack/stack"
)

// messagesStack runs users-svc, chats-svc and two messages-svc instances behind the gateway.
// The tests register a few dozen users from one IP, beyond the default login rate limit.
func messagesStack(t *testing.T, serviceEnv map[string]string) *stack.Stack {
	return startStack(t, stack.Options{
		Services:  []string{"users-svc", "chats-svc", "messages-svc"},
		Instances: map[string]int{"messages-svc": 2},
		ServiceEnv: map[string]map[string]string{
			"messages-svc": serviceEnv,
			"gateway":      {"AUTH_RATE_LIMIT": "6000", "AUTH_RATE_BURST": "200"},
		},
	})
}

// chatUser registers and logs in a fresh account like newUser, retrying while the gateway
// answers 429: the auth rate limit is kept in the shared Redis per client IP, and other
// stacks running at the same time spend it too.
func chatUser(t *testing.T, c *client) *user {
	t.Helper()
	u := &user{Username: "m_" + testkit.RandomHex(6), Password: "correct horse battery"}
	u.Email = u.Username + "@example.test"
	var reg struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	retry(t, func() *response {
		return c.do(t, http.MethodPost, "/api/v1/auth/register", "", map[string]string{
			"username": u.Username, "email": u.Email, "password": u.Password,
		})
	}).expect(t, http.StatusCreated).json(t, &reg)
	u.ID = reg.User.ID
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	retry(t, func() *response {
		return c.do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"login": u.Username, "password": u.Password})
	}).expect(t, http.StatusOK).json(t, &tok)
	u.Access = tok.AccessToken
	return u
}

// retry repeats a request while it is rate limited, for up to a minute.
func retry(t *testing.T, do func() *response) *response {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r := do()
		if r.Status != http.StatusTooManyRequests || time.Now().After(deadline) {
			return r
		}
		time.Sleep(time.Second)
	}
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
	alice, bob := chatUser(t, c), chatUser(t, c)
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

	require.Equal(t, ack["id"], a.next(t, "message")["message"].(map[string]any)["id"], "A's own sockets get it too")

	b.send(t, map[string]any{"type": "send", "chat_id": chat, "text": "hi alice", "client_msg_id": "b-1"})
	require.Equal(t, "hi alice", a.next(t, "message")["message"].(map[string]any)["text"])

	// B's read reaches A live, and A's message now lists B in read_by.
	b.send(t, map[string]any{"type": "read", "chat_id": chat, "seq": 1})
	read := a.next(t, "read")
	require.Equal(t, bob.ID, read["user_id"])
	require.Equal(t, float64(1), read["seq"])
	var page struct {
		Items []map[string]any `json:"items"`
	}
	c.do(t, http.MethodGet, "/api/v1/chats/"+chat+"/messages?after_seq=0", alice.Access, nil).expect(t, http.StatusOK).json(t, &page)
	require.Len(t, page.Items, 2)
	require.Equal(t, []any{bob.ID}, page.Items[0]["read_by"])

	// A edits and deletes; B sees both live.
	msgPath := "/api/v1/chats/" + chat + "/messages/" + ack["id"].(string)
	c.do(t, http.MethodPatch, msgPath, alice.Access, map[string]string{"text": "hi bob!"}).expect(t, http.StatusOK)
	edited := b.next(t, "message_edited")["message"].(map[string]any)
	require.Equal(t, "hi bob!", edited["text"])
	require.NotNil(t, edited["edited_at"])
	c.do(t, http.MethodPatch, msgPath, bob.Access, map[string]string{"text": "mine now"}).expect(t, http.StatusForbidden)
	c.do(t, http.MethodDelete, msgPath, alice.Access, nil).expect(t, http.StatusNoContent)
	deleted := b.next(t, "message_deleted")
	require.Equal(t, ack["id"], deleted["message_id"])
	c.do(t, http.MethodGet, "/api/v1/chats/"+chat+"/messages?after_seq=0", bob.Access, nil).expect(t, http.StatusOK).json(t, &page)
	require.Equal(t, true, page.Items[0]["deleted"])
	require.Equal(t, "", page.Items[0]["text"])

	// Outsiders see nothing of the chat.
	eve := chatUser(t, c)
	c.do(t, http.MethodGet, "/api/v1/chats/"+chat+"/messages", eve.Access, nil).expect(t, http.StatusNotFound)
	e := openSocket(t, c, eve)
	e.send(t, map[string]any{"type": "send", "chat_id": chat, "text": "let me in", "client_msg_id": "e-1"})
	require.Equal(t, "not_found", e.next(t, "error")["code"])
}

// TestMessagesExactlyOnceInOrder: 20 senders × 100 messages into one chat at once over
// sockets spread across two instances: seqs 1..2000 without gap or duplicate, and every
// member's socket sees all 2000 in seq order.
func TestMessagesExactlyOnceInOrder(t *testing.T) {
	const senders, each = 20, 100
	st := messagesStack(t, nil)
	c := newClient(st)
	owner := chatUser(t, c)
	var members []*user
	for range senders {
		members = append(members, chatUser(t, c))
	}
	chat := newChat(t, c, owner, members...)
	// The owner only listens; the others send and listen.
	socks := []*chatSocket{openSocket(t, c, owner)}
	for _, m := range members {
		socks = append(socks, openSocket(t, c, m))
	}
	spread := socketsPerInstance(t, st)
	require.Positive(t, spread[0], "sockets on both instances: %v", spread)
	require.Positive(t, spread[1], "sockets on both instances: %v", spread)

	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := socks[i+1]
			for n := range each {
				id := fmt.Sprintf("%d-%d", i, n)
				if err := s.conn.WriteJSON(map[string]any{"type": "send", "chat_id": chat, "text": id, "client_msg_id": id}); err != nil {
					errs <- err
					return
				}
				ack, err := s.await("ack", 20*time.Second)
				if err != nil {
					errs <- err
					return
				}
				if ack["client_msg_id"] != id {
					errs <- fmt.Errorf("ack for %v, want %s", ack["client_msg_id"], id)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for i, s := range socks {
		seen := map[string]bool{}
		for want := int64(1); want <= senders*each; want++ {
			f := s.next(t, "message")
			require.Equal(t, want, seqOf(f), "socket %d", i)
			text := f["message"].(map[string]any)["text"].(string)
			require.False(t, seen[text], "socket %d: duplicate %s", i, text)
			seen[text] = true
		}
	}
}

// resilientClient sends and receives through the gateway and survives the loss of the
// messages-svc instance behind its socket: it reconnects, re-sends the unacknowledged
// message with the same client_msg_id, and resumes after the last seq it saw.
type resilientClient struct {
	t    *testing.T
	c    *client
	u    *user
	chat string
	sock *chatSocket
	seqs []int64
	// reconnects counts the times the socket was replaced.
	reconnects int
}

func (r *resilientClient) reconnect() {
	r.sock.conn.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		require.True(r.t, time.Now().Before(deadline), "could not reconnect within 60s")
		if s, err := tryOpenSocket(r.c, r.u); err == nil {
			r.sock = s
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.reconnects++
	r.sock.send(r.t, map[string]any{"type": "resume", "chat_id": r.chat, "after_seq": r.last()})
}

// tryOpenSocket is openSocket for callers that retry: a socket whose upstream died during
// the handshake is reported, not fatal.
func tryOpenSocket(c *client, u *user) (*chatSocket, error) {
	conn, resp, err := c.dialWS("/api/v1/ws", u.Access)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	s := &chatSocket{conn: conn, frames: make(chan map[string]any, 100000), closed: make(chan error, 1)}
	go func() {
		for {
			var f map[string]any
			if err := conn.ReadJSON(&f); err != nil {
				s.closed <- err
				return
			}
			s.frames <- f
		}
	}()
	if err := conn.WriteJSON(map[string]any{"type": "hello"}); err != nil {
		conn.Close()
		return nil, err
	}
	if _, err := s.await("error", 10*time.Second); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

func (r *resilientClient) last() int64 {
	if len(r.seqs) == 0 {
		return 0
	}
	return r.seqs[len(r.seqs)-1]
}

// sendUntilAcked sends one message, re-sending it after every reconnect until acknowledged.
func (r *resilientClient) sendUntilAcked(id string) map[string]any {
	for {
		err := r.sock.conn.WriteJSON(map[string]any{"type": "send", "chat_id": r.chat, "text": id, "client_msg_id": id})
		if err == nil {
			var ack map[string]any
			if ack, err = r.sock.await("ack", 10*time.Second); err == nil {
				return ack["message"].(map[string]any)
			}
		}
		r.reconnect()
	}
}

// drain collects message frames until seq reaches want, reconnecting when the socket dies.
func (r *resilientClient) drain(want int64) {
	for r.last() < want {
		f, err := r.sock.await("message", 10*time.Second)
		if err != nil {
			r.reconnect()
			continue
		}
		r.seqs = append(r.seqs, seqOf(f))
	}
}

// TestMessagesSurviveInstanceKill: one messages-svc instance is killed while messages
// flow; clients reconnect through the gateway to the other, resume, and end with every
// acknowledged message exactly once; re-sent unacknowledged messages create no duplicate.
func TestMessagesSurviveInstanceKill(t *testing.T) {
	const total = 120
	st := messagesStack(t, nil)
	c := newClient(st)
	alice, bob := chatUser(t, c), chatUser(t, c)
	chat := newChat(t, c, alice, bob)
	sender := &resilientClient{t: t, c: c, u: alice, chat: chat, sock: socketOn(t, st, c, alice, 0)}
	receiver := &resilientClient{t: t, c: c, u: bob, chat: chat, sock: socketOn(t, st, c, bob, 0)}

	acked := map[string]int64{}
	receiverDone := make(chan struct{})
	go func() {
		defer close(receiverDone)
		receiver.drain(total)
	}()
	for i := range total {
		if i == total/3 {
			require.NoError(t, st.Kill("messages-svc", 0))
		}
		id := fmt.Sprint("k-", i)
		m := sender.sendUntilAcked(id)
		acked[id] = int64(m["seq"].(float64))
	}
	select {
	case <-receiverDone:
	case <-time.After(2 * time.Minute):
		t.Fatal("the receiver did not get every message")
	}
	require.Positive(t, sender.reconnects)
	require.Positive(t, receiver.reconnects)

	seqs := map[int64]bool{}
	for _, seq := range acked {
		require.False(t, seqs[seq], "two acknowledged messages share seq %d", seq)
		seqs[seq] = true
	}
	require.Len(t, seqs, total)
	for i, seq := range receiver.seqs {
		require.Equal(t, int64(i+1), seq, "the receiver saw every message once, in order")
	}
	// Until Consul marks the killed instance critical, the gateway may still pick it and
	// answer 502; a client retries an idempotent read.
	var r *response
	require.Eventually(t, func() bool {
		r = c.do(t, http.MethodGet, fmt.Sprintf("/api/v1/chats/%s/messages?after_seq=0&limit=200", chat), bob.Access, nil)
		return r.Status == http.StatusOK
	}, 30*time.Second, 200*time.Millisecond)
	var page struct {
		Items []map[string]any `json:"items"`
	}
	r.json(t, &page)
	require.Len(t, page.Items, total, "no duplicate from re-sent messages")
}

// TestMessagesRemovedMemberStopsAtOnce: messages-svc caches member lists; a member removed
// through chats-svc receives nothing sent after the member_removed event reached them,
// whichever messages-svc instance handles the send.
func TestMessagesRemovedMemberStopsAtOnce(t *testing.T) {
	st := messagesStack(t, nil)
	c := newClient(st)
	alice, bob, carol := chatUser(t, c), chatUser(t, c), chatUser(t, c)
	chat := newChat(t, c, alice, bob, carol)
	b := socketOn(t, st, c, bob, 0)
	cs := socketOn(t, st, c, carol, 1)
	// A few sends over both instances fill both instances' membership caches.
	for i := range 4 {
		c.do(t, http.MethodPost, "/api/v1/chats/"+chat+"/messages", alice.Access, map[string]any{
			"text": "before", "client_msg_id": fmt.Sprint("before-", i),
		}).expect(t, http.StatusCreated)
	}
	for range 4 {
		require.Equal(t, "before", b.next(t, "message")["message"].(map[string]any)["text"])
		require.Equal(t, "before", cs.next(t, "message")["message"].(map[string]any)["text"])
	}

	c.do(t, http.MethodDelete, "/api/v1/chats/"+chat+"/members/"+carol.ID, alice.Access, nil).expect(t, http.StatusNoContent)
	require.Equal(t, carol.ID, cs.next(t, "member_removed")["user_id"])
	for i := range 4 {
		c.do(t, http.MethodPost, "/api/v1/chats/"+chat+"/messages", alice.Access, map[string]any{
			"text": "after", "client_msg_id": fmt.Sprint("after-", i),
		}).expect(t, http.StatusCreated)
		require.Equal(t, "after", b.next(t, "message")["message"].(map[string]any)["text"])
	}
	_, err := cs.await("message", time.Second)
	require.Error(t, err, "carol received a message sent after her removal")
	c.do(t, http.MethodGet, "/api/v1/chats/"+chat+"/messages", carol.Access, nil).expect(t, http.StatusNotFound)
}
