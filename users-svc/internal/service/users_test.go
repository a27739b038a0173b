package service_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/authn"
)

func TestUsersMe(t *testing.T) {
	t.Parallel()
	in := start(t, nil)
	a := in.register(t, uniqueAccount("me"))

	res := in.call(t, http.MethodGet, "/api/v1/users/me", nil, identityOf(a))
	require.Equal(t, http.StatusOK, res.status, res.raw)
	require.Equal(t, a.id, res.str("user", "id"))
	require.Equal(t, a.username, res.str("user", "username"))
	require.Equal(t, a.email, res.str("user", "email"))
	require.NotEmpty(t, res.str("user", "created_at"))

	cases := []struct {
		name     string
		identity *authn.Identity
		status   int
		code     string
	}{
		{"unknown user", &authn.Identity{UserID: "01900000-0000-7000-8000-000000000000"}, 404, "user_not_found"},
		{"malformed user id", &authn.Identity{UserID: "not-a-uuid"}, 404, "user_not_found"},
		{"a service is not a user", &authn.Identity{UserID: authn.ServicePrefix + "teams-svc"}, 401, "unauthenticated"},
		{"no identity", nil, 401, "unauthenticated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := in.call(t, http.MethodGet, "/api/v1/users/me", nil, tc.identity)
			require.Equal(t, tc.status, res.status, res.raw)
			require.Equal(t, tc.code, res.errorCode())
		})
	}
}

func TestForgedIdentityRefused(t *testing.T) {
	t.Parallel()
	in := start(t, nil)
	a := in.register(t, uniqueAccount("forged"))
	forger := authn.NewSigner("a-secret-the-gateway-does-not-have")
	valid := in.signer.Sign(*identityOf(a))
	payload, _ := json.Marshal(map[string]any{"sub": a.id, "exp": 1 << 40})
	unsigned := base64.RawURLEncoding.EncodeToString(payload) + ".AAAA"

	for name, header := range map[string]string{
		"wrong secret":       forger.Sign(*identityOf(a)),
		"tampered payload":   base64.RawURLEncoding.EncodeToString(payload) + valid[strings.Index(valid, "."):],
		"bad signature":      unsigned,
		"garbage":            "garbage",
		"bearer jwt instead": "Bearer x.y.z",
	} {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/users/me", "/api/v1/users?email=" + url.QueryEscape(a.email)} {
				req, err := http.NewRequest(http.MethodGet, in.base+path, nil)
				require.NoError(t, err)
				req.Header.Set(authn.Header, header)
				res := in.do(t, req)
				require.Equal(t, http.StatusUnauthorized, res.status, path)
				require.Equal(t, "unauthenticated", res.errorCode())
			}
		})
	}
}

func TestUserByEmail(t *testing.T) {
	t.Parallel()
	in := start(t, nil)
	a := in.register(t, uniqueAccount("byemail"))
	caller := in.register(t, uniqueAccount("caller"))

	cases := []struct {
		name   string
		query  string
		status int
		code   string
	}{
		{"exact", "email=" + url.QueryEscape(a.email), 200, ""},
		{"other case", "email=" + url.QueryEscape(strings.ToUpper(a.email)), 200, ""},
		{"unknown", "email=nobody%40example.com", 404, "user_not_found"},
		{"a LIKE pattern is not a match", "email=" + url.QueryEscape(a.email[:5]+"%@example.com"), 404, "user_not_found"},
		{"missing", "", 400, "email_required"},
		{"blank", "email=%20", 400, "email_required"},
		{"malformed", "email=not-an-email", 400, "invalid_email"},
		{"too long", "email=" + strings.Repeat("a", 300) + "%40example.com", 400, "invalid_email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := in.call(t, http.MethodGet, "/api/v1/users?"+tc.query, nil, identityOf(caller))
			require.Equal(t, tc.status, res.status, res.raw)
			require.Equal(t, tc.code, res.errorCode())
			if tc.status == 200 {
				require.Equal(t, a.id, res.str("user", "id"))
				require.Equal(t, a.email, res.str("user", "email"))
			}
		})
	}
	res := in.call(t, http.MethodGet, "/api/v1/users?email="+url.QueryEscape(a.email), nil, nil)
	require.Equal(t, http.StatusUnauthorized, res.status)
}

func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	require.NoError(t, err)
	out := map[string]any{}
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}
