package adapters

import (
	"github.com/alexedwards/argon2id"
)

// Argon2Params are the argon2id cost parameters. The defaults follow the OWASP Password
// Storage Cheat Sheet's first argon2id option (19 MiB, 2 passes, 1 lane): tens of
// milliseconds of one core per hash, which bounds login throughput (figures in
// docs/benchmarks-users.md). Each hash records its own parameters (PHC string), so raising
// them later keeps old hashes verifiable.
type Argon2Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// DefaultArgon2Params are the production parameters.
var DefaultArgon2Params = Argon2Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}

// Argon2Hasher hashes passwords with argon2id into PHC strings
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash) with a 128-bit random salt and a 256-bit key.
type Argon2Hasher struct{ params *argon2id.Params }

// NewArgon2Hasher returns a hasher with p.
func NewArgon2Hasher(p Argon2Params) *Argon2Hasher {
	return &Argon2Hasher{params: &argon2id.Params{
		Memory:      p.MemoryKiB,
		Iterations:  p.Iterations,
		Parallelism: p.Parallelism,
		SaltLength:  16,
		KeyLength:   32,
	}}
}

// Hash implements domain.PasswordHasher.
func (h *Argon2Hasher) Hash(password string) (string, error) {
	return argon2id.CreateHash(password, h.params)
}

// Verify implements domain.PasswordHasher; the comparison is constant-time.
func (h *Argon2Hasher) Verify(password, encoded string) (bool, error) {
	return argon2id.ComparePasswordAndHash(password, encoded)
}
