package realtime

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/convene/convene/messages-svc/internal/wire"
	"github.com/convene/convene/platform/bus"
)

// Hub holds the sessions of this instance by user and feeds them from the bus: it follows
// the topic of each user with at least one socket here, and the membership topic.
type Hub struct {
	sub bus.Subscription
	log *slog.Logger
	// membersChanged receives the chats of wire.MembershipTopic.
	membersChanged func(chatID string)

	// topicMu orders subscription changes with the session map, so that a user's topic is
	// subscribed exactly while the user has sessions here.
	topicMu sync.Mutex
	mu      sync.RWMutex
	users   map[string]map[*Session]struct{}
	// closed is set by Close: the subscription is gone, so topics need no unsubscribing.
	closed  bool
	stopped chan struct{}
}

// NewHub subscribes to the bus and starts dispatching; Close stops it. membersChanged is
// called, in order with the users' frames, for every chat whose members changed.
func NewHub(ctx context.Context, b bus.Bus, log *slog.Logger, membersChanged func(chatID string)) (*Hub, error) {
	sub, err := b.Subscribe(ctx, wire.MembershipTopic)
	if err != nil {
		return nil, err
	}
	h := &Hub{
		sub: sub, log: log, membersChanged: membersChanged,
		users: map[string]map[*Session]struct{}{}, stopped: make(chan struct{}),
	}
	go h.run()
	return h, nil
}

// Add registers a session and subscribes its user's topic if it is the user's first here.
func (h *Hub) Add(ctx context.Context, s *Session) error {
	h.topicMu.Lock()
	defer h.topicMu.Unlock()
	h.mu.Lock()
	set, ok := h.users[s.UserID()]
	if !ok {
		set = map[*Session]struct{}{}
		h.users[s.UserID()] = set
	}
	set[s] = struct{}{}
	h.mu.Unlock()
	if ok {
		return nil
	}
	if err := h.sub.Add(ctx, wire.UserTopic(s.UserID())); err != nil {
		h.mu.Lock()
		delete(h.users, s.UserID())
		h.mu.Unlock()
		return err
	}
	return nil
}

// Remove unregisters a session and drops its user's topic if it was the last one here.
func (h *Hub) Remove(ctx context.Context, s *Session) {
	h.topicMu.Lock()
	defer h.topicMu.Unlock()
	h.mu.Lock()
	set := h.users[s.UserID()]
	if _, ok := set[s]; !ok {
		h.mu.Unlock()
		return
	}
	delete(set, s)
	last := len(set) == 0 && !h.closed
	if len(set) == 0 {
		delete(h.users, s.UserID())
	}
	h.mu.Unlock()
	if last {
		if err := h.sub.Remove(ctx, wire.UserTopic(s.UserID())); err != nil {
			h.log.Warn("unsubscribe user topic failed", "err", err)
		}
	}
}

// Sessions counts the sockets open on this instance.
func (h *Hub) Sessions() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, set := range h.users {
		n += len(set)
	}
	return n
}

func (h *Hub) run() {
	defer close(h.stopped)
	for ev := range h.sub.Messages() {
		if ev.Topic == wire.MembershipTopic {
			h.membersChanged(string(ev.Payload))
			continue
		}
		user, ok := strings.CutPrefix(ev.Topic, wire.UserTopic(""))
		if !ok {
			continue
		}
		env, err := wire.DecodeEnvelope(ev.Payload)
		if err != nil {
			h.log.Warn("dropping malformed bus event", "topic", ev.Topic)
			continue
		}
		h.mu.RLock()
		for s := range h.users[user] {
			s.Deliver(env)
		}
		h.mu.RUnlock()
	}
}

// Close stops the bus subscription and ends every session with code (clients reconnect,
// to another instance when this one is going away).
func (h *Hub) Close(code int, reason string) {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	_ = h.sub.Close()
	<-h.stopped
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, set := range h.users {
		for s := range set {
			s.Close(code, reason)
		}
	}
}
