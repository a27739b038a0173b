package realtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/convene/convene/messages-svc/internal/wire"
	"github.com/convene/convene/platform/bus"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// store is a chat's history as a Fetcher sees it.
type store struct {
	mu    sync.Mutex
	seqs  []int64
	calls int
}

func (s *store) fetch(_ context.Context, _, _ string, after int64, limit int) ([]SeqFrame, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	var out []SeqFrame
	for _, seq := range s.seqs {
		if seq > after && len(out) < limit {
			out = append(out, SeqFrame{Seq: seq, Frame: frame(seq)})
		}
	}
	more := len(out) == limit && out[len(out)-1].Seq < s.seqs[len(s.seqs)-1]
	return out, more, nil
}

func frame(seq int64) []byte { return []byte(fmt.Sprintf("m%d", seq)) }

func env(seq int64) wire.Envelope { return wire.Envelope{ChatID: "c", Seq: seq, Frame: frame(seq)} }

// wakeable is a session with the channel its Notify signals.
type wakeable struct {
	*Session
	wake chan struct{}
}

func newWakeable(p SessionParams) *wakeable {
	w := &wakeable{wake: make(chan struct{}, 1)}
	p.Notify = func() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	w.Session = NewSession(context.Background(), p)
	return w
}

func newSession(t *testing.T, queue int, st *store) *wakeable {
	t.Helper()
	s := newWakeable(SessionParams{UserID: "u", MaxQueue: queue, GapTimeout: 20 * time.Millisecond, Fetch: st.fetch})
	t.Cleanup(func() { s.Close(1000, "") })
	return s
}

// reader drains a session like a socket writer would, recording the frames.
func reader(s *wakeable) func() []string {
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-s.wake:
				for _, f := range s.Take() {
					mu.Lock()
					got = append(got, string(f))
					mu.Unlock()
				}
			case <-s.Done():
				return
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

func names(from, to int64) []string {
	var out []string
	for s := from; s <= to; s++ {
		out = append(out, string(frame(s)))
	}
	return out
}

func TestSessionBuffersUntilStart(t *testing.T) {
	s := newSession(t, 16, &store{})
	got := reader(s)
	s.Deliver(env(3)) // committed before the socket's start position: dropped
	s.Deliver(env(5))
	s.Deliver(env(4))
	s.Start(map[string]int64{"c": 3})
	require.Eventually(t, func() bool { return len(got()) == 2 }, time.Second, time.Millisecond)
	require.Equal(t, names(4, 5), got())
}

func TestSessionRepairsGapFromDatabase(t *testing.T) {
	st := &store{seqs: []int64{1, 2, 3, 4}}
	s := newSession(t, 16, st)
	got := reader(s)
	s.Start(map[string]int64{"c": 0})
	s.Deliver(env(1))
	s.Deliver(env(3)) // 2 was lost by the bus
	s.Deliver(env(4))
	require.Eventually(t, func() bool { return len(got()) == 4 }, time.Second, time.Millisecond)
	require.Equal(t, names(1, 4), got())
	s.Deliver(env(2)) // late duplicate
	s.Deliver(env(5))
	require.Eventually(t, func() bool { return len(got()) == 5 }, time.Second, time.Millisecond)
	require.Equal(t, names(1, 5), got())
}

func TestSessionResumeReplaysInOrderWithLiveFrames(t *testing.T) {
	st := &store{}
	for i := int64(1); i <= 450; i++ {
		st.seqs = append(st.seqs, i)
	}
	s := newSession(t, 8, st) // a replay far larger than the queue follows the reader
	got := reader(s)
	s.Start(map[string]int64{"c": 450})
	s.Deliver(env(451))
	require.Eventually(t, func() bool { return len(got()) == 1 }, time.Second, time.Millisecond)
	st.mu.Lock()
	st.seqs = append(st.seqs, 451, 452)
	st.mu.Unlock()
	go s.Deliver(env(452)) // races with the resume below: either order is correct
	require.NoError(t, s.Resume("c", 100))
	s.Deliver(env(453))
	replayed := append(names(451, 451), names(101, 453)...)
	liveFirst := append(names(451, 452), names(101, 453)...) // 452 was delivered before the resume began
	require.Eventually(t, func() bool { return len(got()) >= len(replayed) }, 2*time.Second, time.Millisecond)
	if g := got(); len(g) > 1 && g[1] == string(frame(452)) {
		require.Eventually(t, func() bool { return len(got()) >= len(liveFirst) }, 2*time.Second, time.Millisecond)
		require.Equal(t, liveFirst, got())
	} else {
		require.Equal(t, replayed, got())
	}
	st.mu.Lock()
	require.GreaterOrEqual(t, st.calls, 2, "paged")
	st.mu.Unlock()
}

func TestSessionDisconnectsSlowConsumer(t *testing.T) {
	s := newSession(t, 4, &store{})
	s.Start(nil)
	for i := range 4 {
		s.Send([]byte(fmt.Sprint(i)))
	}
	select {
	case <-s.Done():
		t.Fatal("closed before the queue overflowed")
	default:
	}
	s.Send([]byte("overflow"))
	<-s.Done()
	code, _ := s.CloseStatus()
	require.Equal(t, CloseSlowConsumer, code)
	s.Send([]byte("after")) // no effect, no panic
	require.ErrorIs(t, s.Resume("c", 0), ErrClosed)
}

func TestHubDeliversToTheUsersSessions(t *testing.T) {
	b := bus.NewMemory()
	// changed records the membership news; frames delivered after it see it recorded.
	var mu sync.Mutex
	var changed []string
	hub, err := NewHub(context.Background(), HubParams{Bus: b, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MembersChanged: func(chatID string) {
			mu.Lock()
			defer mu.Unlock()
			changed = append(changed, chatID)
		},
		Members: func(context.Context, string) ([]string, error) { return nil, errors.New("no message is sent here") },
	})
	require.NoError(t, err)
	defer hub.Close(1001, "bye")
	alice1 := newWakeable(SessionParams{UserID: "alice", MaxQueue: 8, GapTimeout: time.Second, Fetch: (&store{}).fetch})
	alice2 := newWakeable(SessionParams{UserID: "alice", MaxQueue: 8, GapTimeout: time.Second, Fetch: (&store{}).fetch})
	bob := newWakeable(SessionParams{UserID: "bob", MaxQueue: 8, GapTimeout: time.Second, Fetch: (&store{}).fetch})
	for _, s := range []*wakeable{alice1, alice2, bob} {
		hub.Add(s.Session)
		s.Start(nil)
	}
	require.Equal(t, 3, hub.Sessions())
	got1, got2, gotBob := reader(alice1), reader(alice2), reader(bob)
	publish := func(frame string, to ...string) {
		t.Helper()
		require.NoError(t, b.Publish(context.Background(), wire.EventsTopic, wire.EncodeEnvelope(wire.Envelope{Recipients: to, Frame: []byte(frame)})))
	}
	publish("hi", "alice", "carol")
	require.Eventually(t, func() bool { return len(got1()) == 1 && len(got2()) == 1 }, time.Second, time.Millisecond)
	hub.Remove(alice1.Session)
	require.Equal(t, 2, hub.Sessions())
	publish("again", "alice")
	require.Eventually(t, func() bool { return len(got2()) == 2 }, time.Second, time.Millisecond)
	require.Equal(t, []string{"hi"}, got1())
	require.Empty(t, gotBob())

	// Membership news goes to the callback, in order with the frames published after it.
	require.NoError(t, b.Publish(context.Background(), wire.MembershipTopic, []byte("chat-1")))
	publish("after news", "bob")
	require.Eventually(t, func() bool { return len(gotBob()) == 1 }, time.Second, time.Millisecond)
	mu.Lock()
	require.Equal(t, []string{"chat-1"}, changed, "the news is handled before the frame that followed it")
	mu.Unlock()
	alice1.Close(1000, "")
	hub.Close(1001, "bye")
	for _, s := range []*wakeable{alice2, bob} {
		<-s.Done()
		code, reason := s.CloseStatus()
		require.Equal(t, 1001, code)
		require.Equal(t, "bye", reason)
	}
}

// TestHubDeliversMessagesToCurrentMembersOnly: a message whose sender still listed a member
// this instance already knows was removed does not reach that member's sockets; when the
// membership cannot be read, nobody here gets it live (their sockets repair the gap).
func TestHubDeliversMessagesToCurrentMembersOnly(t *testing.T) {
	b := bus.NewMemory()
	var mu sync.Mutex
	members := map[string][]string{"chat-1": {"alice", "bob", "carol"}}
	hub, err := NewHub(context.Background(), HubParams{Bus: b, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MembersChanged: func(string) {},
		Members: func(_ context.Context, chatID string) ([]string, error) {
			mu.Lock()
			defer mu.Unlock()
			m, ok := members[chatID]
			if !ok {
				return nil, errors.New("chats-svc unreachable")
			}
			return m, nil
		},
	})
	require.NoError(t, err)
	defer hub.Close(1001, "bye")
	sessions := map[string]*wakeable{}
	got := map[string]func() []string{}
	for _, u := range []string{"bob", "carol"} {
		s := newWakeable(SessionParams{UserID: u, MaxQueue: 8, GapTimeout: time.Hour, Fetch: (&store{}).fetch})
		hub.Add(s.Session)
		s.Start(map[string]int64{"chat-1": 0, "chat-2": 0})
		sessions[u], got[u] = s, reader(s)
	}
	send := func(chat string, seq int64, text string) {
		t.Helper()
		require.NoError(t, b.Publish(context.Background(), wire.EventsTopic, wire.EncodeEnvelope(wire.Envelope{
			ChatID: chat, Seq: seq, Recipients: []string{"alice", "bob", "carol"}, Frame: []byte(text),
		})))
	}
	send("chat-1", 1, "to all")
	require.Eventually(t, func() bool { return len(got["bob"]()) == 1 && len(got["carol"]()) == 1 }, time.Second, time.Millisecond)

	mu.Lock()
	members["chat-1"] = []string{"alice", "bob"}
	mu.Unlock()
	send("chat-1", 2, "after carol left")
	require.Eventually(t, func() bool { return len(got["bob"]()) == 2 }, time.Second, time.Millisecond)

	send("chat-2", 1, "membership unknown")
	send("chat-1", 3, "last")
	require.Eventually(t, func() bool { return len(got["bob"]()) == 3 }, time.Second, time.Millisecond)
	require.Equal(t, []string{"to all", "after carol left", "last"}, got["bob"]())
	require.Equal(t, []string{"to all"}, got["carol"](), "a removed member gets nothing sent after the removal")
}
