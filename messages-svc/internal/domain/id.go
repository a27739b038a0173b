package domain

import "github.com/google/uuid"

// ValidID reports whether s is a canonical UUID, the form of every id in Convene. A
// malformed id cannot name anything, so callers answer "not found" without any I/O.
func ValidID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

// NewID returns a new UUIDv7: time-ordered, so that ids sort roughly by creation.
func NewID() (string, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
