package service_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRegister(t *testing.T) {
	t.Parallel()
	in := start(t, nil)
	taken := in.register(t, uniqueAccount("taken"))
	fresh := uniqueAccount("fresh")

	cases := []struct {
		name     string
		username string
		email    string
		password string
		status   int
		code     string
	}{
		{"email taken, other case", "someone_else", strings.ToUpper(taken.email), "password123", 409, "email_taken"},
		{"username taken, other case", strings.ToUpper(taken.username), "other@example.com", "password123", 409, "username_taken"},
		{"password too short", fresh.username, fresh.email, "1234567", 400, "password_too_short"},
		{"password too long", fresh.username, fresh.email, strings.Repeat("p", 257), 400, "password_too_long"},
		{"username too short", "ab", fresh.email, "password123", 400, "invalid_username"},
		{"username too long", strings.Repeat("a", 33), fresh.email, "password123", 400, "invalid_username"},
		{"username bad chars", "no spaces", fresh.email, "password123", 400, "invalid_username"},
		{"email invalid", fresh.username, "not-an-email", "password123", 400, "invalid_email"},
		{"username missing", "", fresh.email, "password123", 400, "username_required"},
		{"email missing", fresh.username, "", "password123", 400, "email_required"},
		{"password missing", fresh.username, fresh.email, "", 400, "password_required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := in.call(t, http.MethodPost, "/api/v1/auth/register", map[string]string{
				"username": tc.username, "email": tc.email, "password": tc.password,
			}, nil)
			require.Equal(t, tc.status, res.status, res.raw)
			require.Equal(t, tc.code, res.errorCode())
			require.NotEmpty(t, res.body["error"].(map[string]any)["message"])
		})
	}

	// None of the refused attempts created anything: the fresh account is still free.
	res := in.call(t, http.MethodPost, "/api/v1/auth/register", map[string]string{
		"username": fresh.username, "email": "  " + strings.ToUpper(fresh.email) + " ", "password": fresh.password,
	}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.raw)
	require.Equal(t, fresh.username, res.str("user", "username"))
	require.Equal(t, fresh.email, res.str("user", "email"), "stored normalised")
	require.Len(t, res.str("user", "id"), 36)
	created, err := time.Parse(time.RFC3339, res.str("user", "created_at"))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), created, time.Minute)
	require.True(t, strings.HasSuffix(res.str("user", "created_at"), "Z"), "UTC")
	require.NotContains(t, res.raw, "password")
}

func TestRegisterConcurrentDuplicate(t *testing.T) {
	t.Parallel()
	in := start(t, nil)
	a := uniqueAccount("race")
	const n = 6
	statuses := make([]int, n)
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res := in.call(t, http.MethodPost, "/api/v1/auth/register", map[string]string{
				// Same email in different cases, different usernames.
				"username": a.username + strings.Repeat("x", i), "email": strings.Repeat("A", i%2) + a.email, "password": a.password,
			}, nil)
			statuses[i], codes[i] = res.status, res.errorCode()
		})
	}
	wg.Wait()
	// Two distinct emails (with and without a leading "A"), each registered exactly once.
	created := 0
	for i, s := range statuses {
		if s == http.StatusCreated {
			created++
			continue
		}
		require.Equal(t, http.StatusConflict, s)
		require.Equal(t, "email_taken", codes[i])
	}
	require.Equal(t, 2, created)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	in := start(t, nil)
	a := in.register(t, uniqueAccount("login"))

	for name, login := range map[string]string{
		"by email":                 a.email,
		"by email, other case":     strings.ToUpper(a.email),
		"by username":              a.username,
		"by username, other case":  strings.ToUpper(a.username),
		"by email, with blanks":    "  " + a.email + " ",
		"by username, with blanks": " " + a.username,
	} {
		t.Run(name, func(t *testing.T) {
			res := in.call(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"login": login, "password": a.password}, nil)
			require.Equal(t, http.StatusOK, res.status, res.raw)
			require.Equal(t, "Bearer", res.str("token_type"))
			require.EqualValues(t, 900, res.body["expires_in"])
			require.Equal(t, a.id, res.str("user", "id"))
			require.Equal(t, "no-store", res.header.Get("Cache-Control"))
			s := sessionOf(t, res)
			require.Equal(t, s.refresh, s.cookie.Value)
			require.True(t, s.cookie.HttpOnly)
			require.True(t, s.cookie.Secure)
			require.Equal(t, http.SameSiteStrictMode, s.cookie.SameSite)
			require.Equal(t, "/api/v1/auth", s.cookie.Path)
			require.Greater(t, s.cookie.MaxAge, 0)
		})
	}

	for name, body := range map[string]map[string]string{
		"wrong password":        {"login": a.email, "password": a.password + "x"},
		"unknown email":         {"login": "nobody@example.com", "password": a.password},
		"unknown username":      {"login": "nobody_" + a.username, "password": a.password},
		"not an email nor name": {"login": "@@", "password": a.password},
	} {
		t.Run(name, func(t *testing.T) {
			res := in.call(t, http.MethodPost, "/api/v1/auth/login", body, nil)
			require.Equal(t, http.StatusUnauthorized, res.status, res.raw)
			require.Equal(t, "invalid_credentials", res.errorCode())
			require.Empty(t, res.cookies)
		})
	}
}

func TestLoginAttemptLimit(t *testing.T) {
	t.Parallel()
	in := start(t, map[string]string{"LOGIN_ATTEMPTS_PER_MINUTE": "3"})
	a := in.register(t, uniqueAccount("limited"))
	other := in.register(t, uniqueAccount("other"))
	for range 3 {
		res := in.call(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"login": a.email, "password": "wrong password"}, nil)
		require.Equal(t, http.StatusUnauthorized, res.status)
	}
	res := in.call(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"login": strings.ToUpper(a.email), "password": a.password}, nil)
	require.Equal(t, http.StatusTooManyRequests, res.status, res.raw)
	require.Equal(t, "rate_limited", res.errorCode())
	require.NotEmpty(t, res.header.Get("Retry-After"))
	// The limit is per account: another account is not affected.
	in.login(t, other.email, other.password)
}

func TestLoginAttemptLimitLive(t *testing.T) {
	t.Parallel()
	in := start(t, nil)
	a := in.register(t, uniqueAccount("live"))
	set := in.live["login_attempts_per_minute"]
	for _, bad := range []string{"", "-1", "many"} {
		require.Error(t, set(bad), bad)
	}
	require.NoError(t, set("1"))
	in.login(t, a.username, a.password)
	res := in.call(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"login": a.username, "password": a.password}, nil)
	require.Equal(t, http.StatusTooManyRequests, res.status, res.raw)
	require.NoError(t, set("0"))
	in.login(t, a.username, a.password)
}

func TestAccessTokenVerifiesWithJWKS(t *testing.T) {
	t.Parallel()
	in := start(t, nil)
	a := in.register(t, uniqueAccount("jwt"))
	s := in.login(t, a.username, a.password)

	res := in.call(t, http.MethodGet, "/.well-known/jwks.json", nil, nil)
	require.Equal(t, http.StatusOK, res.status)
	keys := res.body["keys"].([]any)
	require.Len(t, keys, 1)
	k := keys[0].(map[string]any)
	require.Equal(t, "OKP", k["kty"])
	require.Equal(t, "Ed25519", k["crv"])
	require.Equal(t, "EdDSA", k["alg"])
	require.Equal(t, "sig", k["use"])
	require.NotEmpty(t, k["kid"])
	require.NotContains(t, k, "d", "never the private key")

	claims, err := in.verify(t, s.access)
	require.NoError(t, err)
	require.Equal(t, a.id, claims["sub"])
	require.Equal(t, a.username, claims["name"])
	require.NotEmpty(t, claims["jti"])
	require.Equal(t, claims["iat"], claims["nbf"])
	require.EqualValues(t, 900, claims["exp"].(float64)-claims["iat"].(float64))

	tampered := s.access[:len(s.access)-4] + "AAAA"
	_, err = in.verify(t, tampered)
	require.Error(t, err)
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	// The test logs in until a newer key signs; under a loaded machine that can take more
	// attempts than the per-account login limit (tested on its own) allows in a minute.
	in := start(t, map[string]string{"SIGNING_KEY_ROTATION": "1s", "SIGNING_KEY_RELOAD": "50ms", "LOGIN_ATTEMPTS_PER_MINUTE": "1000"})
	a := in.register(t, uniqueAccount("rotate"))
	first := in.login(t, a.email, a.password)
	firstKid := kidOf(t, first.access)

	var second session
	require.Eventually(t, func() bool {
		second = in.login(t, a.email, a.password)
		return kidOf(t, second.access) != firstKid
	}, 10*time.Second, 100*time.Millisecond, "a newer key signs after the rotation interval")

	// The older key stays published while tokens it signed live.
	_, err := in.verify(t, first.access)
	require.NoError(t, err)
	_, err = in.verify(t, second.access)
	require.NoError(t, err)
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	claims := strings.Split(token, ".")
	require.Len(t, claims, 3)
	header := decodeSegment(t, claims[0])
	return header["kid"].(string)
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	in := start(t, nil)
	a := in.register(t, uniqueAccount("refresh"))
	s1 := in.login(t, a.email, a.password)

	res := in.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": s1.refresh}, nil)
	require.Equal(t, http.StatusOK, res.status, res.raw)
	s2 := sessionOf(t, res)
	require.NotEqual(t, s1.refresh, s2.refresh)
	require.NotEqual(t, s1.access, s2.access)
	require.Equal(t, a.id, res.str("user", "id"))
	_, err := in.verify(t, s2.access)
	require.NoError(t, err)

	// The new token works once more…
	res = in.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": s2.refresh}, nil)
	require.Equal(t, http.StatusOK, res.status, res.raw)
	s3 := sessionOf(t, res)

	// …and reusing a spent one kills the family, the newest token included.
	res = in.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": s1.refresh}, nil)
	require.Equal(t, http.StatusUnauthorized, res.status, res.raw)
	require.Equal(t, "refresh_token_reused", res.errorCode())
	res = in.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": s3.refresh}, nil)
	require.Equal(t, http.StatusUnauthorized, res.status, res.raw)
	require.Equal(t, "invalid_refresh_token", res.errorCode())

	// Another login is another family, untouched.
	other := in.login(t, a.email, a.password)
	res = in.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": other.refresh}, nil)
	require.Equal(t, http.StatusOK, res.status, res.raw)

	// A token that was never issued.
	res = in.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": strings.Repeat("A", 43)}, nil)
	require.Equal(t, http.StatusUnauthorized, res.status, res.raw)
	require.Equal(t, "invalid_refresh_token", res.errorCode())
}

func TestRefreshConcurrent(t *testing.T) {
	t.Parallel()
	in := start(t, nil)
	a := in.register(t, uniqueAccount("concurrent"))
	s := in.login(t, a.email, a.password)
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = in.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": s.refresh}, nil).status
		})
	}
	wg.Wait()
	require.ElementsMatch(t, []int{http.StatusOK, http.StatusUnauthorized}, statuses)
}

func TestCookieFlow(t *testing.T) {
	t.Parallel()
	in := start(t, nil)
	a := in.register(t, uniqueAccount("cookie"))
	s1 := in.login(t, a.email, a.password)

	// A browser sends no body: the cookie speaks.
	res := in.call(t, http.MethodPost, "/api/v1/auth/refresh", nil, nil, s1.cookie)
	require.Equal(t, http.StatusOK, res.status, res.raw)
	s2 := sessionOf(t, res)
	require.NotEqual(t, s1.cookie.Value, s2.cookie.Value)

	// An empty JSON object counts as no token in the body too.
	res = in.call(t, http.MethodPost, "/api/v1/auth/refresh", "{}", nil, s2.cookie)
	require.Equal(t, http.StatusOK, res.status, res.raw)
	s3 := sessionOf(t, res)

	res = in.call(t, http.MethodPost, "/api/v1/auth/logout", nil, identityOf(a), s3.cookie)
	require.Equal(t, http.StatusNoContent, res.status, res.raw)
	var cleared bool
	for _, c := range res.cookies {
		if c.Name == "refresh_token" && c.MaxAge < 0 {
			cleared = true
		}
	}
	require.True(t, cleared, "logout clears the cookie")

	res = in.call(t, http.MethodPost, "/api/v1/auth/refresh", nil, nil, s3.cookie)
	require.Equal(t, http.StatusUnauthorized, res.status, res.raw)
}

func TestLogout(t *testing.T) {
	t.Parallel()
	in := start(t, nil)
	a := in.register(t, uniqueAccount("logout"))
	b := in.register(t, uniqueAccount("bystander"))
	sa := in.login(t, a.email, a.password)
	sb := in.login(t, b.email, b.password)

	res := in.call(t, http.MethodPost, "/api/v1/auth/logout", map[string]string{"refresh_token": sa.refresh}, nil)
	require.Equal(t, http.StatusUnauthorized, res.status, "logout needs the gateway's identity")
	require.Equal(t, "unauthenticated", res.errorCode())

	// Someone else's token: nothing happens to it.
	res = in.call(t, http.MethodPost, "/api/v1/auth/logout", map[string]string{"refresh_token": sb.refresh}, identityOf(a))
	require.Equal(t, http.StatusNoContent, res.status, res.raw)

	res = in.call(t, http.MethodPost, "/api/v1/auth/logout", nil, identityOf(a))
	require.Equal(t, http.StatusBadRequest, res.status, res.raw)
	require.Equal(t, "refresh_token_required", res.errorCode())
	res = in.call(t, http.MethodPost, "/api/v1/auth/logout", map[string]string{"refresh_token": "garbage"}, identityOf(a))
	require.Equal(t, http.StatusBadRequest, res.status, res.raw)
	require.Equal(t, "invalid_refresh_token", res.errorCode())

	res = in.call(t, http.MethodPost, "/api/v1/auth/logout", map[string]string{"refresh_token": sa.refresh}, identityOf(a))
	require.Equal(t, http.StatusNoContent, res.status, res.raw)
	require.Empty(t, res.raw)
	res = in.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": sa.refresh}, nil)
	require.Equal(t, http.StatusUnauthorized, res.status, res.raw)
	require.Equal(t, "invalid_refresh_token", res.errorCode())

	// Logging out twice is fine.
	res = in.call(t, http.MethodPost, "/api/v1/auth/logout", map[string]string{"refresh_token": sa.refresh}, identityOf(a))
	require.Equal(t, http.StatusNoContent, res.status, res.raw)

	res = in.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": sb.refresh}, nil)
	require.Equal(t, http.StatusOK, res.status, "the bystander's session survived")
}
