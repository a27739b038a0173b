package adapters

import (
	"context"

	"gorm.io/gorm"

	"github.com/convene/convene/platform/db"
	"github.com/convene/convene/teams-svc/internal/domain"
)

// CreatePost implements domain.PostRepository.
func (r *Repository) CreatePost(ctx context.Context, p domain.Post, idempotencyKey string) (domain.Post, bool, error) {
	row := postRow{
		ID: p.ID, TeamID: p.TeamID, AuthorID: p.AuthorID, Text: p.Text,
		IdempotencyKey: strPtr(idempotencyKey), CreatedAt: p.CreatedAt,
	}
	err := r.conn(ctx).Create(&row).Error
	switch {
	case err == nil:
		return p, true, nil
	case isForeignKeyViolation(err):
		return domain.Post{}, false, domain.ErrNotFound
	case idempotencyKey != "" && db.IsUniqueViolation(err):
		var first postRow
		err := r.conn(ctx).Where("team_id = ? AND author_id = ? AND idempotency_key = ?", p.TeamID, p.AuthorID, idempotencyKey).
			Take(&first).Error
		if err != nil {
			return domain.Post{}, false, notFound(err)
		}
		return first.domain(), false, nil
	default:
		return domain.Post{}, false, err
	}
}

// Post implements domain.PostRepository.
func (r *Repository) Post(ctx context.Context, teamID, postID string) (domain.Post, error) {
	var row postRow
	if err := r.conn(ctx).Where("id = ? AND team_id = ?", postID, teamID).Take(&row).Error; err != nil {
		return domain.Post{}, notFound(err)
	}
	return row.domain(), nil
}

// Posts implements domain.PostRepository: one indexed range scan on (team_id, id).
func (r *Repository) Posts(ctx context.Context, teamID string, p domain.Page) (domain.Paged[domain.Post], error) {
	q := r.conn(ctx).Where("team_id = ?", teamID)
	if p.Cursor != "" {
		q = q.Where("id < ?", p.Cursor)
	}
	var rows []postRow
	if err := q.Order("id DESC").Limit(p.Limit + 1).Find(&rows).Error; err != nil {
		return domain.Paged[domain.Post]{}, err
	}
	return pageOf(rows, p.Limit, postRow.domain, func(row postRow) string { return row.ID }), nil
}

// UpdatePost implements domain.PostRepository.
func (r *Repository) UpdatePost(ctx context.Context, p domain.Post) error {
	res := r.conn(ctx).Model(&postRow{}).Where("id = ? AND team_id = ?", p.ID, p.TeamID).
		Updates(map[string]any{"text": p.Text, "edited_at": p.EditedAt})
	return affected(res)
}

// DeletePost implements domain.PostRepository; comments go with it (ON DELETE CASCADE).
func (r *Repository) DeletePost(ctx context.Context, teamID, postID string) error {
	return affected(r.conn(ctx).Where("id = ? AND team_id = ?", postID, teamID).Delete(&postRow{}))
}

// CreateComment implements domain.PostRepository. The count is incremented in SQL, in
// the inserting transaction, so that concurrent comments never lose an update.
func (r *Repository) CreateComment(ctx context.Context, c domain.Comment, idempotencyKey string) (domain.Comment, bool, error) {
	err := r.conn(ctx).Transaction(func(tx *gorm.DB) error {
		row := commentRow{
			ID: c.ID, PostID: c.PostID, TeamID: c.TeamID, AuthorID: c.AuthorID, Text: c.Text,
			IdempotencyKey: strPtr(idempotencyKey), CreatedAt: c.CreatedAt,
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return affected(tx.Model(&postRow{}).Where("id = ? AND team_id = ?", c.PostID, c.TeamID).
			Update("comment_count", gorm.Expr("comment_count + 1")))
	})
	switch {
	case err == nil:
		return c, true, nil
	case isForeignKeyViolation(err):
		return domain.Comment{}, false, domain.ErrNotFound
	case idempotencyKey != "" && db.IsUniqueViolation(err):
		var first commentRow
		err := r.conn(ctx).Where("post_id = ? AND team_id = ? AND author_id = ? AND idempotency_key = ?", c.PostID, c.TeamID, c.AuthorID, idempotencyKey).
			Take(&first).Error
		if err != nil {
			return domain.Comment{}, false, notFound(err)
		}
		return first.domain(), false, nil
	default:
		return domain.Comment{}, false, err
	}
}

// Comment implements domain.PostRepository.
func (r *Repository) Comment(ctx context.Context, teamID, postID, commentID string) (domain.Comment, error) {
	var row commentRow
	if err := r.conn(ctx).Where("id = ? AND post_id = ? AND team_id = ?", commentID, postID, teamID).Take(&row).Error; err != nil {
		return domain.Comment{}, notFound(err)
	}
	return row.domain(), nil
}

// Comments implements domain.PostRepository.
func (r *Repository) Comments(ctx context.Context, teamID, postID string, p domain.Page) (domain.Paged[domain.Comment], error) {
	q := r.conn(ctx).Where("post_id = ? AND team_id = ?", postID, teamID)
	if p.Cursor != "" {
		q = q.Where("id > ?", p.Cursor)
	}
	var rows []commentRow
	if err := q.Order("id ASC").Limit(p.Limit + 1).Find(&rows).Error; err != nil {
		return domain.Paged[domain.Comment]{}, err
	}
	return pageOf(rows, p.Limit, commentRow.domain, func(row commentRow) string { return row.ID }), nil
}

// UpdateComment implements domain.PostRepository.
func (r *Repository) UpdateComment(ctx context.Context, c domain.Comment) error {
	res := r.conn(ctx).Model(&commentRow{}).Where("id = ? AND post_id = ? AND team_id = ?", c.ID, c.PostID, c.TeamID).
		Updates(map[string]any{"text": c.Text, "edited_at": c.EditedAt})
	return affected(res)
}

// DeleteComment implements domain.PostRepository. The count is decremented only when
// this call deleted the row, so that two concurrent deletes of one comment count once.
func (r *Repository) DeleteComment(ctx context.Context, teamID, postID, commentID string) error {
	return r.conn(ctx).Transaction(func(tx *gorm.DB) error {
		if err := affected(tx.Where("id = ? AND post_id = ? AND team_id = ?", commentID, postID, teamID).Delete(&commentRow{})); err != nil {
			return err
		}
		return tx.Model(&postRow{}).Where("id = ?", postID).Update("comment_count", gorm.Expr("comment_count - 1")).Error
	})
}

// affected turns "no row matched" into domain.ErrNotFound.
func affected(res *gorm.DB) error {
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return domain.ErrNotFound
	}
	return nil
}
