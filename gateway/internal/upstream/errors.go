package upstream

import "errors"

// Failures of a proxied request before anything was written to the client; the HTTP port
// maps each to a status and an API error code.
var (
	// ErrConnect: no instance accepted the connection (502).
	ErrConnect = errors.New("upstream: connect failed")
	// ErrTimeout: the instance did not answer in time (504).
	ErrTimeout = errors.New("upstream: timed out")
	// ErrBroken: the instance closed or reset the connection before answering (502).
	ErrBroken = errors.New("upstream: connection broken")
	// ErrBodyTooLarge: the client's body exceeded the limit while it was streamed (413).
	ErrBodyTooLarge = errors.New("upstream: request body too large")
	// ErrClientGone: the client cancelled the request; nothing is worth writing.
	ErrClientGone = errors.New("upstream: client went away")
)
