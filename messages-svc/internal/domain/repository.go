package domain

import (
	"context"
	"time"
)

// MessageRepository stores messages, per-chat sequence counters and read positions.
type MessageRepository interface {
	// Create stores m with the chat's next seq, in the same transaction that advances the
	// counter, so that seqs are gap-free and strictly increasing under concurrent senders.
	// When the sender already sent client_msg_id in this chat, it returns that message and
	// created=false instead.
	Create(ctx context.Context, m Message) (stored Message, created bool, err error)
	// Get returns one message of a chat, or ErrNotFound.
	Get(ctx context.Context, chatID, id string) (Message, error)
	// Update applies change to the message under a row lock and stores the result; an error
	// from change aborts without writing.
	Update(ctx context.Context, chatID, id string, change func(*Message) error) (Message, error)
	// List returns a page of a chat's history (see HistoryQuery).
	List(ctx context.Context, chatID string, q HistoryQuery) ([]Message, error)
	// LastSeqs returns the last assigned seq of each chat; chats without messages are absent.
	LastSeqs(ctx context.Context, chatIDs []string) (map[string]int64, error)
	// ReadPositions returns every member's read position in a chat.
	ReadPositions(ctx context.Context, chatID string) ([]ReadPosition, error)
	// MarkRead moves a read position forward; moved=false when it was already at or past seq.
	MarkRead(ctx context.Context, p ReadPosition) (moved bool, err error)
	// Summaries returns, for each chat, its last message (nil when none) and the number of
	// messages of others after userID's read position that are not deleted.
	Summaries(ctx context.Context, userID string, chatIDs []string) ([]ChatSummary, error)
}

// HistoryQuery selects a page of history: ascending after AfterSeq, or descending before
// BeforeSeq (0 meaning from the newest message).
type HistoryQuery struct {
	Ascending bool
	AfterSeq  int64
	BeforeSeq int64
	Limit     int
}

// ChatSummary is what a chat list shows of one chat.
type ChatSummary struct {
	ChatID      string
	LastMessage *Message
	UnreadCount int64
}

// Membership answers who belongs to a chat; chats-svc owns the answer.
type Membership interface {
	// Members returns the member ids of a chat; an unknown chat has none.
	Members(ctx context.Context, chatID string) ([]string, error)
	IsMember(ctx context.Context, chatID, userID string) (bool, error)
	// UserChats returns the ids of the chats userID belongs to.
	UserChats(ctx context.Context, userID string) ([]string, error)
}

// ActivityRecorder tells chats-svc, which orders chat lists by activity, that a chat had a
// message. It never blocks: reports travel asynchronously, batched.
type ActivityRecorder interface {
	RecordActivity(chatID string, at time.Time)
}

// UserDirectory resolves user ids to usernames; unknown ids are left out.
type UserDirectory interface {
	Usernames(ctx context.Context, ids []string) (map[string]string, error)
}

// EventPublisher delivers an event to the realtime sockets of its recipients on every
// instance. Delivery is best effort: sockets catch up from the database.
type EventPublisher interface {
	Publish(ctx context.Context, e Event) error
}

// TypingThrottle decides whether a typing notice may go out now.
type TypingThrottle interface {
	AllowTyping(ctx context.Context, userID, chatID string) (bool, error)
}
