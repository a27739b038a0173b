package db

import (
	"context"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/convene/convene/platform/testkit"
)

var migrations = fstest.MapFS{
	"00001_things.sql": {Data: []byte(`-- +goose Up
CREATE TABLE things (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TIMESTAMP NOT NULL);
-- +goose Down
DROP TABLE things;
`)},
	"00002_more.sql": {Data: []byte(`-- +goose Up
CREATE TABLE more_things (id TEXT PRIMARY KEY);
-- +goose Down
DROP TABLE more_things;
`)},
}

// Several instances starting together on one fresh database all come up: the migrations
// run once, under a lock, and unique violations are recognised on both databases.
func TestOpenMigratesOnceAndConcurrently(t *testing.T) {
	for name, params := range map[string]Params{
		"postgres": {URL: testkit.NewPostgresDB(t)},
		"sqlite":   {SQLitePath: filepath.Join(t.TempDir(), "sub", "x.db")},
	} {
		t.Run(name, func(t *testing.T) {
			params.Migrations = migrations
			n := 4
			if name == "sqlite" {
				n = 1 // one process owns an embedded database
			}
			var g errgroup.Group
			for range n {
				g.Go(func() error {
					gdb, err := Open(context.Background(), params)
					if err != nil {
						return err
					}
					sqlDB, _ := gdb.DB()
					return sqlDB.Close()
				})
			}
			require.NoError(t, g.Wait())

			gdb, err := Open(context.Background(), params)
			require.NoError(t, err)
			require.NoError(t, gdb.Exec("INSERT INTO things (id, name, created_at) VALUES ('1', 'a', CURRENT_TIMESTAMP)").Error)
			err = gdb.Exec("INSERT INTO things (id, name, created_at) VALUES ('2', 'a', CURRENT_TIMESTAMP)").Error
			require.True(t, IsUniqueViolation(err), "got %v", err)
			require.Equal(t, name == "postgres", IsPostgres(gdb))
			require.NoError(t, Ping(gdb)(context.Background()))
		})
	}
}
