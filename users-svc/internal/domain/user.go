package domain

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits of the account fields (API.md: username 3–32 of [a-zA-Z0-9_.-], password ≥ 8).
const (
	UsernameMinLen = 3
	UsernameMaxLen = 32
	// EmailMaxLen is the longest address SMTP can carry (RFC 5321 path limit).
	EmailMaxLen    = 254
	PasswordMinLen = 8
	// PasswordMaxBytes caps what is fed to the hash, so that a huge password cannot be used
	// to make every login expensive.
	PasswordMaxBytes = 256
	// LoginMaxLen is the longest login (an email or a username) worth looking up.
	LoginMaxLen = EmailMaxLen
)

// User is an account.
type User struct {
	ID       string
	Username string
	// Email is normalised (see NormalizeEmail); it is unique.
	Email string
	// PasswordHash is the PHC-encoded argon2id hash.
	PasswordHash string
	CreatedAt    time.Time
}

// UsernameKey is the form of a username that uniqueness and lookups use: usernames are
// unique regardless of case, while the chosen spelling is kept for display.
func (u User) UsernameKey() string { return strings.ToLower(u.Username) }

// Registration is a validated request to create an account.
type Registration struct {
	Username string
	Email    string
	Password string
}

// NewRegistration validates the fields of a sign-up, in the order a form shows them, and
// normalises the email.
func NewRegistration(username, email, password string) (Registration, error) {
	if err := ValidateUsername(username); err != nil {
		return Registration{}, err
	}
	normalized, err := NormalizeEmail(email)
	if err != nil {
		return Registration{}, err
	}
	if err := ValidatePassword(password); err != nil {
		return Registration{}, err
	}
	return Registration{Username: username, Email: normalized, Password: password}, nil
}

// ValidateUsername checks API.md's username rule.
func ValidateUsername(s string) error {
	if s == "" {
		return ErrUsernameRequired
	}
	if len(s) < UsernameMinLen || len(s) > UsernameMaxLen {
		return ErrUsernameInvalid
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
		if !ok {
			return ErrUsernameInvalid
		}
	}
	return nil
}

// NormalizeEmail validates a bare address (no display name, a dotted domain) and returns it
// trimmed and lower-cased, the form that uniqueness and lookups use.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ErrEmailRequired
	}
	if len(s) > EmailMaxLen {
		return "", ErrEmailInvalid
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", ErrEmailInvalid
	}
	at := strings.LastIndexByte(s, '@')
	host := s[at+1:]
	if !strings.Contains(host, ".") || strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") {
		return "", ErrEmailInvalid
	}
	return strings.ToLower(s), nil
}

// ValidatePassword checks the length rules: at least PasswordMinLen characters, at most
// PasswordMaxBytes bytes.
func ValidatePassword(p string) error {
	switch {
	case p == "":
		return ErrPasswordRequired
	case len(p) > PasswordMaxBytes:
		return ErrPasswordTooLong
	case utf8.RuneCountInString(p) < PasswordMinLen:
		return ErrPasswordTooShort
	}
	return nil
}

// Login is what a user signs in with: an email or a username.
type Login struct {
	// Email is set when the login is an address, normalised.
	Email string
	// UsernameKey is set otherwise, lower-cased.
	UsernameKey string
}

// ParseLogin tells an email from a username. A login that cannot name any account is not
// an input error: it is answered like any unknown account, so ParseLogin only rejects what
// is empty or too long to be worth hashing against.
func ParseLogin(login, password string) (Login, error) {
	login = strings.TrimSpace(login)
	switch {
	case login == "":
		return Login{}, ErrLoginRequired
	case len(login) > LoginMaxLen:
		return Login{}, ErrLoginTooLong
	case password == "":
		return Login{}, ErrPasswordRequired
	case len(password) > PasswordMaxBytes:
		return Login{}, ErrPasswordTooLong
	}
	if strings.Contains(login, "@") {
		return Login{Email: strings.ToLower(login)}, nil
	}
	return Login{UsernameKey: strings.ToLower(login)}, nil
}

// ValidID reports whether s is a canonical UUID, the only form of id this service issues;
// anything else is rejected before it reaches the database.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// NewID returns a new time-ordered id (UUIDv7).
func NewID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	return id.String(), nil
}
