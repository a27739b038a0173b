package convene

import "errors"

var (
	// ErrAPI is a non-2xx answer of the public API.
	ErrAPI = errors.New("convene: API error")
	// ErrSignaling is an error frame, or a socket that closed, during a join.
	ErrSignaling = errors.New("convene: signaling failed")
)
