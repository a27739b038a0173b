package e2e

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/testkit"
	"github.com/convene/convene/tools/devstack/stack"
)

// TestUsers goes through the gateway to users-svc like a client: accounts, login, tokens.
// One stack serves every subtest; each subtest uses accounts of its own.
func TestUsers(t *testing.T) {
	st := startStack(t, stack.Options{
		Services: []string{"users-svc"},
		// The per-IP limit on register/login/refresh would throttle a test that logs in
		// this often from one address; it has tests of its own at the gateway.
		ServiceEnv: map[string]map[string]string{"gateway": {"AUTH_RATE_LIMIT": "100000", "AUTH_RATE_BURST": "100000"}},
	})
	c := newClient(st)

	t.Run("register and duplicates", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, c)
		var reg struct {
			User map[string]string `json:"user"`
		}
		other := "other_" + u.Username
		require.Equal(t, "email_taken", c.do(t, http.MethodPost, "/api/v1/auth/register", "", map[string]string{
			"username": other, "email": strings.ToUpper(u.Email), "password": "password123",
		}).expect(t, http.StatusConflict).code(t))
		require.Equal(t, "username_taken", c.do(t, http.MethodPost, "/api/v1/auth/register", "", map[string]string{
			"username": strings.ToUpper(u.Username), "email": "x" + u.Email, "password": "password123",
		}).expect(t, http.StatusConflict).code(t))
		require.Equal(t, "password_too_short", c.do(t, http.MethodPost, "/api/v1/auth/register", "", map[string]string{
			"username": other, "email": "x" + u.Email, "password": "1234567",
		}).expect(t, http.StatusBadRequest).code(t))

		c.do(t, http.MethodPost, "/api/v1/auth/register", "", map[string]string{
			"username": other, "email": "X" + u.Email, "password": "password123",
		}).expect(t, http.StatusCreated).json(t, &reg)
		require.Equal(t, other, reg.User["username"])
		require.Equal(t, "x"+u.Email, reg.User["email"], "email normalised")
		require.NotEmpty(t, reg.User["id"])
		require.NotEmpty(t, reg.User["created_at"])
	})

	t.Run("concurrent duplicate registration", func(t *testing.T) {
		t.Parallel()
		name := "dup_" + testkit.RandomHex(4)
		email := name + "@example.test"
		statuses := make([]int, 4)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Go(func() {
				statuses[i] = c.do(t, http.MethodPost, "/api/v1/auth/register", "", map[string]string{
					"username": fmt.Sprintf("%s_%d", name, i), "email": email, "password": "password123",
				}).Status
			})
		}
		wg.Wait()
		require.ElementsMatch(t, []int{http.StatusCreated, http.StatusConflict, http.StatusConflict, http.StatusConflict}, statuses)
	})

	t.Run("login by email and by username", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, c)
		for _, login := range []string{u.Email, strings.ToUpper(u.Email), u.Username, strings.ToUpper(u.Username)} {
			var tok struct {
				AccessToken  string         `json:"access_token"`
				RefreshToken string         `json:"refresh_token"`
				TokenType    string         `json:"token_type"`
				ExpiresIn    int            `json:"expires_in"`
				User         map[string]any `json:"user"`
			}
			c.do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"login": login, "password": u.Password}).
				expect(t, http.StatusOK).json(t, &tok)
			require.Equal(t, "Bearer", tok.TokenType)
			require.Equal(t, 900, tok.ExpiresIn)
			require.Equal(t, u.ID, tok.User["id"])
			require.NotEmpty(t, tok.RefreshToken)
			me := c.do(t, http.MethodGet, "/api/v1/users/me", tok.AccessToken, nil).expect(t, http.StatusOK)
			require.Contains(t, string(me.Body), u.ID)
		}
	})

	t.Run("wrong password and unknown account", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, c)
		for _, body := range []map[string]string{
			{"login": u.Email, "password": u.Password + "!"},
			{"login": u.Username, "password": "wrong password"},
			{"login": "nobody_" + u.Email, "password": u.Password},
			{"login": "nobody_" + u.Username, "password": u.Password},
		} {
			require.Equal(t, "invalid_credentials",
				c.do(t, http.MethodPost, "/api/v1/auth/login", "", body).expect(t, http.StatusUnauthorized).code(t))
		}
	})

	t.Run("refresh rotation and reuse kills the family", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, c)
		first := u.Refresh
		second := refresh(t, c, first)
		require.NotEqual(t, first, second.RefreshToken)
		c.do(t, http.MethodGet, "/api/v1/users/me", second.AccessToken, nil).expect(t, http.StatusOK)
		third := refresh(t, c, second.RefreshToken)

		require.Equal(t, "refresh_token_reused", c.do(t, http.MethodPost, "/api/v1/auth/refresh", "",
			map[string]string{"refresh_token": first}).expect(t, http.StatusUnauthorized).code(t))
		require.Equal(t, "invalid_refresh_token", c.do(t, http.MethodPost, "/api/v1/auth/refresh", "",
			map[string]string{"refresh_token": third.RefreshToken}).expect(t, http.StatusUnauthorized).code(t),
			"the newest token of the family dies too")
	})

	t.Run("refresh and logout with the cookie", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, c)
		res := c.withCookie(t, "/api/v1/auth/refresh", "", u.Refresh)
		require.Equal(t, http.StatusOK, res.StatusCode)
		cookie := refreshCookie(t, res)
		require.NotEqual(t, u.Refresh, cookie.Value)
		require.True(t, cookie.HttpOnly)
		require.True(t, cookie.Secure)
		require.Equal(t, http.SameSiteStrictMode, cookie.SameSite)
		require.Equal(t, "/api/v1/auth", cookie.Path)

		res = c.withCookie(t, "/api/v1/auth/logout", u.Access, cookie.Value)
		require.Equal(t, http.StatusNoContent, res.StatusCode)
		res = c.withCookie(t, "/api/v1/auth/refresh", "", cookie.Value)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	})

	t.Run("logout kills the access token and the refresh family", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, c)
		c.do(t, http.MethodGet, "/api/v1/users/me", u.Access, nil).expect(t, http.StatusOK)
		c.do(t, http.MethodPost, "/api/v1/auth/logout", u.Access, map[string]string{"refresh_token": u.Refresh}).
			expect(t, http.StatusNoContent)
		c.do(t, http.MethodGet, "/api/v1/users/me", u.Access, nil).expect(t, http.StatusUnauthorized)
		c.do(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": u.Refresh}).
			expect(t, http.StatusUnauthorized)

		// Another session of the same account lives on.
		c.login(t, u)
		c.do(t, http.MethodGet, "/api/v1/users/me", u.Access, nil).expect(t, http.StatusOK)
	})

	t.Run("users/me and users?email=", func(t *testing.T) {
		t.Parallel()
		u, v := newUser(t, c), newUser(t, c)
		var me struct {
			User map[string]string `json:"user"`
		}
		c.do(t, http.MethodGet, "/api/v1/users/me", u.Access, nil).expect(t, http.StatusOK).json(t, &me)
		require.Equal(t, u.ID, me.User["id"])
		require.Equal(t, u.Username, me.User["username"])
		require.Equal(t, u.Email, me.User["email"])
		require.NotEmpty(t, me.User["created_at"])
		c.do(t, http.MethodGet, "/api/v1/users/me", "", nil).expect(t, http.StatusUnauthorized)

		var found struct {
			User map[string]string `json:"user"`
		}
		c.do(t, http.MethodGet, "/api/v1/users?email="+url.QueryEscape(strings.ToUpper(v.Email)), u.Access, nil).
			expect(t, http.StatusOK).json(t, &found)
		require.Equal(t, v.ID, found.User["id"])
		require.Equal(t, "user_not_found", c.do(t, http.MethodGet, "/api/v1/users?email=nobody%40example.test", u.Access, nil).
			expect(t, http.StatusNotFound).code(t))
		require.Equal(t, "email_required", c.do(t, http.MethodGet, "/api/v1/users", u.Access, nil).
			expect(t, http.StatusBadRequest).code(t))
		c.do(t, http.MethodGet, "/api/v1/users?email="+url.QueryEscape(v.Email), "", nil).expect(t, http.StatusUnauthorized)
	})

	t.Run("access token verifies with the public JWKS", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, c)
		var set struct {
			Keys []map[string]string `json:"keys"`
		}
		c.do(t, http.MethodGet, "/.well-known/jwks.json", "", nil).expect(t, http.StatusOK).json(t, &set)
		require.NotEmpty(t, set.Keys)
		keys := map[string]ed25519.PublicKey{}
		for _, k := range set.Keys {
			require.Equal(t, "OKP", k["kty"])
			require.Equal(t, "Ed25519", k["crv"])
			require.Equal(t, "EdDSA", k["alg"])
			x, err := base64.RawURLEncoding.DecodeString(k["x"])
			require.NoError(t, err)
			keys[k["kid"]] = x
		}
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(u.Access, claims, func(tok *jwt.Token) (any, error) {
			return keys[tok.Header["kid"].(string)], nil
		}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer("convene"), jwt.WithAudience("convene-api"))
		require.NoError(t, err)
		require.Equal(t, u.ID, claims["sub"])
		require.Equal(t, u.Username, claims["name"])
		require.NotEmpty(t, claims["jti"])
	})

	t.Run("malformed bodies on every users endpoint", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, c)
		// Over users-svc's 8 KiB bound, under the gateway's own: the service's limit answers.
		oversized := `{"username":"` + strings.Repeat("x", 9000) + `"}`
		endpoints := []struct {
			path, token string
			missing     string
		}{
			{"/api/v1/auth/register", "", "username_required"},
			{"/api/v1/auth/login", "", "login_required"},
			{"/api/v1/auth/refresh", "", "refresh_token_required"},
			{"/api/v1/auth/logout", u.Access, "refresh_token_required"},
		}
		for _, ep := range endpoints {
			for _, tc := range []struct {
				body   string
				status int
				code   string
			}{
				{`{"username":`, 400, "invalid_json"},
				{`[1,2]`, 400, "invalid_json"},
				{`{"username":1,"login":1,"refresh_token":1}`, 400, "invalid_field"},
				{`{}`, 400, ep.missing},
				{oversized, 413, "body_too_large"},
			} {
				res := c.do(t, http.MethodPost, ep.path, ep.token, tc.body)
				require.Equal(t, tc.status, res.Status, "%s %.40s: %s", ep.path, tc.body, res.Body)
				require.Equal(t, tc.code, res.code(t), ep.path)
			}
		}
		// Nothing changed: the session still works.
		c.do(t, http.MethodGet, "/api/v1/users/me", u.Access, nil).expect(t, http.StatusOK)
		refresh(t, c, u.Refresh)
	})
}

type tokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func refresh(t *testing.T, c *client, token string) tokenPair {
	t.Helper()
	var p tokenPair
	c.do(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": token}).
		expect(t, http.StatusOK).json(t, &p)
	require.NotEmpty(t, p.AccessToken)
	require.NotEmpty(t, p.RefreshToken)
	return p
}

// withCookie posts an empty body with the refresh token in its cookie, as a browser does.
func (c *client) withCookie(t *testing.T, path, access, refreshToken string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: "refresh_token", Value: refreshToken})
	if access != "" {
		req.Header.Set("Authorization", "Bearer "+access)
	}
	res, err := c.http.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res
}

func refreshCookie(t *testing.T, res *http.Response) *http.Cookie {
	t.Helper()
	for _, ck := range res.Cookies() {
		if ck.Name == "refresh_token" {
			return ck
		}
	}
	require.Fail(t, "no refresh_token cookie")
	return nil
}
