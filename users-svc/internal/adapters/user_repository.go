// Package adapters implements the domain's interfaces with gorm (Postgres or SQLite),
// argon2id, golang-jwt and the platform rate limiter. Every failure leaves here either as a
// domain sentinel or as an internal error.
package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/convene/convene/platform/db"
	"github.com/convene/convene/users-svc/internal/domain"
)

type userRow struct {
	ID           string `gorm:"primaryKey"`
	Username     string
	UsernameKey  string
	Email        string
	PasswordHash string
	CreatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) toDomain() domain.User {
	return domain.User{
		ID:           r.ID,
		Username:     r.Username,
		Email:        r.Email,
		PasswordHash: r.PasswordHash,
		CreatedAt:    r.CreatedAt.UTC(),
	}
}

// UserRepository stores accounts with gorm.
type UserRepository struct{ db *gorm.DB }

// NewUserRepository returns a repository on gdb.
func NewUserRepository(gdb *gorm.DB) *UserRepository { return &UserRepository{db: gdb} }

// Create implements domain.UserRepository.
func (r *UserRepository) Create(ctx context.Context, u domain.User) error {
	row := userRow{
		ID:           u.ID,
		Username:     u.Username,
		UsernameKey:  u.UsernameKey(),
		Email:        u.Email,
		PasswordHash: u.PasswordHash,
		CreatedAt:    u.CreatedAt.UTC(),
	}
	err := r.db.WithContext(ctx).Create(&row).Error
	if err == nil {
		return nil
	}
	if !db.IsUniqueViolation(err) {
		return fmt.Errorf("create user: %w", err)
	}
	// Both drivers report a duplicate without saying portably which index it hit; the
	// conflicting row is committed by now, so looking the email up tells which one it was.
	var n int64
	if err := r.db.WithContext(ctx).Model(&userRow{}).Where("email = ?", u.Email).Count(&n).Error; err != nil {
		return fmt.Errorf("create user: find conflict: %w", err)
	}
	if n > 0 {
		return domain.ErrEmailTaken
	}
	return domain.ErrUsernameTaken
}

// ByID implements domain.UserRepository.
func (r *UserRepository) ByID(ctx context.Context, id string) (domain.User, error) {
	return r.first(ctx, "id = ?", id)
}

// ByEmail implements domain.UserRepository.
func (r *UserRepository) ByEmail(ctx context.Context, email string) (domain.User, error) {
	return r.first(ctx, "email = ?", email)
}

// ByUsernameKey implements domain.UserRepository.
func (r *UserRepository) ByUsernameKey(ctx context.Context, key string) (domain.User, error) {
	return r.first(ctx, "username_key = ?", key)
}

// ByIDs implements domain.UserRepository.
func (r *UserRepository) ByIDs(ctx context.Context, ids []string) ([]domain.User, error) {
	var rows []userRow
	if err := r.db.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("users by ids: %w", err)
	}
	out := make([]domain.User, len(rows))
	for i, row := range rows {
		out[i] = row.toDomain()
	}
	return out, nil
}

func (r *UserRepository) first(ctx context.Context, where string, arg string) (domain.User, error) {
	var row userRow
	err := r.db.WithContext(ctx).Where(where, arg).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.User{}, domain.ErrUserNotFound
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("find user: %w", err)
	}
	return row.toDomain(), nil
}
