package load

import "errors"

var (
	// ErrNoProcess means the server process to measure could not be found or read.
	ErrNoProcess = errors.New("load: server process not found")
	// ErrBadParams means the load's shape is unusable.
	ErrBadParams = errors.New("load: bad parameters")
	// ErrNotFlowing means some participant did not receive every other one's media in time.
	ErrNotFlowing = errors.New("load: media not flowing to every subscriber")
)
