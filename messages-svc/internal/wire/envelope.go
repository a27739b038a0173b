package wire

import (
	"bytes"
	"errors"
	"strconv"
)

// Envelope is what travels on the bus to a user's topic: a ready frame, and for new
// messages the chat and seq that let each socket deliver them in order and notice gaps.
type Envelope struct {
	// ChatID and Seq are set for "message" frames only; Seq 0 means "not sequenced".
	ChatID string
	Seq    int64
	Frame  []byte
}

// ErrBadEnvelope is returned for a payload that is not an encoded Envelope.
var ErrBadEnvelope = errors.New("wire: malformed envelope")

// EncodeEnvelope renders "<seq> <chat_id>\n<frame>": a header that every instance reads
// without parsing the frame's JSON, since the frame is written to sockets as is.
func EncodeEnvelope(e Envelope) []byte {
	b := make([]byte, 0, len(e.Frame)+len(e.ChatID)+24)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, ' ')
	b = append(b, e.ChatID...)
	b = append(b, '\n')
	return append(b, e.Frame...)
}

// DecodeEnvelope parses EncodeEnvelope's output. The frame aliases payload.
func DecodeEnvelope(payload []byte) (Envelope, error) {
	head, frame, ok := bytes.Cut(payload, []byte{'\n'})
	if !ok || len(frame) == 0 {
		return Envelope{}, ErrBadEnvelope
	}
	seqPart, chat, ok := bytes.Cut(head, []byte{' '})
	if !ok {
		return Envelope{}, ErrBadEnvelope
	}
	seq, err := strconv.ParseInt(string(seqPart), 10, 64)
	if err != nil || seq < 0 || (seq > 0 && len(chat) == 0) {
		return Envelope{}, ErrBadEnvelope
	}
	return Envelope{ChatID: string(chat), Seq: seq, Frame: frame}, nil
}

// UserTopic is the bus topic of one user's events. Events are published per recipient
// rather than per chat: an instance subscribes to the users it holds sockets for (one topic
// each, however many chats they are in) and needs no per-chat subscription bookkeeping when
// memberships change; who receives an event is decided once, from the member list at send
// time, so a removed member stops receiving at once. The cost is one PUBLISH per member,
// pipelined into one round trip.
func UserTopic(userID string) string { return "messages:user:" + userID }

// MembershipTopic carries the ids of chats whose members changed, to every instance: each
// forgets what it cached of them. Every instance's hub follows it on the subscription
// that carries its users' topics, so that it reads the news before any frame published
// after it.
const MembershipTopic = "messages:membership"
