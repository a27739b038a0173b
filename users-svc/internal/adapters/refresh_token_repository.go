package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/convene/convene/platform/db"
	"github.com/convene/convene/users-svc/internal/domain"
)

type familyRow struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	CreatedAt time.Time
	RevokedAt *time.Time
}

func (familyRow) TableName() string { return "refresh_families" }

type tokenRow struct {
	ID        string `gorm:"primaryKey"`
	FamilyID  string
	TokenHash string
	CreatedAt time.Time
	ExpiresAt time.Time
	SpentAt   *time.Time
}

func (tokenRow) TableName() string { return "refresh_tokens" }

// tokenView is a token joined with its family.
type tokenView struct {
	ID              string
	FamilyID        string
	TokenHash       string
	CreatedAt       time.Time
	ExpiresAt       time.Time
	SpentAt         *time.Time
	UserID          string
	FamilyRevokedAt *time.Time
}

func (v tokenView) toDomain() domain.RefreshToken {
	return domain.RefreshToken{
		ID:              v.ID,
		FamilyID:        v.FamilyID,
		UserID:          v.UserID,
		Hash:            v.TokenHash,
		CreatedAt:       v.CreatedAt.UTC(),
		ExpiresAt:       v.ExpiresAt.UTC(),
		SpentAt:         deref(v.SpentAt),
		FamilyRevokedAt: deref(v.FamilyRevokedAt),
	}
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// RefreshTokenRepository stores refresh-token families with gorm.
type RefreshTokenRepository struct{ db *gorm.DB }

// NewRefreshTokenRepository returns a repository on gdb.
func NewRefreshTokenRepository(gdb *gorm.DB) *RefreshTokenRepository {
	return &RefreshTokenRepository{db: gdb}
}

// StartFamily implements domain.RefreshTokenRepository.
func (r *RefreshTokenRepository) StartFamily(ctx context.Context, first domain.RefreshToken) error {
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&familyRow{ID: first.FamilyID, UserID: first.UserID, CreatedAt: first.CreatedAt.UTC()}).Error; err != nil {
			return err
		}
		return tx.Create(newTokenRow(first)).Error
	})
	if err != nil {
		return fmt.Errorf("start refresh family: %w", err)
	}
	return nil
}

// Rotate implements domain.RefreshTokenRepository. On Postgres the token row is locked
// (FOR UPDATE) so that a concurrent exchange of the same token waits and then sees it
// spent; SQLite transactions here take the write lock up front (see platform/db), which
// serialises them the same way. The conditional update is a second guard: it spends the
// token only if nobody did in between.
func (r *RefreshTokenRepository) Rotate(ctx context.Context, hash string, next func(domain.RefreshToken) (domain.RefreshToken, error)) error {
	var nextErr error
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := viewQuery(tx).Where("t.token_hash = ?", hash)
		if db.IsPostgres(tx) {
			q = q.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Table: clause.Table{Name: "t"}})
		}
		var v tokenView
		if err := q.Take(&v).Error; err != nil {
			return err
		}
		successor, err := next(v.toDomain())
		if err != nil {
			nextErr = err
			return err
		}
		res := tx.Model(&tokenRow{}).Where("id = ? AND spent_at IS NULL", v.ID).Update("spent_at", successor.CreatedAt.UTC())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			nextErr = domain.ErrRefreshTokenReused
			return nextErr
		}
		return tx.Create(newTokenRow(successor)).Error
	})
	switch {
	case nextErr != nil:
		return nextErr
	case errors.Is(err, gorm.ErrRecordNotFound):
		return domain.ErrRefreshTokenInvalid
	case err != nil:
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	return nil
}

// ByHash implements domain.RefreshTokenRepository.
func (r *RefreshTokenRepository) ByHash(ctx context.Context, hash string) (domain.RefreshToken, error) {
	var v tokenView
	err := viewQuery(r.db.WithContext(ctx)).Where("t.token_hash = ?", hash).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.RefreshToken{}, domain.ErrRefreshTokenInvalid
	}
	if err != nil {
		return domain.RefreshToken{}, fmt.Errorf("find refresh token: %w", err)
	}
	return v.toDomain(), nil
}

// RevokeFamily implements domain.RefreshTokenRepository; the first revocation time is kept.
func (r *RefreshTokenRepository) RevokeFamily(ctx context.Context, familyID string, at time.Time) error {
	err := r.db.WithContext(ctx).Model(&familyRow{}).
		Where("id = ? AND revoked_at IS NULL", familyID).
		Update("revoked_at", at.UTC()).Error
	if err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}

// DeleteExpired implements domain.RefreshTokenRepository.
func (r *RefreshTokenRepository) DeleteExpired(ctx context.Context, now time.Time) error {
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("expires_at < ?", now.UTC()).Delete(&tokenRow{}).Error; err != nil {
			return err
		}
		return tx.Where("NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = refresh_families.id)").
			Delete(&familyRow{}).Error
	})
	if err != nil {
		return fmt.Errorf("delete expired refresh tokens: %w", err)
	}
	return nil
}

func viewQuery(tx *gorm.DB) *gorm.DB {
	return tx.Table("refresh_tokens AS t").
		Select("t.*, f.user_id AS user_id, f.revoked_at AS family_revoked_at").
		Joins("JOIN refresh_families f ON f.id = t.family_id")
}

func newTokenRow(t domain.RefreshToken) *tokenRow {
	return &tokenRow{
		ID:        t.ID,
		FamilyID:  t.FamilyID,
		TokenHash: t.Hash,
		CreatedAt: t.CreatedAt.UTC(),
		ExpiresAt: t.ExpiresAt.UTC(),
	}
}
