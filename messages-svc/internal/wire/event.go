package wire

import (
	"fmt"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// EventEnvelope renders a domain event as its API.md frame in an envelope; new messages
// carry their chat and seq.
func EventEnvelope(e domain.Event) (Envelope, error) {
	switch e.Kind {
	case domain.EventMessage:
		return Envelope{ChatID: e.ChatID, Seq: e.Message.Seq, Frame: Encode(MessageFrame{Type: TypeMessage, Message: NewMessage(*e.Message)})}, nil
	case domain.EventMessageEdited:
		return Envelope{Frame: Encode(MessageFrame{Type: TypeMessageEdited, Message: NewMessage(*e.Message)})}, nil
	case domain.EventMessageDeleted:
		return Envelope{Frame: Encode(DeletedFrame{Type: TypeMessageDeleted, ChatID: e.ChatID, MessageID: e.Message.ID})}, nil
	case domain.EventRead:
		return Envelope{Frame: Encode(ReadFrame{Type: TypeRead, ChatID: e.ChatID, UserID: e.UserID, Seq: e.Seq})}, nil
	case domain.EventTyping:
		return Envelope{Frame: Encode(TypingFrame{Type: TypeTyping, ChatID: e.ChatID, UserID: e.UserID})}, nil
	case domain.EventRaw:
		return Envelope{Frame: e.Raw}, nil
	default:
		return Envelope{}, fmt.Errorf("wire: unknown event kind %d", e.Kind)
	}
}
