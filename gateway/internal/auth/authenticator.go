package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"

	"github.com/convene/convene/platform/authn"
)

// resignAfter is how old a cached signed identity may get before it is signed again; the
// signature lives authn's 2 minutes, so a service always receives one valid for at least
// another minute.
const resignAfter = time.Minute

// Session is a verified access token: who the caller is, until when.
type Session struct {
	UserID   string
	Username string
	TokenID  string
	Expires  time.Time

	identity identityCache
}

// Verifier checks an access token's signature and claims (authn.TokenVerifier).
type Verifier interface {
	Verify(ctx context.Context, token string) (authn.AccessClaims, error)
}

// AuthenticatorParams configures an Authenticator.
type AuthenticatorParams struct {
	Verifier    Verifier
	Signer      *authn.Signer
	Revocations *Revocations
	// CacheSize bounds the number of verified tokens remembered (default 100 000).
	CacheSize int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Authenticator turns a bearer token into a Session.
type Authenticator struct {
	verifier Verifier
	signer   *authn.Signer
	revoked  *Revocations
	cache    *tokenCache
	now      func() time.Time
}

// NewAuthenticator returns an Authenticator with an empty cache.
func NewAuthenticator(p AuthenticatorParams) *Authenticator {
	if p.CacheSize <= 0 {
		p.CacheSize = 100_000
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return &Authenticator{verifier: p.Verifier, signer: p.Signer, revoked: p.Revocations, cache: newTokenCache(p.CacheSize), now: p.Now}
}

// Authenticate returns the session of a valid, unexpired, unrevoked token. A token seen
// before is served from the cache (its claims were checked then and its expiry is checked
// now); the revocation list is consulted on every call, in memory.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, ErrUnauthenticated
	}
	now := a.now()
	key := tokenKey(sha256.Sum256([]byte(token)))
	sess, ok := a.cache.get(key, now)
	if !ok {
		claims, err := a.verifier.Verify(ctx, token)
		switch {
		case errors.Is(err, authn.ErrTokenExpired):
			return nil, ErrTokenExpired
		case err != nil:
			return nil, ErrUnauthenticated
		}
		sess = &Session{UserID: claims.Subject, Username: claims.Username, TokenID: claims.ID, Expires: claims.ExpiresAt.Time}
		// A token accepted within the verifier's leeway after exp is not worth caching.
		if now.Before(sess.Expires) {
			a.cache.put(key, sess, now)
		}
	}
	if a.revoked.IsRevoked(sess.TokenID, now) {
		return nil, ErrTokenRevoked
	}
	return sess, nil
}

// IdentityHeader returns the signed internal identity of the session for the services,
// signing it again only when the cached one is about to expire.
func (a *Authenticator) IdentityHeader(s *Session) string {
	now := a.now()
	if cur := s.identity.p.Load(); cur != nil && now.Sub(cur.signedAt) < resignAfter {
		return cur.header
	}
	h := a.signer.Sign(authn.Identity{UserID: s.UserID, Username: s.Username, TokenID: s.TokenID})
	s.identity.p.Store(&signedIdentity{header: h, signedAt: now})
	return h
}

// revocationMargin keeps a revocation past its token's exp, beyond the verifier's leeway,
// during which the token still verifies.
const revocationMargin = time.Minute

// Revoke refuses the session's token from now on, on every gateway instance.
func (a *Authenticator) Revoke(ctx context.Context, s *Session) error {
	return a.revoked.Revoke(ctx, s.TokenID, s.Expires.Add(revocationMargin))
}
