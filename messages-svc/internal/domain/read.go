package domain

// ReadPosition is how far one member has read a chat: every seq ≤ LastReadSeq is read.
type ReadPosition struct {
	ChatID      string
	UserID      string
	LastReadSeq int64
}

// ValidateReadSeq checks a read position against the chat's last seq: it must point at an
// existing message.
func ValidateReadSeq(seq, lastSeq int64) error {
	if seq < 1 || seq > lastSeq {
		return invalid("invalid_seq", "seq must be between 1 and the chat's last seq")
	}
	return nil
}

// ReadBy lists the members other than the sender whose read position covers the message.
func ReadBy(m Message, positions []ReadPosition) []string {
	out := []string{}
	for _, p := range positions {
		if p.UserID != m.SenderID && p.LastReadSeq >= m.Seq {
			out = append(out, p.UserID)
		}
	}
	return out
}
