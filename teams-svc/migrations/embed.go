// Package migrations holds teams-svc's versioned schema (goose SQL), portable between
// Postgres and SQLite.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
