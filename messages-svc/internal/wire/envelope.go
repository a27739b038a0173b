package wire

import (
	"bytes"
	"errors"
	"strconv"
)

// Envelope is what travels on the bus to every instance: a ready frame, the users whose
// sockets get it, and for new messages the chat and seq that let each socket deliver them
// in order and notice gaps.
type Envelope struct {
	// ChatID and Seq are set for "message" frames only; Seq 0 means "not sequenced".
	ChatID string
	Seq    int64
	// Recipients are user IDs (which never contain spaces, commas or newlines).
	Recipients []string
	Frame      []byte
}

// ErrBadEnvelope is returned for a payload that is not an encoded Envelope.
var ErrBadEnvelope = errors.New("wire: malformed envelope")

// EncodeEnvelope renders "<seq> <chat_id> <recipient>,<recipient>…\n<frame>": a header
// that every instance reads without parsing the frame's JSON, since the frame is written
// to sockets as is.
func EncodeEnvelope(e Envelope) []byte {
	n := len(e.Frame) + len(e.ChatID) + 24
	for _, r := range e.Recipients {
		n += len(r) + 1
	}
	b := make([]byte, 0, n)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, ' ')
	b = append(b, e.ChatID...)
	b = append(b, ' ')
	for i, r := range e.Recipients {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	b = append(b, '\n')
	return append(b, e.Frame...)
}

// DecodeEnvelope parses EncodeEnvelope's output. The frame aliases payload.
func DecodeEnvelope(payload []byte) (Envelope, error) {
	head, frame, ok := bytes.Cut(payload, []byte{'\n'})
	if !ok || len(frame) == 0 {
		return Envelope{}, ErrBadEnvelope
	}
	seqPart, rest, ok := bytes.Cut(head, []byte{' '})
	if !ok {
		return Envelope{}, ErrBadEnvelope
	}
	chat, recipients, ok := bytes.Cut(rest, []byte{' '})
	if !ok || len(recipients) == 0 {
		return Envelope{}, ErrBadEnvelope
	}
	seq, err := strconv.ParseInt(string(seqPart), 10, 64)
	if err != nil || seq < 0 || (seq > 0 && len(chat) == 0) {
		return Envelope{}, ErrBadEnvelope
	}
	e := Envelope{ChatID: string(chat), Seq: seq, Frame: frame, Recipients: make([]string, 0, bytes.Count(recipients, []byte{','})+1)}
	for r := range bytes.SplitSeq(recipients, []byte{','}) {
		if len(r) == 0 {
			return Envelope{}, ErrBadEnvelope
		}
		e.Recipients = append(e.Recipients, string(r))
	}
	return e, nil
}

// EventsTopic carries every event, once, to every instance, with its recipients in the
// envelope: each instance hands it to the sockets it holds for them. Who receives an event
// is decided once, from the member list at send time, so a removed member stops receiving
// at once, and no instance keeps per-user or per-chat subscriptions.
//
// It replaced one topic per user, which cost a PUBLISH per recipient on the sending side
// and a bus message per recipient on the receiving instances (ten of each for a message in
// a chat of ten), and a Redis subscription per connected user. What it costs instead: every
// instance reads every event, and the envelope lists the recipients — cheap while
// instances are few and chats are not huge, which is this deployment's shape.
const EventsTopic = "messages:events"

// MembershipTopic carries the ids of chats whose members changed, to every instance: each
// forgets what it cached of them. Every instance's hub follows it on the subscription
// that carries its users' topics, so that it reads the news before any frame published
// after it.
const MembershipTopic = "messages:membership"
