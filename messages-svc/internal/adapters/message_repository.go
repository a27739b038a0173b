// Package adapters implements the domain's interfaces with gorm (Postgres or SQLite),
// gRPC clients of chats-svc and users-svc, the event bus and the rate limiter. Their
// failures leave here as domain errors.
package adapters

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/convene/convene/messages-svc/internal/domain"
	"github.com/convene/convene/platform/db"
)

// inChunk bounds the ids bound in one IN (...) list, below both databases' parameter limits.
const inChunk = 500

type messageRow struct {
	ID          string `gorm:"primaryKey"`
	ChatID      string
	Seq         int64
	SenderID    string
	ClientMsgID string
	Text        string
	Deleted     bool
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
	EditedAt    *time.Time
}

func (messageRow) TableName() string { return "messages" }

func toRow(m domain.Message) messageRow {
	return messageRow{
		ID: m.ID, ChatID: m.ChatID, Seq: m.Seq, SenderID: m.SenderID, ClientMsgID: m.ClientMsgID,
		Text: m.Text, Deleted: m.Deleted, CreatedAt: m.CreatedAt, EditedAt: m.EditedAt,
	}
}

func (r messageRow) toDomain() domain.Message {
	m := domain.Message{
		ID: r.ID, ChatID: r.ChatID, Seq: r.Seq, SenderID: r.SenderID, ClientMsgID: r.ClientMsgID,
		Text: r.Text, Deleted: r.Deleted, CreatedAt: r.CreatedAt.UTC(),
	}
	if r.EditedAt != nil {
		t := r.EditedAt.UTC()
		m.EditedAt = &t
	}
	return m
}

type readRow struct {
	ChatID      string
	UserID      string
	LastReadSeq int64
}

// MessageRepository is domain.MessageRepository on gorm.
type MessageRepository struct {
	db       *gorm.DB
	postgres bool
}

// NewMessageRepository returns the repository over an opened, migrated database.
func NewMessageRepository(gdb *gorm.DB) *MessageRepository {
	return &MessageRepository{db: gdb, postgres: db.IsPostgres(gdb)}
}

// Create implements domain.MessageRepository.
func (r *MessageRepository) Create(ctx context.Context, m domain.Message) (domain.Message, bool, error) {
	var err error
	if r.postgres {
		err = r.createPostgres(ctx, &m)
	} else {
		// SQLite has one writer: the common retry finds its original without waiting for
		// the write lock.
		if existing, ferr := r.byClientMsgID(ctx, m); !errors.Is(ferr, domain.ErrNotFound) {
			return existing, false, ferr
		}
		err = r.createSQLite(ctx, &m)
	}
	if db.IsUniqueViolation(err) {
		// The sender sent this client_msg_id before, or a concurrent retry of it committed
		// first: answer with the original.
		existing, ferr := r.byClientMsgID(ctx, m)
		return existing, false, ferr
	}
	if err != nil {
		return domain.Message{}, false, translate(err)
	}
	return m, true, nil
}

// createPostgres stores m in one statement, one round trip: the counter upsert takes the
// chat's row lock (held until the statement commits, so that concurrent senders on every
// instance are ordered) and hands its seq to the insert. A duplicate client_msg_id fails
// the whole statement, counter increment included, so that no seq is skipped; ON CONFLICT
// DO NOTHING would commit the increment without a message and leave a gap.
func (r *MessageRepository) createPostgres(ctx context.Context, m *domain.Message) error {
	var seq int64
	err := r.db.WithContext(ctx).Raw(`WITH c AS (
			INSERT INTO chat_counters (chat_id, last_seq) VALUES (?, 1)
			ON CONFLICT (chat_id) DO UPDATE SET last_seq = chat_counters.last_seq + 1
			RETURNING last_seq
		)
		INSERT INTO messages (id, chat_id, seq, sender_id, client_msg_id, text, deleted, created_at)
		SELECT ?, ?, c.last_seq, ?, ?, ?, FALSE, ? FROM c
		RETURNING seq`,
		m.ChatID, m.ID, m.ChatID, m.SenderID, m.ClientMsgID, m.Text, m.CreatedAt).Scan(&seq).Error
	m.Seq = seq
	// gorm translates driver errors for its own CRUD calls only; a raw statement's unique
	// violation is translated here, so that Create recognises it.
	if t, ok := r.db.Dialector.(gorm.ErrorTranslator); ok && err != nil {
		err = t.Translate(err)
	}
	return err
}

// createSQLite is the embedded path (SQLite has no data-modifying CTEs): the counter and
// the insert share one transaction, which the database's single writer orders.
func (r *MessageRepository) createSQLite(ctx context.Context, m *domain.Message) error {
	return r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var seq int64
		err := tx.Raw(`INSERT INTO chat_counters (chat_id, last_seq) VALUES (?, 1)
			ON CONFLICT (chat_id) DO UPDATE SET last_seq = chat_counters.last_seq + 1
			RETURNING last_seq`, m.ChatID).Scan(&seq).Error
		if err != nil {
			return err
		}
		m.Seq = seq
		row := toRow(*m)
		return tx.Create(&row).Error
	})
}

func (r *MessageRepository) byClientMsgID(ctx context.Context, m domain.Message) (domain.Message, error) {
	var row messageRow
	err := r.db.WithContext(ctx).
		Where("chat_id = ? AND sender_id = ? AND client_msg_id = ?", m.ChatID, m.SenderID, m.ClientMsgID).
		Take(&row).Error
	if err != nil {
		return domain.Message{}, translate(err)
	}
	return row.toDomain(), nil
}

// Get implements domain.MessageRepository.
func (r *MessageRepository) Get(ctx context.Context, chatID, id string) (domain.Message, error) {
	var row messageRow
	if err := r.db.WithContext(ctx).Where("id = ? AND chat_id = ?", id, chatID).Take(&row).Error; err != nil {
		return domain.Message{}, translate(err)
	}
	return row.toDomain(), nil
}

// Update implements domain.MessageRepository.
func (r *MessageRepository) Update(ctx context.Context, chatID, id string, change func(*domain.Message) error) (domain.Message, error) {
	var out domain.Message
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Where("id = ? AND chat_id = ?", id, chatID)
		if r.postgres {
			// SQLite's write transactions are exclusive already; Postgres needs the row lock
			// so that an edit racing a delete cannot bring the text back.
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var row messageRow
		if err := q.Take(&row).Error; err != nil {
			return err
		}
		m := row.toDomain()
		if err := change(&m); err != nil {
			return err
		}
		res := tx.Model(&messageRow{}).Where("id = ?", id).Updates(map[string]any{
			"text": m.Text, "deleted": m.Deleted, "edited_at": m.EditedAt,
		})
		if res.Error != nil {
			return res.Error
		}
		out = m
		return nil
	})
	if err != nil {
		return domain.Message{}, translate(err)
	}
	return out, nil
}

// List implements domain.MessageRepository.
func (r *MessageRepository) List(ctx context.Context, chatID string, q domain.HistoryQuery) ([]domain.Message, error) {
	tx := r.db.WithContext(ctx).Where("chat_id = ?", chatID).Limit(q.Limit)
	switch {
	case q.Ascending:
		tx = tx.Where("seq > ?", q.AfterSeq).Order("seq ASC")
	case q.BeforeSeq > 0:
		tx = tx.Where("seq < ?", q.BeforeSeq).Order("seq DESC")
	default:
		tx = tx.Order("seq DESC")
	}
	var rows []messageRow
	if err := tx.Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.Message, len(rows))
	for i, row := range rows {
		out[i] = row.toDomain()
	}
	return out, nil
}

// LastSeqs implements domain.MessageRepository.
func (r *MessageRepository) LastSeqs(ctx context.Context, chatIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(chatIDs))
	for ids := range slices.Chunk(chatIDs, inChunk) {
		var rows []struct {
			ChatID  string
			LastSeq int64
		}
		err := r.db.WithContext(ctx).Table("chat_counters").Select("chat_id, last_seq").
			Where("chat_id IN ?", ids).Scan(&rows).Error
		if err != nil {
			return nil, translate(err)
		}
		for _, row := range rows {
			out[row.ChatID] = row.LastSeq
		}
	}
	return out, nil
}

// ReadPositions implements domain.MessageRepository.
func (r *MessageRepository) ReadPositions(ctx context.Context, chatID string) ([]domain.ReadPosition, error) {
	var rows []readRow
	err := r.db.WithContext(ctx).Table("read_positions").Select("chat_id, user_id, last_read_seq").
		Where("chat_id = ?", chatID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	out := make([]domain.ReadPosition, len(rows))
	for i, row := range rows {
		out[i] = domain.ReadPosition{ChatID: row.ChatID, UserID: row.UserID, LastReadSeq: row.LastReadSeq}
	}
	return out, nil
}

// MarkRead implements domain.MessageRepository. The conditional upsert makes "never
// backwards" hold even when two devices of one user report reads at the same time.
func (r *MessageRepository) MarkRead(ctx context.Context, p domain.ReadPosition) (bool, error) {
	res := r.db.WithContext(ctx).Exec(`INSERT INTO read_positions (chat_id, user_id, last_read_seq, updated_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (chat_id, user_id) DO UPDATE
		SET last_read_seq = excluded.last_read_seq, updated_at = excluded.updated_at
		WHERE read_positions.last_read_seq < excluded.last_read_seq`,
		p.ChatID, p.UserID, p.LastReadSeq, domain.Timestamp(time.Now()))
	if res.Error != nil {
		return false, translate(res.Error)
	}
	return res.RowsAffected > 0, nil
}

// Summaries implements domain.MessageRepository with two indexed queries per chunk of
// chats: the last message through the counter row, and the unread count as a range scan of
// (chat_id, seq) after the read position.
func (r *MessageRepository) Summaries(ctx context.Context, userID string, chatIDs []string) ([]domain.ChatSummary, error) {
	last := map[string]domain.Message{}
	unread := map[string]int64{}
	for ids := range slices.Chunk(chatIDs, inChunk) {
		var rows []messageRow
		err := r.db.WithContext(ctx).Table("messages AS m").Select("m.*").
			Joins("JOIN chat_counters c ON c.chat_id = m.chat_id AND c.last_seq = m.seq").
			Where("c.chat_id IN ?", ids).Scan(&rows).Error
		if err != nil {
			return nil, translate(err)
		}
		for _, row := range rows {
			last[row.ChatID] = row.toDomain()
		}
		var counts []struct {
			ChatID string
			N      int64
		}
		err = r.db.WithContext(ctx).Table("messages AS m").Select("m.chat_id AS chat_id, COUNT(*) AS n").
			Joins("LEFT JOIN read_positions r ON r.chat_id = m.chat_id AND r.user_id = ?", userID).
			Where("m.chat_id IN ? AND m.seq > COALESCE(r.last_read_seq, 0) AND m.sender_id <> ? AND m.deleted = ?", ids, userID, false).
			Group("m.chat_id").Scan(&counts).Error
		if err != nil {
			return nil, translate(err)
		}
		for _, c := range counts {
			unread[c.ChatID] = c.N
		}
	}
	out := make([]domain.ChatSummary, len(chatIDs))
	for i, id := range chatIDs {
		out[i] = domain.ChatSummary{ChatID: id, UnreadCount: unread[id]}
		if m, ok := last[id]; ok {
			out[i].LastMessage = &m
		}
	}
	return out, nil
}

// translate turns storage failures into domain errors: a missing row is ErrNotFound, an
// unreachable or overloaded database is ErrUnavailable (503); anything else stays an
// internal error.
func translate(err error) error {
	var netErr net.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return domain.ErrNotFound
	case errors.Is(err, domain.ErrForbidden), errors.Is(err, domain.ErrMessageDeleted):
		return err
	case errors.As(err, new(*domain.ValidationError)):
		return err
	case errors.As(err, &netErr), errors.Is(err, driver.ErrBadConn), errors.Is(err, context.DeadlineExceeded),
		strings.Contains(err.Error(), "database is locked"), strings.Contains(err.Error(), "failed to connect"):
		return fmt.Errorf("%w: database: %v", domain.ErrUnavailable, err)
	default:
		return err
	}
}
