package adapters

import (
	"context"
	"fmt"

	"github.com/convene/convene/messages-svc/internal/domain"
	"github.com/convene/convene/messages-svc/internal/wire"
	"github.com/convene/convene/platform/bus"
)

// EventBus is domain.EventPublisher: it renders the event's frame once and publishes it
// once, with its recipients, on wire.EventsTopic, which every instance follows. Membership
// changes go to every instance on wire.MembershipTopic.
type EventBus struct {
	bus bus.Bus
	// membersChanged forgets a chat's cached members on this instance.
	membersChanged func(chatID string)
}

// EventBusParams configures an EventBus.
type EventBusParams struct {
	Bus bus.Bus
	// MembersChanged is called on this instance, before the news goes out to the others,
	// for every EventMembersChanged.
	MembersChanged func(chatID string)
}

// NewEventBus returns the publisher.
func NewEventBus(p EventBusParams) *EventBus {
	return &EventBus{bus: p.Bus, membersChanged: p.MembersChanged}
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
	if len(e.Recipients) == 0 {
		return nil
	}
	env, err := wire.EventEnvelope(e)
	if err != nil {
		return err
	}
	env.Recipients = e.Recipients
	if err := p.bus.Publish(ctx, wire.EventsTopic, wire.EncodeEnvelope(env)); err != nil {
		return fmt.Errorf("%w: bus: %v", domain.ErrUnavailable, err)
	}
	return nil
}
