// Package domain holds chats-svc's types and the rules they keep: what a valid chat is, who
// may add and remove whom, and which events a membership change produces. It imports
// nothing of the project.
package domain

import (
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// MaxTitleLength bounds a chat's title, in characters.
	MaxTitleLength = 200
	// MaxMemberEmails bounds how many members a chat can be created with at once.
	MaxMemberEmails = 100
	// MaxEmailLength is the longest address SMTP allows (RFC 5321).
	MaxEmailLength = 254
)

// Chat is a conversation between its members.
type Chat struct {
	ID        string
	Title     string
	CreatedBy string
	CreatedAt time.Time
	// LastActivityAt is when the chat's latest message was sent, as messages-svc reported
	// it, or CreatedAt before any: the chat list is ordered by it.
	LastActivityAt time.Time
}

// NewChat returns a chat with a valid title (trimmed, 1–MaxTitleLength characters).
func NewChat(id, title, createdBy string, now time.Time) (Chat, error) {
	title = strings.TrimSpace(title)
	switch {
	case title == "":
		return Chat{}, ErrTitleRequired
	case utf8.RuneCountInString(title) > MaxTitleLength:
		return Chat{}, ErrTitleTooLong
	}
	// Postgres keeps microseconds: truncating here makes what we return equal to what
	// a later read returns, on either database.
	at := now.UTC().Truncate(time.Microsecond)
	return Chat{ID: id, Title: title, CreatedBy: createdBy, CreatedAt: at, LastActivityAt: at}, nil
}

// ChatPosition is a chat's place in a user's chat list, which runs from the most recent
// activity down, ties broken by descending id.
type ChatPosition struct {
	LastActivityAt time.Time
	ChatID         string
}

// MaxActivityBatch bounds one RecordActivity call.
const MaxActivityBatch = 1000

// Activity says that a chat had a message at At.
type Activity struct {
	ChatID string
	At     time.Time
}

// CoalesceActivity keeps the latest activity of each chat, dropping the others (a batch
// may name a chat more than once), and clamps times that lie in the future to now: a
// sender's clock running ahead must not pin a chat to the top of everyone's list. Times
// are kept to the microsecond, as Postgres stores them.
func CoalesceActivity(batch []Activity, now time.Time) []Activity {
	now = now.UTC().Truncate(time.Microsecond)
	latest := make(map[string]int, len(batch))
	out := make([]Activity, 0, len(batch))
	for _, a := range batch {
		at := a.At.UTC().Truncate(time.Microsecond)
		if at.After(now) {
			at = now
		}
		if i, ok := latest[a.ChatID]; ok {
			if at.After(out[i].At) {
				out[i].At = at
			}
			continue
		}
		latest[a.ChatID] = len(out)
		out = append(out, Activity{ChatID: a.ChatID, At: at})
	}
	return out
}

// ParseEmail returns the trimmed address, or an error when it is not a bare address.
func ParseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ErrEmailRequired
	}
	if len(s) > MaxEmailLength {
		return "", ErrInvalidEmail
	}
	// ParseAddress also accepts `Name <a@b>`; only the bare address is an email here.
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return "", ErrInvalidEmail
	}
	return s, nil
}

// ParseMemberEmails validates the emails a chat is created with and drops duplicates
// (addresses compare case-insensitively), keeping the first spelling.
func ParseMemberEmails(emails []string) ([]string, error) {
	if len(emails) > MaxMemberEmails {
		return nil, ErrTooManyMembers
	}
	out := make([]string, 0, len(emails))
	seen := make(map[string]bool, len(emails))
	for _, e := range emails {
		addr, err := ParseEmail(e)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(addr)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, addr)
	}
	return out, nil
}

// Roster is a chat with its members' user ids: the unit whose rules (who may add and remove
// whom) are checked and changed together, in one transaction.
type Roster struct {
	Chat Chat
	// Members are user ids, in the order they joined.
	Members []string
}

// IsMember reports whether userID belongs to the chat.
func (r *Roster) IsMember(userID string) bool { return slices.Contains(r.Members, userID) }

// Add makes userID a member on actor's behalf: any member may add anyone.
func (r *Roster) Add(actor, userID string) error {
	if !r.IsMember(actor) {
		return ErrChatNotFound
	}
	if r.IsMember(userID) {
		return ErrAlreadyMember
	}
	r.Members = append(r.Members, userID)
	return nil
}

// Remove takes userID out of the chat on actor's behalf: members may leave, and the chat's
// creator may remove anyone. Outsiders learn nothing, not even that the chat exists.
func (r *Roster) Remove(actor, userID string) error {
	if !r.IsMember(actor) {
		return ErrChatNotFound
	}
	if actor != userID && actor != r.Chat.CreatedBy {
		return ErrForbidden
	}
	i := slices.Index(r.Members, userID)
	if i < 0 {
		return ErrMemberNotFound
	}
	r.Members = slices.Delete(r.Members, i, i+1)
	return nil
}
