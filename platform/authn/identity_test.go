package authn

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSignVerify(t *testing.T) {
	s := NewSigner("0123456789abcdef-secret")
	tok := s.Sign(Identity{UserID: "u1", Username: "ann", TokenID: "j1"})
	id, err := s.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, "u1", id.UserID)
	require.Equal(t, "ann", id.Username)
	require.False(t, id.IsService())
}

func TestVerifyRefuses(t *testing.T) {
	s := NewSigner("0123456789abcdef-secret")
	other := NewSigner("another-secret-0123456789")
	good := s.Sign(Identity{UserID: "u1"})
	p, sig, _ := strings.Cut(good, ".")
	forged := other.Sign(Identity{UserID: "u1"})
	_, fsig, _ := strings.Cut(s.Sign(Identity{UserID: "u2"}), ".")

	expired := NewSigner("0123456789abcdef-secret")
	expired.now = func() time.Time { return time.Now().Add(-time.Hour) }
	old := expired.Sign(Identity{UserID: "u1"})

	for name, tok := range map[string]string{
		"empty":          "",
		"no signature":   p,
		"other secret":   forged,
		"swapped sig":    p + "." + fsig,
		"garbage":        "!!!.???",
		"expired":        old,
		"truncated sig":  p + "." + sig[:10],
		"payload no sub": s.signRaw(`{"exp":9999999999}`),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Verify(tok)
			require.ErrorIs(t, err, ErrInvalid)
		})
	}
}

func (s *Signer) signRaw(payload string) string {
	p := b64(payload)
	return p + "." + b64(string(s.mac(p)))
}

func TestContext(t *testing.T) {
	ctx := WithIdentity(context.Background(), Identity{UserID: "u1"})
	require.Equal(t, "u1", UserID(ctx))
	ctx = WithIdentity(context.Background(), Identity{UserID: ServicePrefix + "teams-svc"})
	require.Equal(t, "", UserID(ctx))
	require.Equal(t, "", UserID(context.Background()))
}
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
