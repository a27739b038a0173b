package app

import (
	"context"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// MarkRead is a member saying "I have read up to Seq".
type MarkRead struct {
	UserID string
	ChatID string
	Seq    int64
}

// MarkRead moves the member's read position forward (never back) and, when it moved, tells
// the members so that their read_by marks update.
func (a *Application) MarkRead(ctx context.Context, cmd MarkRead) error {
	members, err := a.chatMembers(ctx, cmd.ChatID, cmd.UserID)
	if err != nil {
		return err
	}
	last, err := a.messages.LastSeqs(ctx, []string{cmd.ChatID})
	if err != nil {
		return err
	}
	if err := domain.ValidateReadSeq(cmd.Seq, last[cmd.ChatID]); err != nil {
		return err
	}
	moved, err := a.messages.MarkRead(ctx, domain.ReadPosition{ChatID: cmd.ChatID, UserID: cmd.UserID, LastReadSeq: cmd.Seq})
	if err != nil {
		return err
	}
	if moved {
		a.publish(ctx, domain.Event{Kind: domain.EventRead, Recipients: members, ChatID: cmd.ChatID, UserID: cmd.UserID, Seq: cmd.Seq})
	}
	return nil
}
