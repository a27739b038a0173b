package service_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/testkit"
)

// TestInstancesStartingTogether starts three instances at once on one fresh database: they
// race to migrate it and to create the first signing key, and must end up serving one key
// and one set of accounts.
func TestInstancesStartingTogether(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testkit.NewPostgresDB(t)}
	instances := make([]*instance, 3)
	errs := make([]error, len(instances))
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() { instances[i], errs[i] = launch(t, env) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}

	var kids []string
	for _, in := range instances {
		res := in.call(t, http.MethodGet, "/.well-known/jwks.json", nil, nil)
		require.Equal(t, http.StatusOK, res.status)
		keys := res.body["keys"].([]any)
		require.Len(t, keys, 1, "one key, whoever created it")
		kids = append(kids, keys[0].(map[string]any)["kid"].(string))
	}
	require.Equal(t, kids[0], kids[1])
	require.Equal(t, kids[0], kids[2])

	a := instances[0].register(t, uniqueAccount("multi"))
	s := instances[1].login(t, a.email, a.password)
	_, err := instances[2].verify(t, s.access)
	require.NoError(t, err, "a token from one instance verifies with another's JWKS")
	res := instances[2].call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": s.refresh}, nil)
	require.Equal(t, http.StatusOK, res.status, res.raw)
	res = instances[0].call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": s.refresh}, nil)
	require.Equal(t, "refresh_token_reused", res.errorCode(), "spent on one instance, spent on all")
}
