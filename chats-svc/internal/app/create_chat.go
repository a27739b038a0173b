package app

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/convene/convene/chats-svc/internal/domain"
)

// emailLookups bounds the concurrent users-svc calls that resolve a chat's member emails.
const emailLookups = 8

// CreateChat is the command to create a chat; the creator becomes its first member.
type CreateChat struct {
	CreatorID    string
	Title        string
	MemberEmails []string
}

// CreateChat creates the chat with its members and tells each of them (the creator's other
// devices included) with a chat_added event. An unknown email fails the whole command
// before anything is stored.
func (a *App) CreateChat(ctx context.Context, cmd CreateChat) (ChatView, error) {
	now := a.now()
	chat, err := domain.NewChat(newID(), cmd.Title, cmd.CreatorID, now)
	if err != nil {
		return ChatView{}, err
	}
	emails, err := domain.ParseMemberEmails(cmd.MemberEmails)
	if err != nil {
		return ChatView{}, err
	}
	users, err := a.resolveEmails(ctx, emails)
	if err != nil {
		return ChatView{}, err
	}
	roster := domain.Roster{Chat: chat, Members: []string{cmd.CreatorID}}
	for _, u := range users {
		if !roster.IsMember(u.ID) {
			roster.Members = append(roster.Members, u.ID)
		}
	}
	event := domain.NewChatAdded(newID(), chat, roster.Members, now)
	if err := a.repo.CreateChat(ctx, roster, []domain.Event{event}); err != nil {
		return ChatView{}, err
	}
	a.eventsRecorded()
	return ChatView{Chat: chat}, nil
}

// resolveEmails looks the addresses up concurrently (users.v1 resolves one email per call)
// and fails with the first unknown one.
func (a *App) resolveEmails(ctx context.Context, emails []string) ([]domain.User, error) {
	users := make([]domain.User, len(emails))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(emailLookups)
	for i, email := range emails {
		g.Go(func() error {
			u, err := a.users.UserByEmail(gctx, email)
			if err != nil {
				return fmt.Errorf("%w: %s", err, email)
			}
			users[i] = u
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return users, nil
}
