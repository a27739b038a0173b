// Package db opens a service's database with gorm — Postgres when a URL is configured,
// pure-Go SQLite (the embedded default) otherwise — and applies its versioned migrations.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Params selects and tunes the database.
type Params struct {
	// URL is a Postgres URL; when empty, SQLitePath is used.
	URL        string
	SQLitePath string
	// Migrations holds the service's versioned .sql files (goose format) at its root.
	Migrations fs.FS
	Log        *slog.Logger
	// MaxOpenConns bounds the Postgres pool (default 20).
	MaxOpenConns int
}

// Open connects, applies pending migrations and returns the handle.
func Open(ctx context.Context, p Params) (*gorm.DB, error) {
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		TranslateError:         true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	var (
		gdb     *gorm.DB
		err     error
		dialect goose.Dialect
	)
	if p.URL != "" {
		dialect = goose.DialectPostgres
		gdb, err = gorm.Open(postgres.Open(p.URL), cfg)
	} else {
		dialect = goose.DialectSQLite3
		if dir := filepath.Dir(p.SQLitePath); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("db: create %s: %w", dir, err)
			}
		}
		// WAL lets readers run beside the writer; immediate transactions take the write
		// lock up front so that two writers wait (busy_timeout) instead of failing.
		dsn := p.SQLitePath + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
		gdb, err = gorm.Open(sqlite.Open(dsn), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("db: open: %w", err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, err
	}
	if p.URL != "" {
		n := p.MaxOpenConns
		if n == 0 {
			n = 20
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		sqlDB.SetMaxOpenConns(4)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("db: ping: %w", err)
	}
	if p.Migrations != nil {
		if err := migrate(ctx, sqlDB, dialect, p.Migrations, p.Log); err != nil {
			sqlDB.Close()
			return nil, err
		}
	}
	return gdb, nil
}

// migrate applies pending migrations. On Postgres it holds a session advisory lock while it
// does, so that instances starting together on a fresh database migrate one after another
// (concurrent CREATE TABLEs would fail all but one); SQLite is one process's file.
func migrate(ctx context.Context, sqlDB *sql.DB, dialect goose.Dialect, migrations fs.FS, log *slog.Logger) error {
	var opts []goose.ProviderOption
	if dialect == goose.DialectPostgres {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("db: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	provider, err := goose.NewProvider(dialect, sqlDB, migrations, opts...)
	if err != nil {
		return fmt.Errorf("db: migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	if log != nil {
		for _, r := range results {
			log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration_ms", r.Duration.Milliseconds())
		}
	}
	return nil
}

// IsPostgres reports whether gdb talks to Postgres (some queries, e.g. row locks, differ).
func IsPostgres(gdb *gorm.DB) bool { return gdb.Dialector.Name() == "postgres" }

// Ping is a readiness check for the database.
func Ping(gdb *gorm.DB) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		sqlDB, err := gdb.DB()
		if err != nil {
			return err
		}
		return sqlDB.PingContext(ctx)
	}
}

// IsUniqueViolation reports whether err is a duplicate-key error from either database.
func IsUniqueViolation(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	// The SQLite driver does not translate every constraint error.
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
