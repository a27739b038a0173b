package adapters

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/convene/convene/platform/db"
	"github.com/convene/convene/teams-svc/internal/domain"
)

// CreateTeam implements domain.TeamRepository.
func (r *Repository) CreateTeam(ctx context.Context, t domain.Team, admin domain.Membership) error {
	err := r.conn(ctx).Transaction(func(tx *gorm.DB) error {
		row := teamRowOf(t)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		m := membershipRowOf(admin)
		return tx.Create(&m).Error
	})
	if db.IsUniqueViolation(err) {
		return domain.ErrJoinCodeTaken
	}
	return err
}

// Team implements domain.TeamRepository.
func (r *Repository) Team(ctx context.Context, teamID string) (domain.Team, error) {
	var row teamRow
	if err := r.conn(ctx).Where("id = ?", teamID).Take(&row).Error; err != nil {
		return domain.Team{}, notFound(err)
	}
	return row.domain(), nil
}

// UpdateTeam implements domain.TeamRepository.
func (r *Repository) UpdateTeam(ctx context.Context, t domain.Team) error {
	res := r.conn(ctx).Model(&teamRow{}).Where("id = ?", t.ID).
		Updates(map[string]any{"name": t.Name, "description": t.Description})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return domain.ErrNotFound
	}
	return nil
}

// SetJoinCode implements domain.TeamRepository.
func (r *Repository) SetJoinCode(ctx context.Context, teamID, code string) error {
	res := r.conn(ctx).Model(&teamRow{}).Where("id = ?", teamID).Update("join_code", code)
	if db.IsUniqueViolation(res.Error) {
		return domain.ErrJoinCodeTaken
	}
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return domain.ErrNotFound
	}
	return nil
}

// TeamByJoinCode implements domain.TeamRepository.
func (r *Repository) TeamByJoinCode(ctx context.Context, code string) (domain.Team, error) {
	var row teamRow
	if err := r.conn(ctx).Where("join_code = ?", code).Take(&row).Error; err != nil {
		return domain.Team{}, notFound(err)
	}
	return row.domain(), nil
}

// DeleteTeam implements domain.TeamRepository. Posts, comments, requests and
// memberships go with the team through ON DELETE CASCADE.
func (r *Repository) DeleteTeam(ctx context.Context, teamID string, ev domain.OutboxEvent) ([]string, error) {
	var members []string
	err := r.conn(ctx).Transaction(func(tx *gorm.DB) error {
		if err := r.lockTeam(tx, teamID); err != nil {
			return err
		}
		if err := tx.Model(&membershipRow{}).Where("team_id = ?", teamID).Pluck("user_id", &members).Error; err != nil {
			return err
		}
		if err := tx.Where("id = ?", teamID).Delete(&teamRow{}).Error; err != nil {
			return err
		}
		row := outboxRow{ID: ev.ID, Topic: ev.Topic, EventKey: ev.Key, NextAttemptAt: ev.NextAttemptAt, CreatedAt: ev.CreatedAt}
		return tx.Create(&row).Error
	})
	if err != nil {
		return nil, err
	}
	return members, nil
}

// TeamsOf implements domain.TeamRepository.
func (r *Repository) TeamsOf(ctx context.Context, userID string, p domain.Page) (domain.Paged[domain.TeamMembership], error) {
	var rows []struct {
		TeamID       string
		Name         string
		Description  string
		JoinCode     string
		CreatedAt    time.Time
		MembershipID string
		Role         string
		JoinedAt     time.Time
	}
	q := r.conn(ctx).Table("memberships AS m").
		Select("t.id AS team_id, t.name, t.description, t.join_code, t.created_at, m.id AS membership_id, m.role, m.joined_at").
		Joins("JOIN teams AS t ON t.id = m.team_id").
		Where("m.user_id = ?", userID)
	if p.Cursor != "" {
		q = q.Where("m.team_id < ?", p.Cursor)
	}
	if err := q.Order("m.team_id DESC").Limit(p.Limit + 1).Scan(&rows).Error; err != nil {
		return domain.Paged[domain.TeamMembership]{}, err
	}
	out := domain.Paged[domain.TeamMembership]{Items: make([]domain.TeamMembership, 0, len(rows))}
	if len(rows) > p.Limit {
		rows = rows[:p.Limit]
		out.Next = rows[p.Limit-1].TeamID
	}
	for _, row := range rows {
		t := teamRow{ID: row.TeamID, Name: row.Name, Description: row.Description, JoinCode: row.JoinCode, CreatedAt: row.CreatedAt}.domain()
		out.Items = append(out.Items, domain.TeamMembership{Team: t, Membership: domain.Membership{
			ID: row.MembershipID, TeamID: t.ID, UserID: userID, Role: domain.Role(row.Role), JoinedAt: utc(row.JoinedAt),
		}})
	}
	return out, nil
}

// Membership implements domain.TeamRepository with one query that tells a missing team
// from a missing membership.
func (r *Repository) Membership(ctx context.Context, teamID, userID string) (domain.Membership, error) {
	var rows []struct {
		TeamID string
		ID     *string
		Role   *string
		Joined *time.Time
	}
	err := r.conn(ctx).Table("teams AS t").
		Select("t.id AS team_id, m.id, m.role, m.joined_at AS joined").
		Joins("LEFT JOIN memberships AS m ON m.team_id = t.id AND m.user_id = ?", userID).
		Where("t.id = ?", teamID).Limit(1).Scan(&rows).Error
	if err != nil {
		return domain.Membership{}, err
	}
	if len(rows) == 0 {
		return domain.Membership{}, domain.ErrNotFound
	}
	row := rows[0]
	if row.ID == nil || row.Role == nil || row.Joined == nil {
		return domain.Membership{}, domain.ErrNotMember
	}
	return domain.Membership{ID: *row.ID, TeamID: teamID, UserID: userID, Role: domain.Role(*row.Role), JoinedAt: utc(*row.Joined)}, nil
}

// AllMembers implements domain.TeamRepository.
func (r *Repository) AllMembers(ctx context.Context, teamID string) ([]domain.Membership, error) {
	var rows []membershipRow
	if err := r.conn(ctx).Where("team_id = ?", teamID).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		// A team always has an admin, so no rows means no team — unless it was just
		// created or deleted; ask.
		if _, err := r.Team(ctx, teamID); err != nil {
			return nil, err
		}
	}
	out := make([]domain.Membership, len(rows))
	for i, row := range rows {
		out[i] = row.domain()
	}
	return out, nil
}

// Members implements domain.TeamRepository.
func (r *Repository) Members(ctx context.Context, teamID string, p domain.Page) (domain.Paged[domain.Membership], error) {
	q := r.conn(ctx).Where("team_id = ?", teamID)
	if p.Cursor != "" {
		q = q.Where("id < ?", p.Cursor)
	}
	var rows []membershipRow
	if err := q.Order("id DESC").Limit(p.Limit + 1).Find(&rows).Error; err != nil {
		return domain.Paged[domain.Membership]{}, err
	}
	return pageOf(rows, p.Limit, membershipRow.domain, func(row membershipRow) string { return row.ID }), nil
}

// AddMember implements domain.TeamRepository.
func (r *Repository) AddMember(ctx context.Context, m domain.Membership, decidedBy string) error {
	return r.conn(ctx).Transaction(func(tx *gorm.DB) error {
		row := membershipRowOf(m)
		if err := tx.Create(&row).Error; err != nil {
			return membershipInsertError(err)
		}
		return tx.Model(&requestRow{}).
			Where("team_id = ? AND user_id = ? AND status = ?", m.TeamID, m.UserID, domain.RequestPending).
			Updates(map[string]any{"status": domain.RequestAccepted, "decided_at": m.JoinedAt, "decided_by": decidedBy}).Error
	})
}

func membershipInsertError(err error) error {
	switch {
	case db.IsUniqueViolation(err):
		return domain.ErrAlreadyMember
	case isForeignKeyViolation(err):
		return domain.ErrNotFound
	default:
		return err
	}
}

// ChangeRole implements domain.TeamRepository.
func (r *Repository) ChangeRole(ctx context.Context, teamID, actorID, targetID string, role domain.Role, decide func(domain.RosterChange) error) (domain.Membership, error) {
	var out domain.Membership
	err := r.conn(ctx).Transaction(func(tx *gorm.DB) error {
		change, err := r.rosterChange(tx, teamID, actorID, targetID)
		if err != nil {
			return err
		}
		if err := decide(change); err != nil {
			return err
		}
		if err := tx.Model(&membershipRow{}).Where("id = ?", change.Target.ID).Update("role", string(role)).Error; err != nil {
			return err
		}
		out = *change.Target
		out.Role = role
		return nil
	})
	return out, err
}

// RemoveMember implements domain.TeamRepository.
func (r *Repository) RemoveMember(ctx context.Context, teamID, actorID, targetID string, decide func(domain.RosterChange) error) error {
	return r.conn(ctx).Transaction(func(tx *gorm.DB) error {
		change, err := r.rosterChange(tx, teamID, actorID, targetID)
		if err != nil {
			return err
		}
		if err := decide(change); err != nil {
			return err
		}
		return tx.Where("id = ?", change.Target.ID).Delete(&membershipRow{}).Error
	})
}

// rosterChange reads what a role change or removal is decided on, under the team lock.
func (r *Repository) rosterChange(tx *gorm.DB, teamID, actorID, targetID string) (domain.RosterChange, error) {
	if err := r.lockTeam(tx, teamID); err != nil {
		return domain.RosterChange{}, err
	}
	var rows []membershipRow
	if err := tx.Where("team_id = ? AND user_id IN ?", teamID, []string{actorID, targetID}).Find(&rows).Error; err != nil {
		return domain.RosterChange{}, err
	}
	var admins int64
	if err := tx.Model(&membershipRow{}).Where("team_id = ? AND role = ?", teamID, domain.RoleAdmin).Count(&admins).Error; err != nil {
		return domain.RosterChange{}, err
	}
	change := domain.RosterChange{Admins: int(admins)}
	for _, row := range rows {
		m := row.domain()
		if row.UserID == actorID {
			change.Actor = &m
		}
		if row.UserID == targetID {
			change.Target = &m
		}
	}
	return change, nil
}

// CreateJoinRequest implements domain.TeamRepository.
func (r *Repository) CreateJoinRequest(ctx context.Context, req domain.JoinRequest) error {
	return r.conn(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&membershipRow{}).Where("team_id = ? AND user_id = ?", req.TeamID, req.UserID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return domain.ErrAlreadyMember
		}
		row := requestRow{ID: req.ID, TeamID: req.TeamID, UserID: req.UserID, Status: string(req.Status), CreatedAt: req.CreatedAt}
		err := tx.Create(&row).Error
		switch {
		case db.IsUniqueViolation(err):
			return domain.ErrRequestPending
		case isForeignKeyViolation(err):
			return domain.ErrNotFound
		default:
			return err
		}
	})
}

// PendingRequests implements domain.TeamRepository.
func (r *Repository) PendingRequests(ctx context.Context, teamID string, p domain.Page) (domain.Paged[domain.JoinRequest], error) {
	q := r.conn(ctx).Where("team_id = ? AND status = ?", teamID, domain.RequestPending)
	if p.Cursor != "" {
		q = q.Where("id < ?", p.Cursor)
	}
	var rows []requestRow
	if err := q.Order("id DESC").Limit(p.Limit + 1).Find(&rows).Error; err != nil {
		return domain.Paged[domain.JoinRequest]{}, err
	}
	return pageOf(rows, p.Limit, requestRow.domain, func(row requestRow) string { return row.ID }), nil
}

// AcceptRequest implements domain.TeamRepository. The update is conditional on the
// request still being pending, so that of concurrent accepts (or an accept racing a
// reject) exactly one changes the row; the others see zero rows affected.
func (r *Repository) AcceptRequest(ctx context.Context, teamID, requestID, deciderID string, now time.Time) (domain.JoinRequest, domain.Membership, error) {
	var (
		req domain.JoinRequest
		m   domain.Membership
	)
	err := r.conn(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if req, err = decide(tx, teamID, requestID, deciderID, domain.RequestAccepted, now); err != nil {
			return err
		}
		m = domain.NewMembership(teamID, req.UserID, domain.RoleMember, now)
		row := membershipRowOf(m)
		return membershipInsertError(tx.Create(&row).Error)
	})
	return req, m, err
}

// RejectRequest implements domain.TeamRepository.
func (r *Repository) RejectRequest(ctx context.Context, teamID, requestID, deciderID string, now time.Time) (domain.JoinRequest, error) {
	return decide(r.conn(ctx), teamID, requestID, deciderID, domain.RequestRejected, now)
}

func decide(tx *gorm.DB, teamID, requestID, deciderID string, status domain.RequestStatus, now time.Time) (domain.JoinRequest, error) {
	res := tx.Model(&requestRow{}).
		Where("id = ? AND team_id = ? AND status = ?", requestID, teamID, domain.RequestPending).
		Updates(map[string]any{"status": status, "decided_at": now, "decided_by": deciderID})
	if res.Error != nil {
		return domain.JoinRequest{}, res.Error
	}
	var row requestRow
	if err := tx.Where("id = ? AND team_id = ?", requestID, teamID).Take(&row).Error; err != nil {
		return domain.JoinRequest{}, notFound(err)
	}
	if res.RowsAffected == 0 {
		return domain.JoinRequest{}, domain.ErrRequestNotPending
	}
	return row.domain(), nil
}
