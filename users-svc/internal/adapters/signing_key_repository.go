package adapters

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/convene/convene/platform/db"
	"github.com/convene/convene/users-svc/internal/domain"
)

type signingKeyRow struct {
	Kid string `gorm:"primaryKey"`
	// Slot is RFC 3339 text: a string compares equal on every database, which is what the
	// unique index needs.
	Slot string
	// PrivateKey is the base64 Ed25519 seed.
	PrivateKey string
	CreatedAt  time.Time
}

func (signingKeyRow) TableName() string { return "signing_keys" }

// SigningKeyRepository stores signing keys with gorm.
type SigningKeyRepository struct{ db *gorm.DB }

// NewSigningKeyRepository returns a repository on gdb.
func NewSigningKeyRepository(gdb *gorm.DB) *SigningKeyRepository {
	return &SigningKeyRepository{db: gdb}
}

// List implements domain.SigningKeyRepository.
func (r *SigningKeyRepository) List(ctx context.Context) ([]domain.SigningKey, error) {
	var rows []signingKeyRow
	if err := r.db.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	out := make([]domain.SigningKey, 0, len(rows))
	for _, row := range rows {
		seed, err := base64.StdEncoding.DecodeString(row.PrivateKey)
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("signing key %s: malformed seed", row.Kid)
		}
		slot, err := time.Parse(time.RFC3339Nano, row.Slot)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: malformed slot: %w", row.Kid, err)
		}
		out = append(out, domain.SigningKeyFromSeed(seed, slot, row.CreatedAt.UTC()))
	}
	return out, nil
}

// Create implements domain.SigningKeyRepository.
func (r *SigningKeyRepository) Create(ctx context.Context, k domain.SigningKey) error {
	row := signingKeyRow{
		Kid:        k.ID,
		Slot:       k.Slot.UTC().Format(time.RFC3339Nano),
		PrivateKey: base64.StdEncoding.EncodeToString(k.PrivateKey.Seed()),
		CreatedAt:  k.CreatedAt.UTC(),
	}
	err := r.db.WithContext(ctx).Create(&row).Error
	if db.IsUniqueViolation(err) {
		return domain.ErrKeySlotTaken
	}
	if err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	return nil
}

// Delete implements domain.SigningKeyRepository.
func (r *SigningKeyRepository) Delete(ctx context.Context, ids []string) error {
	if err := r.db.WithContext(ctx).Where("kid IN ?", ids).Delete(&signingKeyRow{}).Error; err != nil {
		return fmt.Errorf("delete signing keys: %w", err)
	}
	return nil
}
