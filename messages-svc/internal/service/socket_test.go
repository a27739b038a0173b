package service_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

func TestSocketEventsAcrossInstances(t *testing.T) {
	e := newEnv(t, nil)
	in1, in2 := e.start(t), e.start(t)
	alice, bob := e.dir.user(t, "alice"), e.dir.user(t, "bob")
	chat := e.dir.chat(t, alice, bob)
	a, b := e.dial(t, in1, alice), e.dial(t, in2, bob)
	a.ready(t)
	b.ready(t)

	// A sends on instance 1; B, on instance 2, gets it live.
	a.write(t, map[string]string{"type": "send", "chat_id": chat, "text": "hi bob", "client_msg_id": "s-1"})
	ack := a.next(t, "ack")
	require.Equal(t, "s-1", ack.ClientMsgID)
	require.Equal(t, float64(1), ack.Message["seq"])
	got := b.next(t, "message")
	require.Equal(t, ack.Message, got.Message)
	require.Equal(t, "hi bob", got.Message["text"])
	require.Equal(t, ack.Message["id"], a.next(t, "message").Message["id"], "the sender's own sockets get it too")

	// A socket retry answers with the original and nobody receives it twice.
	a.write(t, map[string]string{"type": "send", "chat_id": chat, "text": "hi bob (retry)", "client_msg_id": "s-1"})
	retry := a.next(t, "ack")
	require.Equal(t, ack.Message["id"], retry.Message["id"])
	require.Equal(t, ack.Message["seq"], retry.Message["seq"])
	b.none(t, 300*time.Millisecond, "message")

	// An HTTP send reaches the sockets as well.
	sent := e.send(t, in2, bob, chat, "over http", "h-1")
	require.Equal(t, sent["id"], a.next(t, "message").Message["id"])

	// B reads: A learns it.
	b.write(t, map[string]any{"type": "read", "chat_id": chat, "seq": 1})
	read := a.next(t, "read")
	require.Equal(t, chat, read.ChatID)
	require.Equal(t, bob, read.UserID)
	require.Equal(t, int64(1), read.Seq)

	// A edits and deletes over HTTP; B sees both live.
	msgPath := "/api/v1/chats/" + chat + "/messages/" + ack.Message["id"].(string)
	code, _ := e.do(t, in1, alice, http.MethodPatch, msgPath, map[string]string{"text": "hi bob!"})
	require.Equal(t, http.StatusOK, code)
	edited := b.next(t, "message_edited")
	require.Equal(t, "hi bob!", edited.Message["text"])
	require.Equal(t, []any{bob}, edited.Message["read_by"])
	code, _ = e.do(t, in1, alice, http.MethodDelete, msgPath, nil)
	require.Equal(t, http.StatusNoContent, code)
	deleted := b.next(t, "message_deleted")
	require.Equal(t, chat, deleted.ChatID)
	require.Equal(t, ack.Message["id"], deleted.MessageID)

	// Typing reaches the others, throttled per user and chat.
	b.write(t, map[string]string{"type": "typing", "chat_id": chat})
	typing := a.next(t, "typing")
	require.Equal(t, bob, typing.UserID)
	b.write(t, map[string]string{"type": "typing", "chat_id": chat})
	a.none(t, 300*time.Millisecond, "typing")
}

func TestSocketRefusesBadFramesAndGoesOn(t *testing.T) {
	e := newEnv(t, map[string]string{"WS_RATE_PER_SECOND": "100", "WS_RATE_BURST": "100"})
	in := e.start(t)
	alice, bob, carol := e.dir.user(t, "alice"), e.dir.user(t, "bob"), e.dir.user(t, "carol")
	chat := e.dir.chat(t, alice, bob)
	other := e.dir.chat(t, bob, carol)
	a := e.dial(t, in, alice)
	a.ready(t)

	for _, tc := range []struct {
		name  string
		frame string
		code  string
	}{
		{"unknown type", `{"type":"dance","chat_id":"` + chat + `"}`, "unknown_type"},
		{"malformed json", `{"type":"send",`, "invalid_json"},
		{"not an object", `[1,2]`, "invalid_json"},
		{"wrong field type", `{"type":"read","chat_id":"` + chat + `","seq":"one"}`, "invalid_field"},
		{"huge frame", `{"type":"send","chat_id":"` + chat + `","client_msg_id":"x","text":"` + strings.Repeat("x", 17<<10) + `"}`, "frame_too_large"},
		{"text over the limit", `{"type":"send","chat_id":"` + chat + `","client_msg_id":"x","text":"` + strings.Repeat("x", 10001) + `"}`, "text_too_long"},
		{"empty text", `{"type":"send","chat_id":"` + chat + `","client_msg_id":"x","text":""}`, "text_required"},
		{"missing client id", `{"type":"send","chat_id":"` + chat + `","text":"x"}`, "client_msg_id_required"},
		{"another chat's id", `{"type":"send","chat_id":"` + other + `","client_msg_id":"x","text":"psst"}`, "not_found"},
		{"malformed chat id", `{"type":"send","chat_id":"../etc","client_msg_id":"x","text":"x"}`, "not_found"},
		{"resume another chat", `{"type":"resume","chat_id":"` + other + `","after_seq":0}`, "not_found"},
		{"resume negative", `{"type":"resume","chat_id":"` + chat + `","after_seq":-1}`, "invalid_after_seq"},
		{"read past the end", `{"type":"read","chat_id":"` + chat + `","seq":5}`, "invalid_seq"},
		{"typing in another chat", `{"type":"typing","chat_id":"` + other + `"}`, "not_found"},
	} {
		require.NoError(t, a.conn.WriteMessage(websocket.TextMessage, []byte(tc.frame)), tc.name)
		f := a.next(t, "error")
		require.Equal(t, tc.code, f.Code, tc.name)
	}
	require.NoError(t, a.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}))
	require.Equal(t, "unsupported_frame", a.next(t, "error").Code)

	// The socket and its chats are unaffected; nothing reached the other chat.
	a.write(t, map[string]string{"type": "send", "chat_id": chat, "text": "still here", "client_msg_id": "ok-1"})
	require.Equal(t, float64(1), a.next(t, "ack").Message["seq"])
	require.Equal(t, "still here", a.next(t, "message").Message["text"])
	e.send(t, in, bob, chat, "hello", "b-1")
	require.Equal(t, "hello", a.next(t, "message").Message["text"])
	code, body := e.do(t, in, bob, http.MethodGet, "/api/v1/chats/"+other+"/messages", nil)
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, body["items"])

	// Past the hard limit the socket is closed (1009); other sockets are not.
	b := e.dial(t, in, bob)
	b.ready(t)
	require.NoError(t, b.conn.WriteMessage(websocket.TextMessage, make([]byte, 1<<20+1)))
	select {
	case err := <-b.closed:
		require.Equal(t, websocket.CloseMessageTooBig, closeCode(err))
	case <-time.After(10 * time.Second):
		t.Fatal("socket not closed after an oversized frame")
	}
	a.write(t, map[string]string{"type": "send", "chat_id": chat, "text": "after", "client_msg_id": "ok-2"})
	require.Equal(t, float64(3), a.next(t, "ack").Message["seq"])
}

func TestSocketRateLimit(t *testing.T) {
	e := newEnv(t, map[string]string{"WS_RATE_PER_SECOND": "1", "WS_RATE_BURST": "3"})
	in := e.start(t)
	alice := e.dir.user(t, "alice")
	chat := e.dir.chat(t, alice)
	a := e.dial(t, in, alice)
	for i := range 5 {
		a.write(t, map[string]string{"type": "send", "chat_id": chat, "text": "x", "client_msg_id": fmt.Sprint(i)})
	}
	for range 3 {
		a.next(t, "ack")
	}
	for range 2 {
		require.Equal(t, "rate_limited", a.next(t, "error", "ack").Code)
	}
	code, body := e.do(t, in, alice, http.MethodGet, "/api/v1/chats/"+chat+"/messages", nil)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, body["items"], 3, "refused frames stored nothing")
}

// 20 senders × 100 messages into one chat, at once, over both instances, half over the
// socket and half over HTTP, with every tenth message retried concurrently: seqs are 1..2000
// with no gap or duplicate, and a receiver on each instance sees all 2000 in seq order.
func TestSeqGapFreeUnderConcurrentSendersOnTwoInstances(t *testing.T) {
	const senders, each = 20, 100
	e := newEnv(t, map[string]string{"WS_RATE_PER_SECOND": "1000", "WS_RATE_BURST": "1000", "WS_SEND_QUEUE": "4096"})
	ins := []*instance{e.start(t), e.start(t)}
	var users []string
	for i := range senders + 2 {
		users = append(users, e.dir.user(t, fmt.Sprintf("user%d", i)))
	}
	chat := e.dir.chat(t, users...)
	receivers := []*socket{e.dial(t, ins[0], users[senders]), e.dial(t, ins[1], users[senders+1])}
	for _, r := range receivers {
		r.ready(t)
	}

	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := ins[s%2]
			if s%4 < 2 {
				sock := e.dial(t, in, users[s])
				for i := range each {
					id := fmt.Sprintf("%d-%d", s, i)
					f := map[string]string{"type": "send", "chat_id": chat, "text": id, "client_msg_id": id}
					sock.write(t, f)
					if i%10 == 0 {
						sock.write(t, f)
						first, second := sock.next(t, "ack"), sock.next(t, "ack")
						require.Equal(t, first.Message["seq"], second.Message["seq"])
						continue
					}
					require.Equal(t, id, sock.next(t, "ack").ClientMsgID)
				}
				return
			}
			for i := range each {
				id := fmt.Sprintf("%d-%d", s, i)
				if i%10 == 0 {
					var retry sync.WaitGroup
					for range 2 {
						retry.Add(1)
						go func() {
							defer retry.Done()
							code, _ := e.do(t, ins[(s+1)%2], users[s], http.MethodPost, "/api/v1/chats/"+chat+"/messages", map[string]string{"text": id, "client_msg_id": id})
							require.Contains(t, []int{http.StatusCreated, http.StatusOK}, code)
						}()
					}
					retry.Wait()
					continue
				}
				e.send(t, in, users[s], chat, id, id)
			}
		}()
	}
	wg.Wait()

	for i, r := range receivers {
		seen := map[string]bool{}
		for want := int64(1); want <= senders*each; want++ {
			f := r.next(t, "message")
			require.Equal(t, want, f.seq(), "receiver %d", i)
			text := f.Message["text"].(string)
			require.False(t, seen[text], "duplicate %s", text)
			seen[text] = true
		}
		r.none(t, 200*time.Millisecond, "message")
	}
	for after := 0; after < senders*each; after += 200 {
		code, body := e.do(t, ins[0], users[0], http.MethodGet, path("/api/v1/chats/%s/messages?after_seq=%d&limit=200", chat, after), nil)
		require.Equal(t, http.StatusOK, code)
		items := body["items"].([]any)
		require.Len(t, items, 200)
		for j, m := range items {
			require.Equal(t, float64(after+j+1), m.(map[string]any)["seq"])
		}
	}
}

// A client that stops reading is disconnected without delaying the others, then resumes
// and gets everything it missed, in order, once.
func TestSlowConsumerIsDisconnectedThenResumes(t *testing.T) {
	const total = 300
	// The close frame (4008) waits behind the write the stalled client blocks; it reaches
	// the client only if the client reads again within the write timeout. The client reads
	// once the fast reader has everything, which on a loaded machine takes longer than the
	// 10 s default.
	e := newEnv(t, map[string]string{"WS_SEND_QUEUE": "16", "WS_SOCKET_SEND_BUFFER": "8192", "WS_WRITE_WAIT": "60s"})
	in := e.start(t)
	alice, bob, slowUser := e.dir.user(t, "alice"), e.dir.user(t, "bob"), e.dir.user(t, "slow")
	chat := e.dir.chat(t, alice, bob, slowUser)
	fast := e.dial(t, in, bob)
	fast.ready(t)

	// The slow client shrinks its receive buffer and never reads until told to.
	dialer := &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			_ = c.(*net.TCPConn).SetReadBuffer(4096)
		}
		return c, err
	}}
	slow, resp, err := dialer.Dial("ws://"+in.http+"/api/v1/ws", e.identity(t, slowUser))
	require.NoError(t, err)
	resp.Body.Close()
	defer slow.Close()
	// Its session has started once the probe is answered.
	require.NoError(t, slow.WriteJSON(map[string]string{"type": "probe"}))
	_, raw, err := slow.ReadMessage()
	require.NoError(t, err)
	require.Contains(t, string(raw), "unknown_type")

	text := strings.Repeat("z", 4000)
	start := time.Now()
	for i := range total {
		e.send(t, in, alice, chat, fmt.Sprint(i, text), fmt.Sprint(i))
	}
	for want := int64(1); want <= total; want++ {
		require.Equal(t, want, fast.next(t, "message").seq())
	}
	require.Less(t, time.Since(start), 20*time.Second, "the fast reader kept pace")

	// Now the slow client reads what reached it, then the close frame.
	require.NoError(t, slow.SetReadDeadline(time.Now().Add(30*time.Second)))
	var last int64
	for {
		_, raw, err := slow.ReadMessage()
		if err != nil {
			require.Equal(t, 4008, closeCode(err), "closed as a slow consumer: %v", err)
			break
		}
		if strings.Contains(string(raw), `"type":"message"`) {
			last++
			require.Contains(t, string(raw), fmt.Sprintf(`"seq":%d,`, last), "in order")
		}
	}
	require.Less(t, last, int64(total), "the slow client must have missed messages")

	again := e.dial(t, in, slowUser)
	again.write(t, map[string]any{"type": "resume", "chat_id": chat, "after_seq": last})
	for want := last + 1; want <= total; want++ {
		require.Equal(t, want, again.next(t, "message").seq())
	}
	again.none(t, 200*time.Millisecond, "message")
}

// TestIdleSocketsCostOneGoroutineEach: an idle socket has its reader and nothing else
// running (no writer goroutine, no ping ticker goroutine), so that many idle sockets stay
// cheap.
func TestIdleSocketsCostOneGoroutineEach(t *testing.T) {
	const n = 50
	e := newEnv(t, nil)
	in := e.start(t)
	alice := e.dir.user(t, "alice")
	e.dir.chat(t, alice)
	opened := func() float64 {
		resp, err := http.Get("http://" + in.http + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "messages_ws_connections "); ok {
				f, err := strconv.ParseFloat(v, 64)
				require.NoError(t, err)
				return f
			}
		}
		return 0
	}
	// One socket first, so that the connections it opens (gRPC to chats-svc, this test's
	// metrics requests) exist before the count starts.
	e.dial(t, in, alice).ready(t)
	before := opened()
	goroutines := runtime.NumGoroutine()
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		// No reader on the client side: only the server's goroutines are counted.
		c, resp, err := websocket.DefaultDialer.Dial("ws://"+in.http+"/api/v1/ws", e.identity(t, alice))
		require.NoError(t, err)
		resp.Body.Close()
		conns[i] = c
		t.Cleanup(func() { c.Close() })
	}
	require.Eventually(t, func() bool { return opened() == before+n }, 10*time.Second, 10*time.Millisecond)
	// Writers and the upgrade's handlers end once the sockets are idle: one reader per
	// socket is left (give or take the few goroutines of the process that come and go;
	// a writer per socket would double the count).
	require.Eventually(t, func() bool {
		d := runtime.NumGoroutine() - goroutines
		return d >= n-3 && d <= n+3
	}, 10*time.Second, 20*time.Millisecond, "goroutines per idle socket: %.2f", float64(runtime.NumGoroutine()-goroutines)/n)
}
