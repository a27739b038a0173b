package adapters

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/convene/convene/messages-svc/internal/domain"
	"github.com/convene/convene/messages-svc/internal/wire"
	"github.com/convene/convene/platform/bus"
)

// EventBus is domain.EventPublisher: it renders the event's frame once and publishes it on
// the topic of each recipient (see wire.UserTopic for why per user). Membership changes go
// to every instance instead, on wire.MembershipTopic.
type EventBus struct {
	bus bus.Bus
	// rdb, when set, is the Redis server behind bus: the per-recipient PUBLISHes of one
	// event then go out in one pipelined round trip instead of one each.
	rdb *redis.Client
	// membersChanged forgets a chat's cached members on this instance.
	membersChanged func(chatID string)
}

// EventBusParams configures an EventBus.
type EventBusParams struct {
	Bus bus.Bus
	// Redis, when set, is the server behind Bus, used for pipelining.
	Redis *redis.Client
	// MembersChanged is called on this instance, before the news goes out to the others,
	// for every EventMembersChanged.
	MembersChanged func(chatID string)
}

// NewEventBus returns the publisher.
func NewEventBus(p EventBusParams) *EventBus {
	return &EventBus{bus: p.Bus, rdb: p.Redis, membersChanged: p.MembersChanged}
}

// Publish implements domain.EventPublisher.
func (p *EventBus) Publish(ctx context.Context, e domain.Event) error {
	if e.Kind == domain.EventMembersChanged {
		// This instance forgets at once; the others when the bus delivers, which is before
		// any frame this instance publishes afterwards reaches them.
		p.membersChanged(e.ChatID)
		if err := p.bus.Publish(ctx, wire.MembershipTopic, []byte(e.ChatID)); err != nil {
			return fmt.Errorf("%w: bus: %v", domain.ErrUnavailable, err)
		}
		return nil
	}
	env, err := wire.EventEnvelope(e)
	if err != nil {
		return err
	}
	payload := wire.EncodeEnvelope(env)
	if p.rdb != nil {
		pipe := p.rdb.Pipeline()
		for _, u := range e.Recipients {
			pipe.Publish(ctx, wire.UserTopic(u), payload)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("%w: bus: %v", domain.ErrUnavailable, err)
		}
		return nil
	}
	for _, u := range e.Recipients {
		if err := p.bus.Publish(ctx, wire.UserTopic(u), payload); err != nil {
			return fmt.Errorf("%w: bus: %v", domain.ErrUnavailable, err)
		}
	}
	return nil
}
