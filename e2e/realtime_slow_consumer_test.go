package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/tools/devstack/stack"
)

// TestRealtimeSlowConsumerThroughGateway: a client that stops reading is disconnected by
// messages-svc while another member of the chat keeps receiving every message on time; the
// slow client then reads what reached it, reconnects, resumes and ends with every message
// exactly once, in order.
//
// Between messages-svc and the client sit the gateway's relay and two TCP connections whose
// kernel buffers grow to tens of MB on loopback (the gateway reads from messages-svc as
// fast as it can until its writes to the client block), so a stalled client is only
// noticed once that much is in flight: messages are near the 10,000-character limit, and
// alice sends until messages-svc has closed the slow socket (its open-socket gauge drops),
// up to maxMessages. The client's own receive buffer keeps its default size: shrunk below
// one loopback segment, TCP's small-window avoidance stalls the transfer for minutes once
// the client reads again, which would test the kernel rather than Convene.
func TestRealtimeSlowConsumerThroughGateway(t *testing.T) {
	const (
		maxMessages = 8000
		batch       = 100
		// lagBound is how far behind the fast reader may fall at the end of a batch: far
		// more than a batch takes, far less than a stall would cost it.
		lagBound = 15 * time.Second
	)
	st := messagesStack(t, map[string]string{
		"WS_SEND_QUEUE": "16", "WS_SOCKET_SEND_BUFFER": "8192",
		"WS_RATE_PER_SECOND": "100000", "WS_RATE_BURST": "100000",
	})
	c := newClient(st)
	alice, bob, slowUser := chatUser(t, c), chatUser(t, c), chatUser(t, c)
	chat := newChat(t, c, alice, bob, slowUser)
	sender := openSocket(t, c, alice)
	fast := openSocket(t, c, bob)

	slow := c.ws(t, "/api/v1/ws", slowUser.Access)
	require.NoError(t, slow.WriteJSON(map[string]string{"type": "hello"}))
	require.NoError(t, slow.SetReadDeadline(time.Now().Add(20*time.Second)))
	_, raw, err := slow.ReadMessage()
	require.NoError(t, err)
	require.Contains(t, string(raw), "unknown_type", "the slow client's session has started")
	require.Eventually(t, func() bool { return openSockets(t, st) == 3 }, 10*time.Second, 20*time.Millisecond)

	text := strings.Repeat("s", 9990)
	sent := 0
	slowGone := false
	for sent < maxMessages && !slowGone {
		for range batch {
			sent++
			sender.send(t, map[string]any{"type": "send", "chat_id": chat, "text": fmt.Sprintf("%09d %s", sent, text)[:10000], "client_msg_id": fmt.Sprint("m", sent)})
		}
		// The fast reader keeps pace batch after batch, whatever the slow one does.
		deadline := time.Now().Add(lagBound)
		for want := int64(sent - batch + 1); want <= int64(sent); want++ {
			f, err := fast.await("message", time.Until(deadline))
			require.NoError(t, err, "the fast reader fell behind at seq %d", want)
			require.Equal(t, want, seqOf(f), "the fast reader gets every message in order")
		}
		for want := sent - batch + 1; want <= sent; want++ {
			ack, err := sender.await("ack", lagBound)
			require.NoError(t, err)
			require.Equal(t, fmt.Sprint("m", want), ack["client_msg_id"])
			// The sender is a member too: its copies are read, not left to pile up.
			_, err = sender.await("message", lagBound)
			require.NoError(t, err)
		}
		slowGone = openSockets(t, st) == 2
	}
	require.True(t, slowGone, "messages-svc never disconnected the client that stopped reading (%d messages of 10,000 characters sent)", sent)
	t.Logf("slow client disconnected after %d messages of 10,000 characters", sent)

	// A few more after the disconnect, which only the resume can bring to the slow client.
	for range 10 {
		sent++
		sender.send(t, map[string]any{"type": "send", "chat_id": chat, "text": fmt.Sprint("after ", sent), "client_msg_id": fmt.Sprint("m", sent)})
	}
	for want := int64(sent - 9); want <= int64(sent); want++ {
		require.Equal(t, want, seqOf(fast.next(t, "message")))
	}

	// The slow client now reads what was in flight: in order, without gaps, then the end.
	last := int64(0)
	require.NoError(t, slow.SetReadDeadline(time.Now().Add(60*time.Second)))
	for {
		_, raw, err := slow.ReadMessage()
		if err != nil {
			var ne net.Error
			require.False(t, errors.As(err, &ne) && ne.Timeout(), "the slow client's socket must end, not stall (%d messages read): %v", last, err)
			break
		}
		var f map[string]any
		require.NoError(t, json.Unmarshal(raw, &f))
		if f["type"] == "message" {
			last++
			require.Equal(t, last, seqOf(f), "what reached the slow client is in order and without gaps")
		}
	}
	require.Less(t, last, int64(sent), "the slow client must have missed messages before the resume")

	again := openSocket(t, c, slowUser)
	again.send(t, map[string]any{"type": "resume", "chat_id": chat, "after_seq": last})
	for want := last + 1; want <= int64(sent); want++ {
		f, err := again.await("message", 30*time.Second)
		require.NoError(t, err)
		require.Equal(t, want, seqOf(f), "the resume replays the rest in order")
	}
	_, err = again.await("message", 300*time.Millisecond)
	require.Error(t, err, "nothing more, and nothing twice")
}

// openSockets is how many sockets both messages-svc instances hold.
func openSockets(t *testing.T, st *stack.Stack) int {
	n := 0
	for _, x := range socketsPerInstance(t, st) {
		n += x
	}
	return n
}
