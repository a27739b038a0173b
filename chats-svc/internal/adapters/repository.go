// Package adapters connects chats-svc's domain to the outside: the database (gorm), the
// membership cache (platform/cache), users-svc and messages-svc (gRPC). Each adapter
// translates its failures into domain errors, once.
package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/convene/convene/chats-svc/internal/domain"
	"github.com/convene/convene/platform/db"
)

type chatRow struct {
	ID             string
	Title          string
	CreatedBy      string
	CreatedAt      time.Time
	LastActivityAt time.Time
}

func (chatRow) TableName() string { return "chats" }

type memberRow struct {
	ChatID   string
	UserID   string
	JoinedAt time.Time
}

func (memberRow) TableName() string { return "chat_members" }

type eventRow struct {
	ID            string
	UserIDs       string
	Frame         string
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
}

func (eventRow) TableName() string { return "chat_events" }

// RepositoryParams configures a Repository.
type RepositoryParams struct {
	DB *gorm.DB
	// Now defaults to time.Now.
	Now func() time.Time
}

// Repository is the gorm implementation of domain.Repository and domain.Outbox, on
// Postgres or SQLite.
type Repository struct {
	db       *gorm.DB
	postgres bool
	now      func() time.Time
}

// NewRepository returns a Repository.
func NewRepository(p RepositoryParams) *Repository {
	if p.Now == nil {
		p.Now = time.Now
	}
	return &Repository{db: p.DB, postgres: db.IsPostgres(p.DB), now: p.Now}
}

var (
	_ domain.Repository = (*Repository)(nil)
	_ domain.Outbox     = (*Repository)(nil)
)

// CreateChat implements domain.Repository.
func (r *Repository) CreateChat(ctx context.Context, roster domain.Roster, events []domain.Event) error {
	return r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c := roster.Chat
		row := chatRow{ID: c.ID, Title: c.Title, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt.UTC(), LastActivityAt: c.LastActivityAt.UTC()}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("insert chat: %w", err)
		}
		if err := insertMembers(tx, c.ID, roster.Members, c.CreatedAt); err != nil {
			return err
		}
		return insertEvents(tx, events)
	})
}

// UpdateRoster implements domain.Repository.
func (r *Repository) UpdateRoster(ctx context.Context, chatID string, update func(*domain.Roster) ([]domain.Event, error)) (domain.MembershipChange, error) {
	change := domain.MembershipChange{ChatID: chatID}
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Postgres: the chat's row lock serializes concurrent changes of one chat. SQLite
		// takes the database's write lock when the transaction begins (_txlock=immediate).
		roster, err := r.roster(tx, chatID, r.postgres)
		if err != nil {
			return err
		}
		before := slices.Clone(roster.Members)
		events, err := update(&roster)
		if err != nil {
			return err
		}
		change.Added = missingFrom(roster.Members, before)
		change.Removed = missingFrom(before, roster.Members)
		if err := insertMembers(tx, chatID, change.Added, r.now()); err != nil {
			return err
		}
		if len(change.Removed) > 0 {
			err := tx.Where("chat_id = ? AND user_id IN ?", chatID, change.Removed).Delete(&memberRow{}).Error
			if err != nil {
				return fmt.Errorf("delete members: %w", err)
			}
		}
		return insertEvents(tx, events)
	})
	if err != nil {
		return domain.MembershipChange{}, err
	}
	return change, nil
}

// Roster implements domain.Repository.
func (r *Repository) Roster(ctx context.Context, chatID string) (domain.Roster, error) {
	return r.roster(r.db.WithContext(ctx), chatID, false)
}

func (r *Repository) roster(tx *gorm.DB, chatID string, lock bool) (domain.Roster, error) {
	q := tx.Where("id = ?", chatID)
	if lock {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var c chatRow
	if err := q.Take(&c).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return domain.Roster{}, domain.ErrChatNotFound
		}
		return domain.Roster{}, fmt.Errorf("load chat: %w", err)
	}
	var members []string
	err := tx.Model(&memberRow{}).Where("chat_id = ?", chatID).
		Order("joined_at, user_id").Pluck("user_id", &members).Error
	if err != nil {
		return domain.Roster{}, fmt.Errorf("load members: %w", err)
	}
	return domain.Roster{Chat: c.toDomain(), Members: members}, nil
}

// UserChatsPage implements domain.Repository. The page is read in list order straight from
// the database (chats_last_activity indexes it), so its cost does not grow with how many
// chats the user is in beyond the join.
func (r *Repository) UserChatsPage(ctx context.Context, userID string, after *domain.ChatPosition, limit int) ([]domain.Chat, error) {
	q := r.db.WithContext(ctx).Model(&chatRow{}).
		Joins("JOIN chat_members m ON m.chat_id = chats.id").
		Where("m.user_id = ?", userID)
	if after != nil {
		at := after.LastActivityAt.UTC()
		q = q.Where("chats.last_activity_at < ? OR (chats.last_activity_at = ? AND chats.id < ?)", at, at, after.ChatID)
	}
	var rows []chatRow
	err := q.Order("chats.last_activity_at DESC, chats.id DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list user chats: %w", err)
	}
	out := make([]domain.Chat, len(rows))
	for i, row := range rows {
		out[i] = row.toDomain()
	}
	return out, nil
}

// RecordActivity implements domain.Repository. The update only ever moves a chat's time
// forward, so that batches from several messages-svc instances may interleave and be
// retried in any order.
func (r *Repository) RecordActivity(ctx context.Context, batch []domain.Activity) error {
	if len(batch) == 0 {
		return nil
	}
	var err error
	if r.postgres {
		err = r.recordActivityPostgres(ctx, batch)
	} else {
		err = r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for _, a := range batch {
				at := a.At.UTC()
				err := tx.Exec("UPDATE chats SET last_activity_at = ? WHERE id = ? AND last_activity_at < ?", at, a.ChatID, at).Error
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("record activity: %w", err)
	}
	return nil
}

// recordActivityPostgres applies the whole batch in one statement: two arrays unnested
// into (id, time) rows. They travel as array literals, which is safe because ids are
// canonical UUIDs and times are formatted here (neither holds a comma, brace or quote).
func (r *Repository) recordActivityPostgres(ctx context.Context, batch []domain.Activity) error {
	ids := make([]string, len(batch))
	times := make([]string, len(batch))
	for i, a := range batch {
		ids[i] = a.ChatID
		times[i] = a.At.UTC().Format("2006-01-02 15:04:05.999999")
	}
	return r.db.WithContext(ctx).Exec(`UPDATE chats AS c SET last_activity_at = v.at
		FROM unnest(CAST(? AS text[]), CAST(? AS timestamp[])) AS v(id, at)
		WHERE c.id = v.id AND c.last_activity_at < v.at`,
		"{"+strings.Join(ids, ",")+"}", "{"+strings.Join(times, ",")+"}").Error
}

// ChatMemberIDs implements domain.Repository.
func (r *Repository) ChatMemberIDs(ctx context.Context, chatID string) ([]string, error) {
	ids := []string{}
	err := r.db.WithContext(ctx).Model(&memberRow{}).Where("chat_id = ?", chatID).
		Order("joined_at, user_id").Pluck("user_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return ids, nil
}

// UserChatIDs implements domain.Repository.
func (r *Repository) UserChatIDs(ctx context.Context, userID string) ([]string, error) {
	ids := []string{}
	err := r.db.WithContext(ctx).Model(&memberRow{}).Where("user_id = ?", userID).
		Order("chat_id").Pluck("chat_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("list user chat ids: %w", err)
	}
	return ids, nil
}

func insertMembers(tx *gorm.DB, chatID string, userIDs []string, joined time.Time) error {
	if len(userIDs) == 0 {
		return nil
	}
	rows := make([]memberRow, len(userIDs))
	for i, id := range userIDs {
		rows[i] = memberRow{ChatID: chatID, UserID: id, JoinedAt: joined.UTC().Truncate(time.Microsecond)}
	}
	if err := tx.Create(&rows).Error; err != nil {
		if db.IsUniqueViolation(err) {
			return domain.ErrAlreadyMember
		}
		return fmt.Errorf("insert members: %w", err)
	}
	return nil
}

func insertEvents(tx *gorm.DB, events []domain.Event) error {
	if len(events) == 0 {
		return nil
	}
	rows := make([]eventRow, len(events))
	for i, e := range events {
		users, err := json.Marshal(e.UserIDs)
		if err != nil {
			return err
		}
		rows[i] = eventRow{
			ID:            e.ID,
			UserIDs:       string(users),
			Frame:         string(e.Frame),
			Attempts:      e.Attempts,
			NextAttemptAt: e.NextAttemptAt.UTC(),
			CreatedAt:     e.CreatedAt.UTC(),
		}
	}
	if err := tx.Create(&rows).Error; err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}

// OldestEvent implements domain.Outbox. UUIDv7 ids sort by creation time.
func (r *Repository) OldestEvent(ctx context.Context) (domain.Event, error) {
	var row eventRow
	err := r.db.WithContext(ctx).Order("id").Limit(1).Find(&row).Error
	if err != nil {
		return domain.Event{}, fmt.Errorf("oldest event: %w", err)
	}
	if row.ID == "" {
		return domain.Event{}, domain.ErrNoEvent
	}
	var users []string
	if err := json.Unmarshal([]byte(row.UserIDs), &users); err != nil {
		return domain.Event{}, fmt.Errorf("event %s: user ids: %w", row.ID, err)
	}
	return domain.Event{
		ID:            row.ID,
		UserIDs:       users,
		Frame:         []byte(row.Frame),
		Attempts:      row.Attempts,
		NextAttemptAt: row.NextAttemptAt.UTC(),
		CreatedAt:     row.CreatedAt.UTC(),
	}, nil
}

// ClaimEvent implements domain.Outbox: the attempt count is the row's version, so that of
// two relays that read the same event only one claims it.
func (r *Repository) ClaimEvent(ctx context.Context, ev domain.Event, until time.Time) (bool, error) {
	res := r.db.WithContext(ctx).Model(&eventRow{}).
		Where("id = ? AND attempts = ?", ev.ID, ev.Attempts).
		Updates(map[string]any{"attempts": ev.Attempts + 1, "next_attempt_at": until.UTC()})
	if res.Error != nil {
		return false, fmt.Errorf("claim event: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// DeleteEvent implements domain.Outbox.
func (r *Repository) DeleteEvent(ctx context.Context, id string) error {
	if err := r.db.WithContext(ctx).Where("id = ?", id).Delete(&eventRow{}).Error; err != nil {
		return fmt.Errorf("delete event: %w", err)
	}
	return nil
}

// RescheduleEvent implements domain.Outbox.
func (r *Repository) RescheduleEvent(ctx context.Context, id string, at time.Time) error {
	err := r.db.WithContext(ctx).Model(&eventRow{}).Where("id = ?", id).
		Update("next_attempt_at", at.UTC()).Error
	if err != nil {
		return fmt.Errorf("reschedule event: %w", err)
	}
	return nil
}

func (c chatRow) toDomain() domain.Chat {
	return domain.Chat{ID: c.ID, Title: c.Title, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt.UTC(), LastActivityAt: c.LastActivityAt.UTC()}
}

// missingFrom returns the ids of a that are not in b.
func missingFrom(a, b []string) []string {
	inB := make(map[string]bool, len(b))
	for _, id := range b {
		inB[id] = true
	}
	var out []string
	for _, id := range a {
		if !inB[id] {
			out = append(out, id)
		}
	}
	return out
}
