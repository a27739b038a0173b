package app

import (
	"context"

	"github.com/convene/convene/users-svc/internal/domain"
)

// MaxBatchIDs bounds one GetUsers call.
const MaxBatchIDs = 500

// User returns the account with id; a malformed id is ErrInvalidID without a lookup.
func (a *Application) User(ctx context.Context, id string) (domain.User, error) {
	if !domain.ValidID(id) {
		return domain.User{}, domain.ErrInvalidID
	}
	return a.users.ByID(ctx, id)
}

// Users resolves up to MaxBatchIDs ids; unknown and malformed ids are left out, as none of
// them can name an account.
func (a *Application) Users(ctx context.Context, ids []string) ([]domain.User, error) {
	if len(ids) > MaxBatchIDs {
		return nil, domain.ErrTooManyIDs
	}
	seen := make(map[string]bool, len(ids))
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if domain.ValidID(id) && !seen[id] {
			seen[id] = true
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return []domain.User{}, nil
	}
	return a.users.ByIDs(ctx, valid)
}

// UserByEmail looks an account up by its address, case-insensitively.
func (a *Application) UserByEmail(ctx context.Context, email string) (domain.User, error) {
	normalized, err := domain.NormalizeEmail(email)
	if err != nil {
		return domain.User{}, err
	}
	return a.users.ByEmail(ctx, normalized)
}
