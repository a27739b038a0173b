package app

import "errors"

// Input errors that belong to the use cases rather than to the domain model.
var (
	ErrInvalidLimit  = errors.New("limit must be between 1 and 200")
	ErrInvalidCursor = errors.New("malformed cursor")
)
