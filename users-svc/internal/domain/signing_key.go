package domain

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"time"
)

// SigningKey is an Ed25519 key that signs access tokens. Keys live in the database so that
// every instance signs with the same one and publishes the same JWKS.
type SigningKey struct {
	// ID is the JWT `kid`: the key's RFC 7638 thumbprint.
	ID string
	// Slot is the start of the rotation window the key was made for; it is unique, so that
	// instances starting together create one key, not one each.
	Slot       time.Time
	PrivateKey ed25519.PrivateKey
	CreatedAt  time.Time
}

// PublicKey returns the key's public half.
func (k SigningKey) PublicKey() ed25519.PublicKey {
	return k.PrivateKey.Public().(ed25519.PublicKey)
}

// NewSigningKey generates a key for the rotation window that starts at slot.
func NewSigningKey(slot, now time.Time) (SigningKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKeyFromSeed(priv.Seed(), slot, now), nil
}

// SigningKeyFromSeed rebuilds a stored key.
func SigningKeyFromSeed(seed []byte, slot, createdAt time.Time) SigningKey {
	priv := ed25519.NewKeyFromSeed(seed)
	return SigningKey{
		ID:         Thumbprint(priv.Public().(ed25519.PublicKey)),
		Slot:       slot,
		PrivateKey: priv,
		CreatedAt:  createdAt,
	}
}

// Thumbprint is the RFC 7638 JWK thumbprint of an Ed25519 public key (SHA-256 over the
// required members in lexical order), base64url without padding.
func Thumbprint(pub ed25519.PublicKey) string {
	canonical := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// KeyPolicy says when keys rotate and how long a replaced key stays published.
type KeyPolicy struct {
	// RotationInterval is how long one key signs before a newer one takes over.
	RotationInterval time.Duration
	// TokenTTL is the lifetime of the access tokens the keys sign.
	TokenTTL time.Duration
	// ReloadInterval bounds how long an instance may keep signing with a key after another
	// instance created its successor.
	ReloadInterval time.Duration
	// ClockSkew is the leeway verifiers may allow on exp.
	ClockSkew time.Duration
}

// Slot is the start of the rotation window that contains now. Every instance computes the
// same value, which is what makes concurrent key creation collide on one row.
func (p KeyPolicy) Slot(now time.Time) time.Time {
	return now.UTC().Truncate(p.RotationInterval)
}

// retention is how long a key stays published after its successor appeared: the last
// token it signed may be issued up to ReloadInterval later and lives TokenTTL (+ skew).
func (p KeyPolicy) retention() time.Duration {
	return p.ReloadInterval + p.TokenTTL + p.ClockSkew
}

// KeyRing is the set of stored keys, oldest first.
type KeyRing struct {
	policy KeyPolicy
	keys   []SigningKey
}

// NewKeyRing orders keys by creation.
func NewKeyRing(policy KeyPolicy, keys []SigningKey) KeyRing {
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, func(a, b SigningKey) int { return a.Slot.Compare(b.Slot) })
	return KeyRing{policy: policy, keys: sorted}
}

// Signer is the newest key, which signs every new token.
func (r KeyRing) Signer() (SigningKey, error) {
	if len(r.keys) == 0 {
		return SigningKey{}, ErrNoSigningKey
	}
	return r.keys[len(r.keys)-1], nil
}

// NeedsKey reports whether the current rotation window has no key yet.
func (r KeyRing) NeedsKey(now time.Time) bool {
	if len(r.keys) == 0 {
		return true
	}
	return r.keys[len(r.keys)-1].Slot.Before(r.policy.Slot(now))
}

// Published are the keys verifiers must know at now: the signer and every older key that
// may still have signed a token that has not expired.
func (r KeyRing) Published(now time.Time) []SigningKey {
	var out []SigningKey
	for i, k := range r.keys {
		if r.live(i, now) {
			out = append(out, k)
		}
	}
	return out
}

// Retired are the ids of keys no unexpired token can carry any more; they can be deleted.
func (r KeyRing) Retired(now time.Time) []string {
	var out []string
	for i, k := range r.keys {
		if !r.live(i, now) {
			out = append(out, k.ID)
		}
	}
	return out
}

func (r KeyRing) live(i int, now time.Time) bool {
	if i == len(r.keys)-1 {
		return true
	}
	return now.Before(r.keys[i+1].CreatedAt.Add(r.policy.retention()))
}
