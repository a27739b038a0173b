package domain

import (
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on user-supplied text, in characters (runes).
const (
	MaxTeamNameLen    = 100
	MaxDescriptionLen = 2000
	MaxTextLen        = 10000
	MaxEmailLen       = 254
)

// ValidID reports whether s is a canonical UUID (the only form this service issues).
// Malformed ids are rejected before any query, so that they never reach the database.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// NewID returns a time-ordered id (UUIDv7): sorting by id sorts by creation time, which is
// what cursor pagination relies on.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// checkText validates a required piece of text: present, not only blanks, at most max
// characters, and free of NUL (which Postgres TEXT cannot store).
func checkText(field, value string, max int) error {
	if strings.TrimSpace(value) == "" {
		return invalid(field+"_required", field+" is required")
	}
	return checkOptionalText(field, value, max)
}

func checkOptionalText(field, value string, max int) error {
	if utf8.RuneCountInString(value) > max {
		return invalid(field+"_too_long", field+" is too long")
	}
	if strings.ContainsRune(value, 0) {
		return invalid(field+"_invalid", field+" must not contain NUL characters")
	}
	return nil
}

// CheckPostText validates the text of a post or comment (1–10000 characters).
func CheckPostText(text string) error { return checkText("text", text, MaxTextLen) }

// CheckEmail validates an email address enough to refuse obvious garbage before asking
// users-svc; users-svc owns the real rule.
func CheckEmail(email string) error {
	email = strings.TrimSpace(email)
	if email == "" {
		return invalid("email_required", "email is required")
	}
	if len(email) > MaxEmailLen {
		return invalid("email_too_long", "email is too long")
	}
	if at := strings.IndexByte(email, '@'); at <= 0 || at == len(email)-1 {
		return invalid("invalid_email", "email is not an address")
	}
	return nil
}
