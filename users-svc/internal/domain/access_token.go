package domain

import "time"

// AccessClaims are the claims of an access token (a JWT the gateway verifies).
type AccessClaims struct {
	// Subject is the user id.
	Subject string
	// Name is the username, so that services can show it without a lookup.
	Name string
	// ID is the token's jti, which logout revokes at the gateway.
	ID        string
	Issuer    string
	Audience  string
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
}

// NewAccessClaims returns the claims of a token for u issued at now.
func NewAccessClaims(u User, id, issuer, audience string, now time.Time, ttl time.Duration) AccessClaims {
	return AccessClaims{
		Subject:   u.ID,
		Name:      u.Username,
		ID:        id,
		Issuer:    issuer,
		Audience:  audience,
		IssuedAt:  now,
		NotBefore: now,
		ExpiresAt: now.Add(ttl),
	}
}
