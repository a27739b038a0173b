package adapters

import (
	"github.com/golang-jwt/jwt/v5"

	"github.com/convene/convene/users-svc/internal/domain"
)

// JWTSigner signs access tokens as EdDSA (Ed25519) JWTs with the key's id in `kid`.
type JWTSigner struct{}

type accessClaims struct {
	Name string `json:"name"`
	jwt.RegisteredClaims
}

// Sign implements domain.AccessTokenSigner.
func (JWTSigner) Sign(key domain.SigningKey, c domain.AccessClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, accessClaims{
		Name: c.Name,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   c.Subject,
			ID:        c.ID,
			Issuer:    c.Issuer,
			Audience:  jwt.ClaimStrings{c.Audience},
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			NotBefore: jwt.NewNumericDate(c.NotBefore),
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
		},
	})
	t.Header["kid"] = key.ID
	return t.SignedString(key.PrivateKey)
}
