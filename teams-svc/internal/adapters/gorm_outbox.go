package adapters

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// maxErrorLen bounds the last error kept with an outbox event.
const maxErrorLen = 500

// Due implements domain.Outbox.
func (r *Repository) Due(ctx context.Context, now time.Time, limit int) ([]domain.OutboxEvent, error) {
	var rows []outboxRow
	err := r.conn(ctx).Where("next_attempt_at <= ?", now).Order("next_attempt_at, id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]domain.OutboxEvent, len(rows))
	for i, row := range rows {
		out[i] = row.domain()
	}
	return out, nil
}

// Claim implements domain.Outbox: attempts is the row's version, so only the relay that
// read the current version moves it.
func (r *Repository) Claim(ctx context.Context, ev domain.OutboxEvent, leaseUntil time.Time) (bool, error) {
	res := r.conn(ctx).Model(&outboxRow{}).Where("id = ? AND attempts = ?", ev.ID, ev.Attempts).
		Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "next_attempt_at": leaseUntil})
	return res.RowsAffected == 1, res.Error
}

// Delivered implements domain.Outbox.
func (r *Repository) Delivered(ctx context.Context, id string) error {
	return r.conn(ctx).Where("id = ?", id).Delete(&outboxRow{}).Error
}

// Retry implements domain.Outbox.
func (r *Repository) Retry(ctx context.Context, id string, at time.Time, reason string) error {
	// Postgres TEXT refuses NUL and invalid UTF-8, which cutting may produce.
	reason = strings.ReplaceAll(reason, "\x00", "")
	if len(reason) > maxErrorLen {
		reason = strings.ToValidUTF8(reason[:maxErrorLen], "")
	}
	return r.conn(ctx).Model(&outboxRow{}).Where("id = ?", id).
		Updates(map[string]any{"next_attempt_at": at, "last_error": reason}).Error
}
