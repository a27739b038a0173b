// Package adapters implements the domain's interfaces over gorm (Postgres or SQLite) and
// teams-svc's gRPC API, and translates their errors into domain sentinels, once.
package adapters

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/convene/convene/conference-svc/internal/domain"
	"github.com/convene/convene/platform/db"
)

// conferenceRow is the conferences table.
type conferenceRow struct {
	ID               string    `gorm:"column:id;primaryKey"`
	TeamID           string    `gorm:"column:team_id"`
	Title            string    `gorm:"column:title"`
	StartsAt         time.Time `gorm:"column:starts_at"`
	WaitingRoom      bool      `gorm:"column:waiting_room"`
	CreatedBy        string    `gorm:"column:created_by"`
	Status           string    `gorm:"column:status"`
	ParticipantCount int       `gorm:"column:participant_count"`
	CreateKey        *string   `gorm:"column:create_key"`
	CreatedAt        time.Time `gorm:"column:created_at"`
	UpdatedAt        time.Time `gorm:"column:updated_at"`
}

func (conferenceRow) TableName() string { return "conferences" }

type hostRow struct {
	ConferenceID string    `gorm:"column:conference_id;primaryKey"`
	UserID       string    `gorm:"column:user_id;primaryKey"`
	CreatedAt    time.Time `gorm:"column:created_at"`
}

func (hostRow) TableName() string { return "conference_hosts" }

func toRow(c domain.Conference) conferenceRow {
	return conferenceRow{
		ID: c.ID, TeamID: c.TeamID, Title: c.Title, StartsAt: c.StartsAt.UTC(),
		WaitingRoom: c.WaitingRoom, CreatedBy: c.CreatedBy, Status: string(c.Status),
		ParticipantCount: c.ParticipantCount, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
	}
}

func (r conferenceRow) domain() domain.Conference {
	return domain.Conference{
		ID: r.ID, TeamID: r.TeamID, Title: r.Title, StartsAt: r.StartsAt.UTC(),
		WaitingRoom: r.WaitingRoom, CreatedBy: r.CreatedBy, Status: domain.Status(r.Status),
		ParticipantCount: r.ParticipantCount, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// Conferences is domain.Conferences over gorm.
type Conferences struct{ db *gorm.DB }

// NewConferences returns the repository over an opened, migrated database.
func NewConferences(gdb *gorm.DB) *Conferences { return &Conferences{db: gdb} }

var _ domain.Conferences = (*Conferences)(nil)

// translate maps database errors to domain sentinels; anything else stays as it is (an
// internal error the port logs and answers with a bare 500).
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return domain.ErrNotFound
	case db.IsUniqueViolation(err):
		return domain.ErrConflict
	}
	return err
}

// Create implements domain.Conferences.
func (r *Conferences) Create(ctx context.Context, c domain.Conference, createKey string) (domain.Conference, bool, error) {
	row := toRow(c)
	if createKey != "" {
		row.CreateKey = &createKey
	}
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return tx.Create(&hostRow{ConferenceID: c.ID, UserID: c.CreatedBy, CreatedAt: c.CreatedAt.UTC()}).Error
	})
	if err == nil {
		return row.domain(), true, nil
	}
	if createKey == "" || !db.IsUniqueViolation(err) {
		return domain.Conference{}, false, translate(err)
	}
	// A retry of a create that already succeeded: answer with the first result.
	var prev conferenceRow
	if err := r.db.WithContext(ctx).Where("created_by = ? AND create_key = ?", c.CreatedBy, createKey).
		Take(&prev).Error; err != nil {
		return domain.Conference{}, false, translate(err)
	}
	return prev.domain(), false, nil
}

// Get implements domain.Conferences.
func (r *Conferences) Get(ctx context.Context, id string) (domain.Conference, error) {
	var row conferenceRow
	if err := r.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return domain.Conference{}, translate(err)
	}
	return row.domain(), nil
}

// ListByTeam implements domain.Conferences.
func (r *Conferences) ListByTeam(ctx context.Context, teamID string, p domain.Page) ([]domain.Conference, error) {
	q := r.db.WithContext(ctx).Where("team_id = ?", teamID)
	if p.After != "" {
		var after conferenceRow
		if err := r.db.WithContext(ctx).Select("starts_at", "id").
			Where("id = ? AND team_id = ?", p.After, teamID).Take(&after).Error; err != nil {
			return nil, translate(err)
		}
		q = q.Where("starts_at > ? OR (starts_at = ? AND id > ?)", after.StartsAt, after.StartsAt, after.ID)
	}
	var rows []conferenceRow
	if err := q.Order("starts_at, id").Limit(p.Limit).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.Conference, len(rows))
	for i, row := range rows {
		out[i] = row.domain()
	}
	return out, nil
}

// Update implements domain.Conferences.
func (r *Conferences) Update(ctx context.Context, id string, fn func(*domain.Conference) error) (domain.Conference, error) {
	var out domain.Conference
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx
		if db.IsPostgres(tx) {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var row conferenceRow
		if err := q.Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		c := row.domain()
		if err := fn(&c); err != nil {
			return err
		}
		next := toRow(c)
		next.CreateKey = row.CreateKey
		if err := tx.Save(&next).Error; err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return domain.Conference{}, translate(err)
	}
	return out, nil
}

// Delete implements domain.Conferences.
func (r *Conferences) Delete(ctx context.Context, id string) error {
	res := r.db.WithContext(ctx).Where("id = ?", id).Delete(&conferenceRow{})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.ErrNotFound
	}
	return nil
}

// DeleteByTeam implements domain.Conferences.
func (r *Conferences) DeleteByTeam(ctx context.Context, teamID string) ([]string, error) {
	var ids []string
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&conferenceRow{}).Where("team_id = ?", teamID).Pluck("id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		// Hosts go by ON DELETE CASCADE; deleting them explicitly as well keeps SQLite
		// databases opened without foreign keys clean.
		if err := tx.Where("conference_id IN ?", ids).Delete(&hostRow{}).Error; err != nil {
			return err
		}
		return tx.Where("id IN ?", ids).Delete(&conferenceRow{}).Error
	})
	if err != nil {
		return nil, translate(err)
	}
	return ids, nil
}

// IsHost implements domain.Conferences.
func (r *Conferences) IsHost(ctx context.Context, conferenceID, userID string) (bool, error) {
	var n int64
	err := r.db.WithContext(ctx).Model(&hostRow{}).
		Where("conference_id = ? AND user_id = ?", conferenceID, userID).Count(&n).Error
	return n > 0, translate(err)
}

// SetRole implements domain.Conferences.
func (r *Conferences) SetRole(ctx context.Context, conferenceID, userID string, role domain.Role) error {
	q := r.db.WithContext(ctx)
	if role == domain.RoleHost {
		// Promoting twice (a retried frame) leaves one row.
		return translate(q.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&hostRow{ConferenceID: conferenceID, UserID: userID, CreatedAt: time.Now().UTC()}).Error)
	}
	return translate(q.Where("conference_id = ? AND user_id = ?", conferenceID, userID).Delete(&hostRow{}).Error)
}

// SetRoomState implements domain.Conferences. An ended conference stays ended: a late
// report from a room that is closing must not bring it back to live.
func (r *Conferences) SetRoomState(ctx context.Context, conferenceID string, status domain.Status, participants int) error {
	res := r.db.WithContext(ctx).Model(&conferenceRow{}).
		Where("id = ? AND status <> ?", conferenceID, string(domain.StatusEnded)).
		Updates(map[string]any{"status": string(status), "participant_count": participants})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		var n int64
		if err := r.db.WithContext(ctx).Model(&conferenceRow{}).Where("id = ?", conferenceID).Count(&n).Error; err != nil {
			return translate(err)
		}
		if n == 0 {
			return domain.ErrNotFound
		}
	}
	return nil
}

// ListLive implements domain.Conferences.
func (r *Conferences) ListLive(ctx context.Context, after string, limit int) ([]string, error) {
	var ids []string
	err := r.db.WithContext(ctx).Model(&conferenceRow{}).
		Where("status = ? AND id > ?", string(domain.StatusLive), after).
		Order("id").Limit(limit).Pluck("id", &ids).Error
	return ids, translate(err)
}
