package service_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/authn"
)

// TestMalformedRequests sends every users endpoint bodies it must refuse with a 4xx and a
// specific code, never a 5xx, and checks that none of them changed anything.
func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	in := start(t, nil)
	a := in.register(t, uniqueAccount("bodies"))
	s := in.login(t, a.email, a.password)
	fresh := uniqueAccount("never")
	oversized := `{"username":"` + strings.Repeat("x", 9000) + `"}`

	type tc struct {
		name   string
		body   string
		status int
		code   string
	}
	common := []tc{
		{"malformed JSON", `{"username":`, 400, "invalid_json"},
		{"not JSON", `hello`, 400, "invalid_json"},
		{"array", `[1,2]`, 400, "invalid_json"},
		{"two objects", `{} {}`, 400, "invalid_json"},
		{"oversized", oversized, 413, "body_too_large"},
	}
	endpoints := []struct {
		path     string
		identity *authn.Identity
		cases    []tc
	}{
		{"/api/v1/auth/register", nil, append([]tc{
			{"empty body", ``, 400, "invalid_json"},
			{"wrong type", `{"username":1,"email":"` + fresh.email + `","password":"password123"}`, 400, "invalid_field"},
			{"null fields", `{"username":null,"email":null,"password":null}`, 400, "username_required"},
			{"missing fields", `{}`, 400, "username_required"},
			{"missing password", `{"username":"` + fresh.username + `","email":"` + fresh.email + `"}`, 400, "password_required"},
		}, common...)},
		{"/api/v1/auth/login", nil, append([]tc{
			{"empty body", ``, 400, "invalid_json"},
			{"wrong type", `{"login":["a"],"password":"x"}`, 400, "invalid_field"},
			{"missing fields", `{}`, 400, "login_required"},
			{"missing password", `{"login":"` + a.email + `"}`, 400, "password_required"},
			{"password too long", `{"login":"` + a.email + `","password":"` + strings.Repeat("p", 257) + `"}`, 400, "password_too_long"},
			{"login too long", `{"login":"` + strings.Repeat("a", 255) + `","password":"x"}`, 400, "login_too_long"},
		}, common...)},
		{"/api/v1/auth/refresh", nil, append([]tc{
			{"no token anywhere", ``, 400, "refresh_token_required"},
			{"missing field", `{}`, 400, "refresh_token_required"},
			{"wrong type", `{"refresh_token":42}`, 400, "invalid_field"},
			{"malformed token", `{"refresh_token":"abc"}`, 400, "invalid_refresh_token"},
		}, common...)},
		{"/api/v1/auth/logout", identityOf(a), append([]tc{
			{"no token anywhere", ``, 400, "refresh_token_required"},
			{"missing field", `{}`, 400, "refresh_token_required"},
			{"wrong type", `{"refresh_token":{}}`, 400, "invalid_field"},
			{"malformed token", `{"refresh_token":"` + strings.Repeat("!", 43) + `"}`, 400, "invalid_refresh_token"},
		}, common...)},
	}
	for _, ep := range endpoints {
		for _, c := range ep.cases {
			t.Run(ep.path+" "+c.name, func(t *testing.T) {
				res := in.call(t, http.MethodPost, ep.path, c.body, ep.identity)
				require.Equal(t, c.status, res.status, res.raw)
				require.Equal(t, c.code, res.errorCode())
			})
		}
		t.Run(ep.path+" oversized, unknown length", func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, in.base+ep.path, io.MultiReader(bytes.NewReader([]byte(oversized))))
			require.NoError(t, err)
			require.EqualValues(t, 0, req.ContentLength, "sent chunked")
			if ep.identity != nil {
				req.Header.Set(authn.Header, in.signer.Sign(*ep.identity))
			}
			res := in.do(t, req)
			require.Equal(t, http.StatusRequestEntityTooLarge, res.status, res.raw)
			require.Equal(t, "body_too_large", res.errorCode())
		})
	}

	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		res := in.call(t, m, "/api/v1/auth/login", nil, nil)
		require.Equal(t, http.StatusMethodNotAllowed, res.status, m)
	}

	// Nothing was changed: the session still refreshes and the fresh account is free.
	res := in.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": s.refresh}, nil)
	require.Equal(t, http.StatusOK, res.status, res.raw)
	in.register(t, fresh)
}
