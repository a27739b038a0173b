// Package migrations holds conference-svc's versioned schema (goose .sql files), embedded so
// that the binary migrates its own database at start.
package migrations

import "embed"

// FS is the set of migration files.
//
//go:embed *.sql
var FS embed.FS
