package adapters_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/users-svc/internal/adapters"
)

func TestArgon2Hasher(t *testing.T) {
	t.Parallel()
	h := adapters.NewArgon2Hasher(adapters.Argon2Params{MemoryKiB: 8 * 1024, Iterations: 1, Parallelism: 1})
	encoded, err := h.Hash("correct horse")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(encoded, "$argon2id$v=19$m=8192,t=1,p=1$"), encoded)
	again, err := h.Hash("correct horse")
	require.NoError(t, err)
	require.NotEqual(t, encoded, again, "a fresh salt every time")

	cases := []struct {
		password string
		ok       bool
	}{
		{"correct horse", true},
		{"correct horsE", false},
		{"", false},
	}
	for _, tc := range cases {
		ok, err := h.Verify(tc.password, encoded)
		require.NoError(t, err)
		require.Equal(t, tc.ok, ok, tc.password)
	}

	// A hash made with other parameters still verifies: they travel in the PHC string.
	stronger := adapters.NewArgon2Hasher(adapters.DefaultArgon2Params)
	ok, err := stronger.Verify("correct horse", encoded)
	require.NoError(t, err)
	require.True(t, ok)

	_, err = h.Verify("x", "not a hash")
	require.Error(t, err)
}

// BenchmarkArgon2Hash measures one production-cost hash: the work of a register and, as
// Verify costs the same, of every login. Reproduce with
// `go test ./internal/adapters -run '^$' -bench Argon2 -benchtime 50x` in users-svc/.
func BenchmarkArgon2Hash(b *testing.B) {
	h := adapters.NewArgon2Hasher(adapters.DefaultArgon2Params)
	for b.Loop() {
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkArgon2HashParallel is the same hash on every core at once: the ceiling of login
// throughput on this machine.
func BenchmarkArgon2HashParallel(b *testing.B) {
	h := adapters.NewArgon2Hasher(adapters.DefaultArgon2Params)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash("correct horse battery staple"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
