package stack

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // Postgres driver for creating the per-service databases
)

// database creates (if needed) the service's database on the admin server and returns its URL.
func (s *Stack) database(ctx context.Context, service string) (string, error) {
	name := s.opts.DatabasePrefix + "_" + strings.ReplaceAll(strings.TrimSuffix(service, "-svc"), "-", "_")
	admin, err := sql.Open("pgx", s.opts.PostgresAdminURL)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var exists bool
	if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", fmt.Errorf("stack: postgres at %s: %w", s.opts.PostgresAdminURL, err)
	}
	if !exists {
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			return "", fmt.Errorf("stack: create database %s: %w", name, err)
		}
		if s.ownDatabases {
			s.mu.Lock()
			s.databases = append(s.databases, name)
			s.mu.Unlock()
		}
	}
	u, err := url.Parse(s.opts.PostgresAdminURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// dropDatabases removes the databases that this stack created for a test run.
func (s *Stack) dropDatabases() {
	s.mu.Lock()
	names := s.databases
	s.databases = nil
	s.mu.Unlock()
	if len(names) == 0 {
		return
	}
	admin, err := sql.Open("pgx", s.opts.PostgresAdminURL)
	if err != nil {
		return
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, n := range names {
		_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)")
	}
}
