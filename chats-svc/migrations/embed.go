// Package migrations holds chats-svc's versioned schema (goose), portable between Postgres
// and SQLite.
package migrations

import "embed"

// FS is the migrations directory.
//
//go:embed *.sql
var FS embed.FS
