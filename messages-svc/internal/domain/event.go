package domain

// EventKind tells what happened; each kind is one server → client frame of API.md.
type EventKind int

// The kinds of realtime events.
const (
	EventMessage EventKind = iota + 1
	EventMessageEdited
	EventMessageDeleted
	EventRead
	EventTyping
	// EventRaw is a frame built elsewhere (chats-svc: chat_added, member changes) and
	// delivered as is.
	EventRaw
	// EventMembersChanged is for the instances, not for sockets: ChatID's members changed,
	// so what every instance remembers of them is stale.
	EventMembersChanged
)

// Event is something the members of a chat see live.
type Event struct {
	Kind EventKind
	// Recipients are the users whose sockets receive the event.
	Recipients []string
	ChatID     string
	// Message is set for the message kinds.
	Message *MessageView
	// UserID and Seq are set for read (who read up to where) and typing (who types).
	UserID string
	Seq    int64
	// Raw is the frame of an EventRaw.
	Raw []byte
}

// MessageView is a message as members see it: with the sender's name and who has read it.
type MessageView struct {
	Message
	SenderName string
	ReadBy     []string
}
