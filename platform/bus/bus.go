// Package bus fans events out between the instances of a service: Redis pub/sub when
// configured, in-process otherwise (the embedded setup runs one instance per service).
// Delivery is at most once; consumers that must not miss anything (the chat socket) catch
// up from the database.
package bus

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Bus publishes payloads on topics and delivers them to subscribers of those topics.
type Bus interface {
	Publish(ctx context.Context, topic string, payload []byte) error
	// Subscribe starts a subscription to topics; events arrive on its Messages channel,
	// which the consumer must drain promptly.
	Subscribe(ctx context.Context, topics ...string) (Subscription, error)
}

// Subscription is a live set of topics; topics can be added and removed.
type Subscription interface {
	Add(ctx context.Context, topics ...string) error
	Remove(ctx context.Context, topics ...string) error
	// Messages delivers events; it is closed after Close.
	Messages() <-chan Event
	Close() error
}

// Event is one published payload.
type Event struct {
	Topic   string
	Payload []byte
}

// Redis is a Bus over Redis pub/sub.
type Redis struct{ rdb *redis.Client }

// NewRedis wraps a Redis client.
func NewRedis(rdb *redis.Client) *Redis { return &Redis{rdb: rdb} }

// Publish implements Bus.
func (r *Redis) Publish(ctx context.Context, topic string, payload []byte) error {
	return r.rdb.Publish(ctx, topic, payload).Err()
}

// Subscribe implements Bus.
func (r *Redis) Subscribe(ctx context.Context, topics ...string) (Subscription, error) {
	ps := r.rdb.Subscribe(ctx, topics...)
	// Wait for the confirmation so that nothing published after Subscribe returns is missed.
	if len(topics) > 0 {
		if _, err := ps.Receive(ctx); err != nil {
			ps.Close()
			return nil, err
		}
	}
	s := &redisSub{ps: ps, out: make(chan Event, 256)}
	go s.pump()
	return s, nil
}

type redisSub struct {
	ps  *redis.PubSub
	out chan Event
}

func (s *redisSub) pump() {
	defer close(s.out)
	for m := range s.ps.Channel(redis.WithChannelSize(1024)) {
		s.out <- Event{Topic: m.Channel, Payload: []byte(m.Payload)}
	}
}

func (s *redisSub) Add(ctx context.Context, topics ...string) error {
	return s.ps.Subscribe(ctx, topics...)
}

func (s *redisSub) Remove(ctx context.Context, topics ...string) error {
	return s.ps.Unsubscribe(ctx, topics...)
}

func (s *redisSub) Messages() <-chan Event { return s.out }
func (s *redisSub) Close() error           { return s.ps.Close() }

// Memory is an in-process Bus.
type Memory struct {
	mu   sync.RWMutex
	subs map[string]map[*memSub]struct{}
}

// NewMemory returns an empty in-process bus.
func NewMemory() *Memory { return &Memory{subs: map[string]map[*memSub]struct{}{}} }

// Publish implements Bus. A subscriber whose buffer is full loses the event, like a slow
// Redis subscriber would; consumers catch up from their store.
func (m *Memory) Publish(_ context.Context, topic string, payload []byte) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for s := range m.subs[topic] {
		s.deliver(Event{Topic: topic, Payload: append([]byte(nil), payload...)})
	}
	return nil
}

// Subscribe implements Bus.
func (m *Memory) Subscribe(ctx context.Context, topics ...string) (Subscription, error) {
	s := &memSub{bus: m, out: make(chan Event, 1024), topics: map[string]struct{}{}}
	return s, s.Add(ctx, topics...)
}

type memSub struct {
	bus    *Memory
	mu     sync.Mutex
	out    chan Event
	topics map[string]struct{}
	closed bool
}

func (s *memSub) deliver(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.out <- e:
	default:
	}
}

func (s *memSub) Add(_ context.Context, topics ...string) error {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	for _, t := range topics {
		if s.bus.subs[t] == nil {
			s.bus.subs[t] = map[*memSub]struct{}{}
		}
		s.bus.subs[t][s] = struct{}{}
		s.topics[t] = struct{}{}
	}
	return nil
}

func (s *memSub) Remove(_ context.Context, topics ...string) error {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	for _, t := range topics {
		delete(s.bus.subs[t], s)
		if len(s.bus.subs[t]) == 0 {
			delete(s.bus.subs, t)
		}
		delete(s.topics, t)
	}
	return nil
}

func (s *memSub) Messages() <-chan Event { return s.out }

func (s *memSub) Close() error {
	s.bus.mu.Lock()
	for t := range s.topics {
		delete(s.bus.subs[t], s)
		if len(s.bus.subs[t]) == 0 {
			delete(s.bus.subs, t)
		}
	}
	s.bus.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.out)
	}
	return nil
}
