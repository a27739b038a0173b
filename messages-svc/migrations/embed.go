// Package migrations holds messages-svc's versioned schema (goose), portable between
// Postgres and SQLite.
package migrations

import "embed"

// FS holds the .sql files.
//
//go:embed *.sql
var FS embed.FS
