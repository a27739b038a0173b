package service

import (
	"context"
	"database/sql"
	"fmt"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, which gorm's Postgres driver uses too
)

// migrationLockKey names the Postgres advisory lock users-svc instances take around their
// migrations: "users" in ASCII. Each service has its own database, so any constant works.
const migrationLockKey int64 = 0x7573657273

// withMigrationLock runs open while holding a Postgres session advisory lock, so that
// instances starting together against one fresh database apply the migrations one after
// the other: concurrent CREATE TABLEs would fail all but one of them. The lock belongs to a
// connection of its own and goes with it, also when the process dies. SQLite (no URL) is
// one process's file and needs no lock.
func withMigrationLock(ctx context.Context, databaseURL string, open func() error) error {
	if databaseURL == "" {
		return open()
	}
	pool, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer pool.Close()
	conn, err := pool.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	openErr := open()
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockKey); err != nil && openErr == nil {
		return fmt.Errorf("migration unlock: %w", err)
	}
	return openErr
}
