// Package authn carries the caller's identity from the gateway to the services.
//
// The gateway verifies the user's JWT, strips every identity header the client sent, and
// passes the verified identity on as a short-lived token signed with a secret that only the
// gateway and the services hold (INTERNAL_AUTH_SECRET): HMAC-SHA256 over the JSON payload.
// A request that reaches a service directly cannot forge it. Service-to-service gRPC calls
// carry the same token in metadata, either the end user's (propagated) or the calling
// service's own.
package authn

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Header is the HTTP header (and, lower-cased, the gRPC metadata key) that carries the token.
const Header = "X-Convene-Identity"

// MetadataKey is Header as gRPC metadata spells it.
const MetadataKey = "x-convene-identity"

// ServicePrefix marks the subject of a token that a service issued for itself.
const ServicePrefix = "service:"

// tokenTTL bounds how long a signed identity may be replayed; WebSocket upgrades are
// verified once, at the upgrade.
const tokenTTL = 2 * time.Minute

// ErrInvalid is returned for a missing, malformed, forged or expired identity.
var ErrInvalid = errors.New("authn: invalid identity")

// Identity is who is calling.
type Identity struct {
	// UserID is the user's id, or ServicePrefix+name for a service's own calls.
	UserID   string `json:"sub"`
	Username string `json:"name,omitempty"`
	// TokenID is the access token's jti, so that services can tie actions to a session.
	TokenID string `json:"jti,omitempty"`
	Expires int64  `json:"exp"`
}

// IsService reports whether the identity is a service rather than a user.
func (i Identity) IsService() bool { return strings.HasPrefix(i.UserID, ServicePrefix) }

// Signer signs and verifies identities with the shared internal secret.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a Signer for the shared secret.
func NewSigner(secret string) *Signer {
	return &Signer{key: []byte(secret), now: time.Now}
}

// Sign returns the token for id, valid for a short while.
func (s *Signer) Sign(id Identity) string {
	id.Expires = s.now().Add(tokenTTL).Unix()
	payload, _ := json.Marshal(id) // a struct of strings and an int always marshals
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(p))
}

// Verify checks a token's signature and expiry and returns the identity it carries.
func (s *Signer) Verify(token string) (Identity, error) {
	p, sig, ok := strings.Cut(token, ".")
	if !ok || p == "" {
		return Identity{}, ErrInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(p)) {
		return Identity{}, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return Identity{}, ErrInvalid
	}
	var id Identity
	if err := json.Unmarshal(raw, &id); err != nil || id.UserID == "" {
		return Identity{}, ErrInvalid
	}
	if s.now().Unix() > id.Expires {
		return Identity{}, ErrInvalid
	}
	return id, nil
}

func (s *Signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

type ctxKey struct{}

// WithIdentity returns a context carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the identity carried by ctx.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok
}

// UserID returns the calling user's id, or "" when ctx carries no user.
func UserID(ctx context.Context) string {
	id, ok := FromContext(ctx)
	if !ok || id.IsService() {
		return ""
	}
	return id.UserID
}
