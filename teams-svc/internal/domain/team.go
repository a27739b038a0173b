// Package domain holds teams-svc's types and the rules they keep: teams and their join
// codes, memberships and roles, join requests, posts and comments. It imports nothing of
// the project; the app layer drives it and the adapters persist it.
package domain

import (
	"crypto/rand"
	"math/big"
	"strings"
	"time"
)

// Team is a group of users with posts, join requests and conferences.
type Team struct {
	ID          string
	Name        string
	Description string
	// JoinCode lets a user ask to join; members see it, admins rotate it.
	JoinCode  string
	CreatedAt time.Time
}

// NewTeam validates the name and description and returns a team with a fresh id and code.
func NewTeam(name, description string, now time.Time) (Team, error) {
	t := Team{ID: NewID(), CreatedAt: now}
	if err := t.Update(&name, &description); err != nil {
		return Team{}, err
	}
	t.JoinCode = NewJoinCode()
	return t, nil
}

// Update changes the fields that are given (nil leaves a field as it is).
func (t *Team) Update(name, description *string) error {
	if name != nil {
		n := strings.TrimSpace(*name)
		if err := checkText("name", n, MaxTeamNameLen); err != nil {
			return err
		}
		t.Name = n
	}
	if description != nil {
		d := strings.TrimSpace(*description)
		if err := checkOptionalText("description", d, MaxDescriptionLen); err != nil {
			return err
		}
		t.Description = d
	}
	return nil
}

// joinCodeAlphabet leaves out characters that are easy to confuse when read aloud or
// typed from a screen: 0/O, 1/I/L.
const joinCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// JoinCodeLen gives 31^12 ≈ 2^59 codes: guessing one is hopeless at the rate wrong
// attempts are allowed.
const JoinCodeLen = 12

// NewJoinCode draws a join code from crypto/rand.
func NewJoinCode() string {
	var b strings.Builder
	n := big.NewInt(int64(len(joinCodeAlphabet)))
	for range JoinCodeLen {
		i, err := rand.Int(rand.Reader, n)
		if err != nil {
			// crypto/rand does not fail on supported platforms; a code from a broken
			// source must never be issued.
			panic("crypto/rand: " + err.Error())
		}
		b.WriteByte(joinCodeAlphabet[i.Int64()])
	}
	return b.String()
}

// NormalizeJoinCode accepts a code the way people type it (lower case, with spaces or
// dashes). A blank code is bad input; anything that cannot be a code is ErrInvalidCode,
// answered exactly like a well-formed code that no team has.
func NormalizeJoinCode(code string) (string, error) {
	if strings.TrimSpace(code) == "" {
		return "", invalid("code_required", "code is required")
	}
	code = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(code))
	if len(code) != JoinCodeLen {
		return "", ErrInvalidCode
	}
	for i := range len(code) {
		if strings.IndexByte(joinCodeAlphabet, code[i]) < 0 {
			return "", ErrInvalidCode
		}
	}
	return code, nil
}
