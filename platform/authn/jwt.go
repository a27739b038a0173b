package authn

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Access tokens are JWTs that users-svc signs with Ed25519 (alg "EdDSA") under a key id
// ("kid" header) and publishes the public keys of as a JWKS at /.well-known/jwks.json.
// The gateway verifies them with TokenVerifier and a JWKSCache; services never see them,
// only the Identity the gateway signs from their claims.

// SigningAlg is the only JWS algorithm accepted: anything else ("none", HS256 keyed with
// the public key, RS256…) is refused before any key is looked at.
const SigningAlg = "EdDSA"

var (
	// ErrTokenInvalid is returned for a token that is malformed, badly signed, signed with
	// an unknown key or a refused algorithm, or has the wrong issuer, audience or claims.
	ErrTokenInvalid = errors.New("authn: invalid access token")
	// ErrTokenExpired is returned for a well-signed token past its exp.
	ErrTokenExpired = errors.New("authn: access token expired")
	// ErrUnknownKey is returned by a KeySource that has no key for a kid.
	ErrUnknownKey = errors.New("authn: unknown signing key")
)

// AccessClaims are the claims of an access token: sub is the user id, jti identifies the
// token (for revocation), name carries the username so that services need not look it up.
type AccessClaims struct {
	Username string `json:"name,omitempty"`
	jwt.RegisteredClaims
}

// SignAccessToken returns the compact JWS of claims signed with key under kid.
func SignAccessToken(key ed25519.PrivateKey, kid string, claims AccessClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = kid
	return t.SignedString(key)
}

// JWK is one public key of a JWKS (RFC 8037 OKP key for Ed25519).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKS is the document served at /.well-known/jwks.json.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// NewEd25519JWK describes an Ed25519 public key for the JWKS.
func NewEd25519JWK(kid string, pub ed25519.PublicKey) JWK {
	return JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub), Kid: kid, Alg: SigningAlg, Use: "sig"}
}

// Ed25519Keys returns the usable signing keys of the set by kid; keys of other types or
// with malformed material are skipped rather than failing the whole set.
func (s JWKS) Ed25519Keys() map[string]ed25519.PublicKey {
	out := make(map[string]ed25519.PublicKey, len(s.Keys))
	for _, k := range s.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			continue
		}
		out[k.Kid] = ed25519.PublicKey(x)
	}
	return out
}

// KeySource finds the public key that verifies tokens signed under kid.
type KeySource interface {
	PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error)
}

// TokenVerifierParams configures a TokenVerifier.
type TokenVerifierParams struct {
	Keys     KeySource
	Issuer   string
	Audience string
	// Leeway absorbs clock skew between users-svc and the verifier on exp and nbf.
	Leeway time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// TokenVerifier checks access tokens: EdDSA only, a known kid, exp (required), nbf, iss,
// aud, and non-empty sub and jti.
type TokenVerifier struct {
	keys   KeySource
	parser *jwt.Parser
}

// NewTokenVerifier returns a verifier for p.
func NewTokenVerifier(p TokenVerifierParams) *TokenVerifier {
	now := p.Now
	if now == nil {
		now = time.Now
	}
	return &TokenVerifier{
		keys: p.Keys,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{SigningAlg}),
			jwt.WithIssuer(p.Issuer),
			jwt.WithAudience(p.Audience),
			jwt.WithLeeway(p.Leeway),
			jwt.WithExpirationRequired(),
			jwt.WithTimeFunc(now),
		),
	}
}

// Verify returns the claims of a valid token. Every failure wraps ErrTokenInvalid except
// an otherwise valid, expired token, which wraps ErrTokenExpired.
func (v *TokenVerifier) Verify(ctx context.Context, token string) (AccessClaims, error) {
	var claims AccessClaims
	_, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token has no kid")
		}
		return v.keys.PublicKey(ctx, kid)
	})
	switch {
	case err == nil:
	case onlyExpired(err):
		return AccessClaims{}, fmt.Errorf("%w: %w", ErrTokenExpired, err)
	default:
		return AccessClaims{}, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	if claims.Subject == "" || claims.ID == "" {
		return AccessClaims{}, fmt.Errorf("%w: sub and jti are required", ErrTokenInvalid)
	}
	return claims, nil
}

// onlyExpired reports whether expiry is the token's only fault. The parser checks the
// signature before the claims and reports every failed claim at once; a token that is both
// expired and meant for someone else is invalid, not merely expired.
func onlyExpired(err error) bool {
	if !errors.Is(err, jwt.ErrTokenExpired) {
		return false
	}
	for _, other := range []error{jwt.ErrTokenInvalidIssuer, jwt.ErrTokenInvalidAudience, jwt.ErrTokenNotValidYet, jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenRequiredClaimMissing} {
		if errors.Is(err, other) {
			return false
		}
	}
	return true
}
