package e2e

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/tools/devstack/stack"
)

// TestGateway attacks the gateway's token checks through the real stack, sends a forged
// identity straight to users-svc, and kills a users-svc instance under load.
func TestGateway(t *testing.T) {
	st := startStack(t, stack.Options{
		Services:  []string{"users-svc"},
		Instances: map[string]int{"users-svc": 2},
	})
	require.NoError(t, st.WaitPassing(context.Background(), "users-svc", 2))
	c := newClient(st)
	u := newUser(t, c)

	t.Run("forged tokens are refused", func(t *testing.T) {
		attacks := forgeTokens(t, c, u.Access)
		for _, a := range attacks {
			t.Run(a.name, func(t *testing.T) {
				path := "/api/v1/users/me"
				token := a.token
				if a.inQuery {
					path += "?access_token=" + token
					token = ""
				}
				require.Equal(t, "unauthenticated", c.do(t, http.MethodGet, path, token, nil).expect(t, http.StatusUnauthorized).code(t))
			})
		}
		c.do(t, http.MethodGet, "/api/v1/users/me", u.Access, nil).expect(t, http.StatusOK)
	})

	t.Run("a forged identity sent straight to users-svc is refused", func(t *testing.T) {
		direct := &client{base: "http://" + st.Proc("users-svc", 0).HTTPAddr, http: http.DefaultClient}
		forged := authn.NewSigner("not-the-internal-secret-0123456789").Sign(authn.Identity{UserID: u.ID, Username: u.Username})
		p, _, _ := strings.Cut(authn.NewSigner(st.Secret).Sign(authn.Identity{UserID: u.ID}), ".")
		cases := []struct {
			name     string
			identity string
		}{
			{"none", ""},
			{"signed with another secret", forged},
			{"unsigned payload", p + "."},
			{"the user's JWT instead", u.Access},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req, err := http.NewRequest(http.MethodGet, direct.base+"/api/v1/users/me", nil)
				require.NoError(t, err)
				if tc.identity != "" {
					req.Header.Set(authn.Header, tc.identity)
				}
				resp, err := direct.http.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			})
		}
	})

	t.Run("an instance killed under load leaves the rotation and comes back", func(t *testing.T) {
		killAndRestart(t, st, c, u)
	})
}

// TestGatewayTokenClaims checks claims only users-svc can sign for: each case runs a stack
// whose users-svc issues tokens the gateway must refuse. (Expiry is left to the gateway's
// component tests: users-svc's shortest token lifetime is a minute.)
func TestGatewayTokenClaims(t *testing.T) {
	cases := []struct {
		name  string
		users map[string]string
		code  string
	}{
		{"wrong issuer", map[string]string{"JWT_ISSUER": "someone-else"}, "unauthenticated"},
		{"wrong audience", map[string]string{"JWT_AUDIENCE": "someone-else"}, "unauthenticated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := startStack(t, stack.Options{
				Services:   []string{"users-svc"},
				ServiceEnv: map[string]map[string]string{"users-svc": tc.users},
			})
			c := newClient(st)
			u := newUser(t, c)
			require.Equal(t, tc.code, c.do(t, http.MethodGet, "/api/v1/users/me", u.Access, nil).expect(t, http.StatusUnauthorized).code(t))
		})
	}
}

type attack struct {
	name    string
	token   string
	inQuery bool
}

// forgeTokens derives attack tokens from a genuine one and the public JWKS.
func forgeTokens(t *testing.T, c *client, genuine string) []attack {
	parts := strings.Split(genuine, ".")
	require.Len(t, parts, 3)
	var claims jwt.MapClaims
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &claims))
	var header map[string]any
	raw, err = base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &header))
	kid, _ := header["kid"].(string)

	var set authn.JWKS
	c.do(t, http.MethodGet, "/.well-known/jwks.json", "", nil).expect(t, http.StatusOK).json(t, &set)
	pub := set.Ed25519Keys()[kid]
	require.Len(t, pub, ed25519.PublicKeySize)

	none := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
	none.Header["kid"] = kid
	noneTok, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	hs.Header["kid"] = kid
	hsTok, err := hs.SignedString([]byte(pub))
	require.NoError(t, err)
	_, ownKey, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	own := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	own.Header["kid"] = kid
	ownTok, err := own.SignedString(ownKey)
	require.NoError(t, err)
	unknown := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	unknown.Header["kid"] = "not-a-key"
	unknownTok, err := unknown.SignedString(ownKey)
	require.NoError(t, err)
	tampered := jwt.MapClaims{}
	for k, v := range claims {
		tampered[k] = v
	}
	tampered["sub"] = "someone-else"
	tamperedPayload, err := json.Marshal(tampered)
	require.NoError(t, err)

	return []attack{
		{name: "alg none", token: noneTok},
		{name: "HS256 signed with the public key", token: hsTok},
		{name: "signed with another key under the real kid", token: ownTok},
		{name: "unknown kid", token: unknownTok},
		{name: "tampered payload", token: parts[0] + "." + base64.RawURLEncoding.EncodeToString(tamperedPayload) + "." + parts[2]},
		{name: "truncated", token: genuine[:len(genuine)-16]},
		{name: "garbage", token: "garbage"},
		{name: "token in the query of a non-WebSocket route", token: genuine, inQuery: true},
	}
}

// outcome is one request of the steady load.
type outcome struct {
	at  time.Time
	err string
}

// killAndRestart runs a steady GET load through the gateway, SIGKILLs one users-svc
// instance, checks that requests stop failing within 2 s and that the instance leaves the
// rotation, restarts it and checks that it takes traffic again.
func killAndRestart(t *testing.T, st *stack.Stack, c *client, u *user) {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var outcomes []outcome
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			httpc := &http.Client{Timeout: 5 * time.Second}
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				o := outcome{at: time.Now()}
				req, _ := http.NewRequest(http.MethodGet, c.base+"/api/v1/users/me", nil)
				req.Header.Set("Authorization", "Bearer "+u.Access)
				resp, err := httpc.Do(req)
				switch {
				case err != nil:
					o.err = err.Error()
				case resp.StatusCode != http.StatusOK:
					o.err = resp.Status
				}
				if resp != nil {
					resp.Body.Close()
				}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
		}()
	}
	stopLoad := func() {
		cancel()
		wg.Wait()
	}
	defer stopLoad()

	victim := st.Proc("users-svc", 1).HTTPAddr
	survivor := st.Proc("users-svc", 0).HTTPAddr
	require.Eventually(t, func() bool {
		return servedMe(t, victim) > 0 && servedMe(t, survivor) > 0
	}, 10*time.Second, 100*time.Millisecond, "both instances get traffic")

	killedAt := time.Now()
	require.NoError(t, st.Kill("users-svc", 1))
	require.NoError(t, st.WaitPassing(context.Background(), "users-svc", 1), "the killed instance leaves Consul")
	time.Sleep(time.Until(killedAt.Add(4 * time.Second))) // a stretch of load after the kill

	require.NoError(t, st.Restart(context.Background(), "users-svc", 1))
	require.NoError(t, st.WaitPassing(context.Background(), "users-svc", 2))
	require.Eventually(t, func() bool { return servedMe(t, victim) > 0 }, 15*time.Second, 100*time.Millisecond,
		"the restarted instance takes traffic again")
	stopLoad()

	var late []string
	total := 0
	for _, o := range outcomes {
		total++
		if o.err != "" && o.at.After(killedAt.Add(2*time.Second)) {
			late = append(late, o.at.Sub(killedAt).String()+": "+o.err)
		}
	}
	require.Greater(t, total, 200, "the load ran")
	require.Empty(t, late, "requests failed more than 2 s after the kill")
}

// servedMe reads how many GET /api/v1/users/me an instance has answered from its /metrics.
func servedMe(t *testing.T, httpAddr string) int {
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "http_requests_total{") || !strings.Contains(line, `route="/api/v1/users/me"`) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		require.NoError(t, err, fmt.Sprintf("metrics line %q", line))
		n += int(v)
	}
	return n
}
