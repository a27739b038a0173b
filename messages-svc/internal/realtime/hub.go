package realtime

import (
	"context"
	"log/slog"
	"slices"
	"sync"

	"github.com/convene/convene/messages-svc/internal/wire"
	"github.com/convene/convene/platform/bus"
)

// Hub holds the sessions of this instance by user and feeds them from the bus: every event
// (wire.EventsTopic) goes to the sockets held here for its recipients, and membership news
// (wire.MembershipTopic) to membersChanged. Both topics share one subscription, so an
// instance reads them in the order they were published.
type Hub struct {
	ctx context.Context
	sub bus.Subscription
	log *slog.Logger
	// membersChanged receives the chats of wire.MembershipTopic.
	membersChanged func(chatID string)
	// members answers a chat's current members (from this instance's cache).
	members func(ctx context.Context, chatID string) ([]string, error)

	mu sync.RWMutex
	// users maps a user to their sessions here: usually one, so it is held as a single
	// session and becomes a set only for a second socket of the same user.
	users   map[string]userSessions
	stopped chan struct{}
}

// userSessions is one user's sessions on this instance: one, or several in more.
type userSessions struct {
	one  *Session
	more map[*Session]struct{}
}

func (u userSessions) each(f func(*Session)) {
	if u.one != nil {
		f(u.one)
	}
	for s := range u.more {
		f(s)
	}
}

func (u userSessions) len() int {
	n := len(u.more)
	if u.one != nil {
		n++
	}
	return n
}

// HubParams configures a Hub.
type HubParams struct {
	Bus bus.Bus
	Log *slog.Logger
	// MembersChanged is called, in order with the users' frames, for every chat whose
	// members changed.
	MembersChanged func(chatID string)
	// Members returns a chat's current members; it is asked, after MembersChanged, before
	// a new message goes to this instance's sockets.
	Members func(ctx context.Context, chatID string) ([]string, error)
}

// NewHub subscribes to the bus and starts dispatching; Close stops it. ctx bounds the
// membership lookups of the dispatch.
func NewHub(ctx context.Context, p HubParams) (*Hub, error) {
	sub, err := p.Bus.Subscribe(ctx, wire.MembershipTopic, wire.EventsTopic)
	if err != nil {
		return nil, err
	}
	h := &Hub{
		ctx: ctx, sub: sub, log: p.Log, membersChanged: p.MembersChanged, members: p.Members,
		users: map[string]userSessions{}, stopped: make(chan struct{}),
	}
	go h.run()
	return h, nil
}

// Add registers a session: from now on it gets its user's events.
func (h *Hub) Add(s *Session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[s.UserID()]
	switch {
	case u.one == nil && len(u.more) == 0:
		u.one = s
	default:
		if u.more == nil {
			u.more = map[*Session]struct{}{}
		}
		u.more[s] = struct{}{}
	}
	h.users[s.UserID()] = u
}

// Remove unregisters a session.
func (h *Hub) Remove(s *Session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u, ok := h.users[s.UserID()]
	if !ok {
		return
	}
	if u.one == s {
		u.one = nil
	} else {
		delete(u.more, s)
	}
	if u.len() == 0 {
		delete(h.users, s.UserID())
		return
	}
	h.users[s.UserID()] = u
}

// Sessions counts the sockets open on this instance.
func (h *Hub) Sessions() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, u := range h.users {
		n += u.len()
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
		if ev.Topic != wire.EventsTopic {
			continue
		}
		env, err := wire.DecodeEnvelope(ev.Payload)
		if err != nil {
			h.log.Warn("dropping malformed bus event", "topic", ev.Topic)
			continue
		}
		h.dispatch(env)
	}
}

// dispatch hands env to the sockets held here for its recipients. A new message goes only
// to those who are still members by this instance's own view: the sender chose the
// recipients from its cache, which may not have heard yet of a removal that this instance
// already handled (membership news and frames arrive here in order) and already told the
// removed member about. A member dropped by a failed lookup is not lost: their socket sees
// the gap at the chat's next message and fetches what it missed from the database.
func (h *Hub) dispatch(env wire.Envelope) {
	var members []string
	if env.Seq > 0 {
		if !h.holdsAny(env.Recipients) {
			return
		}
		var err error
		if members, err = h.members(h.ctx, env.ChatID); err != nil {
			h.log.Warn("message not delivered live: membership unknown", "chat_id", env.ChatID, "seq", env.Seq, "err", err)
			return
		}
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, r := range env.Recipients {
		if env.Seq > 0 && !slices.Contains(members, r) {
			continue
		}
		h.users[r].each(func(s *Session) { s.Deliver(env) })
	}
}

// holdsAny reports whether any of users has a socket here.
func (h *Hub) holdsAny(users []string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, u := range users {
		if _, ok := h.users[u]; ok {
			return true
		}
	}
	return false
}

// Close stops the bus subscription and ends every session with code (clients reconnect,
// to another instance when this one is going away).
func (h *Hub) Close(code int, reason string) {
	_ = h.sub.Close()
	<-h.stopped
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, u := range h.users {
		u.each(func(s *Session) { s.Close(code, reason) })
	}
}
