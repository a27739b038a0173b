// Package whoami is the smallest authenticated service there can be: it answers who the
// gateway says the caller is. The gateway's benchmark proxies to it, so that the figures
// measure the gateway and not a database.
package whoami

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/httpx"
)

// Caller is the answer: the identity the gateway signed.
type Caller struct {
	UserID   string `json:"user_id"`
	Username string `json:"username"`
}

// Path is the route whoami serves, under users-svc's prefix so that the gateway's route
// table sends /api/v1/users/... to it when it stands in for users-svc.
const Path = "/api/v1/users/whoami"

// NewHandler returns whoami's HTTP handler: the platform engine (request IDs, access log,
// metrics, health) and one authenticated route. With a non-nil jwks it also serves that
// set at /.well-known/jwks.json, standing in for users-svc as the gateway's key source.
func NewHandler(log *slog.Logger, signer *authn.Signer, jwks *authn.JWKS) http.Handler {
	r := httpx.NewEngine(log, httpx.NewHealth(nil), httpx.DefaultMaxBody)
	r.GET(Path, httpx.RequireIdentity(signer), func(c *gin.Context) {
		id, _ := authn.FromContext(c.Request.Context())
		c.JSON(http.StatusOK, Caller{UserID: id.UserID, Username: id.Username})
	})
	if jwks != nil {
		r.GET("/.well-known/jwks.json", func(c *gin.Context) { c.JSON(http.StatusOK, jwks) })
	}
	return r
}

// KeyID names the benchmark signing key in tokens and in the JWKS.
const KeyID = "bench"

// SigningKey derives the benchmark's Ed25519 key from a base64 32-byte seed, so that the
// load tool (which mints tokens) and whoami (which publishes the JWKS) agree on it.
func SigningKey(seed string) (ed25519.PrivateKey, error) {
	raw, err := base64.StdEncoding.DecodeString(seed)
	if err != nil || len(raw) != ed25519.SeedSize {
		return nil, fmt.Errorf("signing seed must be %d bytes of base64", ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(raw), nil
}
