package domain

import (
	"context"
	"time"
)

// MembershipChange says who joined and who left a chat in one write.
type MembershipChange struct {
	ChatID  string
	Added   []string
	Removed []string
}

// Repository stores chats and their members, and records events with the change that
// produced them.
type Repository interface {
	// CreateChat stores a new chat with its members and events, all or nothing.
	CreateChat(ctx context.Context, roster Roster, events []Event) error
	// UpdateRoster loads the chat's roster, lets update change it and name the events to
	// record, and stores the change with the events in one transaction; concurrent updates
	// of one chat are serialized. ErrChatNotFound when the chat does not exist.
	UpdateRoster(ctx context.Context, chatID string, update func(*Roster) ([]Event, error)) (MembershipChange, error)
	// Roster returns the chat with its members, or ErrChatNotFound.
	Roster(ctx context.Context, chatID string) (Roster, error)
	// UserChatsPage returns up to limit of userID's chats in list order (latest activity
	// first, ties by descending id), starting after `after`, or at the top when it is nil.
	UserChatsPage(ctx context.Context, userID string, after *ChatPosition, limit int) ([]Chat, error)
	// RecordActivity moves each chat's LastActivityAt forward to the activity's time, never
	// back; unknown chats are skipped. The batch names each chat once.
	RecordActivity(ctx context.Context, batch []Activity) error
	// ChatMemberIDs returns the members of a chat; none for an unknown chat.
	ChatMemberIDs(ctx context.Context, chatID string) ([]string, error)
	// UserChatIDs returns the ids of every chat userID belongs to.
	UserChatIDs(ctx context.Context, userID string) ([]string, error)
}

// Outbox is the queue of recorded events, oldest first.
type Outbox interface {
	// OldestEvent returns the oldest undelivered event, due or not, or ErrNoEvent.
	OldestEvent(ctx context.Context) (Event, error)
	// ClaimEvent takes ev for delivery until `until`, counting an attempt. It reports
	// false when another relay claimed or changed it since ev was read.
	ClaimEvent(ctx context.Context, ev Event, until time.Time) (bool, error)
	// DeleteEvent removes a delivered event.
	DeleteEvent(ctx context.Context, id string) error
	// RescheduleEvent makes a failed event due again at `at`.
	RescheduleEvent(ctx context.Context, id string, at time.Time) error
}

// User is an account as users-svc describes it.
type User struct {
	ID       string
	Username string
	Email    string
}

// UserDirectory resolves accounts (users-svc).
type UserDirectory interface {
	// UserByEmail returns the account with that email, or ErrUserNotFound.
	UserByEmail(ctx context.Context, email string) (User, error)
	// Users returns the accounts with the given ids in one call; unknown ids are left out.
	Users(ctx context.Context, ids []string) ([]User, error)
}

// Message is a chat message as messages-svc describes it.
type Message struct {
	ID          string
	ChatID      string
	Seq         int64
	SenderID    string
	Text        string
	ClientMsgID string
	CreatedAt   time.Time
	// EditedAt is zero when the message was never edited.
	EditedAt time.Time
	Deleted  bool
}

// Summary is what a chat list shows of a chat's messages for one user.
type Summary struct {
	// LastMessage is nil when the chat has no message yet.
	LastMessage *Message
	UnreadCount int64
}

// MessageSummaries reads chat summaries from messages-svc.
type MessageSummaries interface {
	// Summaries returns userID's summary of each chat, keyed by chat id, in one call.
	Summaries(ctx context.Context, userID string, chatIDs []string) (map[string]Summary, error)
}

// EventPublisher delivers a frame to the users' open sockets (messages-svc).
type EventPublisher interface {
	// Publish fails with ErrEventRejected when retrying cannot help.
	Publish(ctx context.Context, userIDs []string, frame []byte) error
}
