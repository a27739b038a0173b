// Package ports exposes the application over HTTP (the public API, through the gateway)
// and gRPC (users.v1, for the other services).
package ports

import (
	"bufio"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/users-svc/internal/app"
	"github.com/convene/convene/users-svc/internal/domain"
)

// MaxBody bounds every request body of this service: the largest valid one (a 256-byte
// password with a 254-byte email and a username, even fully \u-escaped) fits.
const MaxBody = 8 << 10

// Refresh cookie (API.md): HttpOnly so that scripts cannot read it, scoped to the auth
// routes so that no other request carries it.
const (
	refreshCookie     = "refresh_token"
	refreshCookiePath = "/api/v1/auth"
)

// HTTP serves users-svc's part of the public API.
type HTTP struct {
	app    *app.Application
	signer *authn.Signer
}

// NewHTTP returns the handlers.
func NewHTTP(a *app.Application, signer *authn.Signer) *HTTP {
	return &HTTP{app: a, signer: signer}
}

// Register adds the routes to r. register, login, refresh and the JWKS are public; every
// other route needs the identity the gateway signs.
func (h *HTTP) Register(r gin.IRouter) {
	auth := httpx.RequireIdentity(h.signer)
	r.POST("/api/v1/auth/register", h.register)
	r.POST("/api/v1/auth/login", h.login)
	r.POST("/api/v1/auth/refresh", h.refresh)
	r.POST("/api/v1/auth/logout", auth, h.logout)
	r.GET("/api/v1/users/me", auth, h.me)
	r.GET("/api/v1/users", auth, h.userByEmail)
	r.GET("/.well-known/jwks.json", h.jwks)
}

type userJSON struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	Email     string `json:"email"`
	CreatedAt string `json:"created_at"`
}

func toUserJSON(u domain.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Email: u.Email, CreatedAt: u.CreatedAt.UTC().Format(time.RFC3339)}
}

type userResponse struct {
	User userJSON `json:"user"`
}

type tokenResponse struct {
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	TokenType    string   `json:"token_type"`
	ExpiresIn    int      `json:"expires_in"`
	User         userJSON `json:"user"`
}

type registerRequest struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (h *HTTP) register(c *gin.Context) {
	var req registerRequest
	if err := httpx.BindJSON(c, &req, MaxBody); err != nil {
		httpx.Abort(c, err)
		return
	}
	u, err := h.app.Register(c.Request.Context(), req.Username, req.Email, req.Password)
	if err != nil {
		abort(c, err)
		return
	}
	c.JSON(http.StatusCreated, userResponse{User: toUserJSON(u)})
}

type loginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

func (h *HTTP) login(c *gin.Context) {
	var req loginRequest
	if err := httpx.BindJSON(c, &req, MaxBody); err != nil {
		httpx.Abort(c, err)
		return
	}
	s, err := h.app.Login(c.Request.Context(), req.Login, req.Password)
	if err != nil {
		abort(c, err)
		return
	}
	h.respondSession(c, s)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (h *HTTP) refresh(c *gin.Context) {
	token, ok := refreshTokenOf(c)
	if !ok {
		return
	}
	s, err := h.app.Refresh(c.Request.Context(), token)
	if err != nil {
		abort(c, err)
		return
	}
	h.respondSession(c, s)
}

func (h *HTTP) logout(c *gin.Context) {
	token, ok := refreshTokenOf(c)
	if !ok {
		return
	}
	if err := h.app.Logout(c.Request.Context(), authn.UserID(c.Request.Context()), token); err != nil {
		abort(c, err)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: refreshCookie, Path: refreshCookiePath, MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
	c.Status(http.StatusNoContent)
}

func (h *HTTP) me(c *gin.Context) {
	u, err := h.app.User(c.Request.Context(), authn.UserID(c.Request.Context()))
	if err != nil {
		abort(c, err)
		return
	}
	c.JSON(http.StatusOK, userResponse{User: toUserJSON(u)})
}

func (h *HTTP) userByEmail(c *gin.Context) {
	u, err := h.app.UserByEmail(c.Request.Context(), c.Query("email"))
	if err != nil {
		abort(c, err)
		return
	}
	c.JSON(http.StatusOK, userResponse{User: toUserJSON(u)})
}

func (h *HTTP) respondSession(c *gin.Context, s app.Session) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     refreshCookie,
		Value:    s.RefreshToken,
		Path:     refreshCookiePath,
		Expires:  s.RefreshExpiresAt,
		MaxAge:   int(time.Until(s.RefreshExpiresAt).Seconds()),
		HttpOnly: true,
		Secure:   true,
		SameSite: http.SameSiteStrictMode,
	})
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, tokenResponse{
		AccessToken:  s.AccessToken,
		RefreshToken: s.RefreshToken,
		TokenType:    "Bearer",
		ExpiresIn:    int(s.AccessExpiresIn.Seconds()),
		User:         toUserJSON(s.User),
	})
}

// refreshTokenOf reads the refresh token from the JSON body or, when the body has none,
// from the cookie (browsers send an empty body and let the cookie speak). On a malformed
// body it answers the error itself and returns false.
func refreshTokenOf(c *gin.Context) (string, bool) {
	var req refreshRequest
	if c.Request.ContentLength != 0 {
		body := bufio.NewReader(c.Request.Body)
		_, err := body.Peek(1)
		if !errors.Is(err, io.EOF) {
			c.Request.Body = struct {
				io.Reader
				io.Closer
			}{body, c.Request.Body}
			if err := httpx.BindJSON(c, &req, MaxBody); err != nil {
				httpx.Abort(c, err)
				return "", false
			}
		}
	}
	if req.RefreshToken != "" {
		return req.RefreshToken, true
	}
	if v, err := c.Cookie(refreshCookie); err == nil {
		return v, true
	}
	return "", true
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

type jwks struct {
	Keys []jwk `json:"keys"`
}

func (h *HTTP) jwks(c *gin.Context) {
	keys, err := h.app.PublishedKeys(c.Request.Context())
	if err != nil {
		abort(c, err)
		return
	}
	out := jwks{Keys: make([]jwk, 0, len(keys))}
	for _, k := range keys {
		out.Keys = append(out.Keys, jwk{
			Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.PublicKey()),
			Kid: k.ID, Alg: "EdDSA", Use: "sig",
		})
	}
	// Short: a verifier that meets an unknown kid refetches anyway.
	c.Header("Cache-Control", "public, max-age=60")
	c.JSON(http.StatusOK, out)
}
