// Package adapters connects teams-svc's domain to the outside: the database (gorm, on
// Postgres or SQLite), the membership cache (platform/cache), users-svc and
// conference-svc (gRPC), and the rate limiter. Errors leave here as domain sentinels.
package adapters

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/convene/convene/platform/db"
	"github.com/convene/convene/teams-svc/internal/domain"
)

// Repository stores teams, memberships, join requests, posts, comments and the outbox in
// one database. It implements domain.TeamRepository, domain.PostRepository and
// domain.Outbox.
type Repository struct {
	db       *gorm.DB
	postgres bool
}

// NewRepository wraps an open database whose schema is migrated.
func NewRepository(gdb *gorm.DB) *Repository {
	return &Repository{db: gdb, postgres: db.IsPostgres(gdb)}
}

var (
	_ domain.TeamRepository = (*Repository)(nil)
	_ domain.PostRepository = (*Repository)(nil)
	_ domain.Outbox         = (*Repository)(nil)
)

func (r *Repository) conn(ctx context.Context) *gorm.DB { return r.db.WithContext(ctx) }

// lockTeam makes the transaction the only one changing the team's roster until it ends.
// On Postgres that is a row lock; SQLite transactions begin IMMEDIATE and so already
// exclude every other writer.
func (r *Repository) lockTeam(tx *gorm.DB, teamID string) error {
	q := tx.Model(&teamRow{}).Select("id").Where("id = ?", teamID)
	if r.postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row teamRow
	return notFound(q.Take(&row).Error)
}

// notFound translates gorm's "no row" to domain.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.ErrNotFound
	}
	return err
}

// isForeignKeyViolation reports a row that refers to a team or post deleted meanwhile.
func isForeignKeyViolation(err error) bool {
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

// pageOf trims a query result fetched with limit+1 rows to the page and computes the
// next cursor from the last item kept.
func pageOf[R any, T any](rows []R, limit int, conv func(R) T, id func(R) string) domain.Paged[T] {
	out := domain.Paged[T]{Items: make([]T, 0, min(len(rows), limit))}
	if len(rows) > limit {
		rows = rows[:limit]
		out.Next = id(rows[limit-1])
	}
	for _, row := range rows {
		out.Items = append(out.Items, conv(row))
	}
	return out
}

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
