// Package app holds messages-svc's use cases, one file per command or query. It knows the
// domain interfaces only; ports call it, adapters implement what it needs.
package app

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// Page sizes of history, from API.md.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// Application runs the use cases.
type Application struct {
	messages domain.MessageRepository
	members  domain.Membership
	users    domain.UserDirectory
	events   domain.EventPublisher
	typing   domain.TypingThrottle
	activity domain.ActivityRecorder
	log      *slog.Logger
	now      func() time.Time
}

// Params are the Application's collaborators.
type Params struct {
	Messages domain.MessageRepository
	Members  domain.Membership
	Users    domain.UserDirectory
	Events   domain.EventPublisher
	Typing   domain.TypingThrottle
	Activity domain.ActivityRecorder
	Log      *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// New returns the Application.
func New(p Params) *Application {
	now := p.Now
	if now == nil {
		now = time.Now
	}
	return &Application{
		messages: p.Messages,
		members:  p.Members,
		users:    p.Users,
		events:   p.Events,
		typing:   p.Typing,
		activity: p.Activity,
		log:      p.Log,
		now:      now,
	}
}

// chatMembers returns the members of a chat the caller belongs to; for anyone else the chat
// does not exist.
func (a *Application) chatMembers(ctx context.Context, chatID, userID string) ([]string, error) {
	if !domain.ValidID(chatID) {
		return nil, domain.ErrNotFound
	}
	members, err := a.members.Members(ctx, chatID)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(members, userID) {
		return nil, domain.ErrNotFound
	}
	return members, nil
}

// requireMember is chatMembers for callers that do not need the member list.
func (a *Application) requireMember(ctx context.Context, chatID, userID string) error {
	if !domain.ValidID(chatID) {
		return domain.ErrNotFound
	}
	ok, err := a.members.IsMember(ctx, chatID, userID)
	if err != nil {
		return err
	}
	if !ok {
		return domain.ErrNotFound
	}
	return nil
}

// publish sends an event; the change it reports is already stored, so a failure is logged
// and not returned: sockets find the change in the database when they resume.
func (a *Application) publish(ctx context.Context, e domain.Event) {
	if len(e.Recipients) == 0 {
		return
	}
	if err := a.events.Publish(ctx, e); err != nil {
		a.log.WarnContext(ctx, "publish event failed", "kind", e.Kind, "chat_id", e.ChatID, "err", err)
	}
}

// views adds sender names and read_by to messages of one chat.
func (a *Application) views(ctx context.Context, chatID string, msgs []domain.Message) ([]domain.MessageView, error) {
	if len(msgs) == 0 {
		return []domain.MessageView{}, nil
	}
	positions, err := a.messages.ReadPositions(ctx, chatID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if !slices.Contains(ids, m.SenderID) {
			ids = append(ids, m.SenderID)
		}
	}
	names := a.usernames(ctx, ids)
	out := make([]domain.MessageView, len(msgs))
	for i, m := range msgs {
		out[i] = domain.MessageView{Message: m, SenderName: names[m.SenderID], ReadBy: domain.ReadBy(m, positions)}
	}
	return out, nil
}

// usernames resolves names best effort: while users-svc is down, chat keeps working and
// senders show without a name rather than every read failing.
func (a *Application) usernames(ctx context.Context, ids []string) map[string]string {
	names, err := a.users.Usernames(ctx, ids)
	if err != nil {
		a.log.WarnContext(ctx, "resolve usernames failed", "err", err)
		return map[string]string{}
	}
	return names
}

func without(ids []string, id string) []string {
	return slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == id })
}
