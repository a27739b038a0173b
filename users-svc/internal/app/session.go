package app

import (
	"time"

	"github.com/convene/convene/users-svc/internal/domain"
)

// Session is what login and refresh hand to the client.
type Session struct {
	AccessToken string
	// AccessExpiresIn is the access token's lifetime.
	AccessExpiresIn  time.Duration
	RefreshToken     string
	RefreshExpiresAt time.Time
	User             domain.User
}

// accessToken signs a new access token for u with the current key.
func (a *Application) accessToken(u domain.User, now time.Time) (string, error) {
	key, err := a.currentKey()
	if err != nil {
		return "", err
	}
	jti, err := domain.NewID()
	if err != nil {
		return "", err
	}
	claims := domain.NewAccessClaims(u, jti, a.policy.Issuer, a.policy.Audience, now, a.policy.AccessTTL)
	return a.signer.Sign(key, claims)
}

// newRefreshToken returns a new token of the family for userID and the secret the client
// keeps.
func (a *Application) newRefreshToken(familyID, userID string, now time.Time) (domain.RefreshToken, string, error) {
	secret, hash, err := domain.NewRefreshSecret()
	if err != nil {
		return domain.RefreshToken{}, "", err
	}
	id, err := domain.NewID()
	if err != nil {
		return domain.RefreshToken{}, "", err
	}
	return domain.RefreshToken{
		ID:        id,
		FamilyID:  familyID,
		UserID:    userID,
		Hash:      hash,
		CreatedAt: now,
		ExpiresAt: now.Add(a.policy.RefreshTTL),
	}, secret, nil
}

func (a *Application) session(u domain.User, access string, refresh domain.RefreshToken, secret string) Session {
	return Session{
		AccessToken:      access,
		AccessExpiresIn:  a.policy.AccessTTL,
		RefreshToken:     secret,
		RefreshExpiresAt: refresh.ExpiresAt,
		User:             u,
	}
}
