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
// the topic of each recipient (see wire.UserTopic for why per user).
type EventBus struct {
	bus bus.Bus
	// rdb, when set, is the Redis server behind bus: the per-recipient PUBLISHes of one
	// event then go out in one pipelined round trip instead of one each.
	rdb *redis.Client
}

// NewEventBus publishes through b, pipelined over rdb when it is not nil.
func NewEventBus(b bus.Bus, rdb *redis.Client) *EventBus { return &EventBus{bus: b, rdb: rdb} }

// Publish implements domain.EventPublisher.
func (p *EventBus) Publish(ctx context.Context, e domain.Event) error {
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
