// Package auth decides who is calling: it verifies access tokens (through a cache of
// verified tokens, so that the Ed25519 signature is checked once per token and gateway),
// refuses revoked ones, and signs the internal identity the services trust.
package auth

import "errors"

var (
	// ErrUnauthenticated: no token, or a token that is not valid.
	ErrUnauthenticated = errors.New("auth: unauthenticated")
	// ErrTokenExpired: a genuine token past its expiry.
	ErrTokenExpired = errors.New("auth: token expired")
	// ErrTokenRevoked: a genuine token whose session was logged out.
	ErrTokenRevoked = errors.New("auth: token revoked")
)
