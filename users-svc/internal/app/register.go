package app

import (
	"context"
	"fmt"
	"time"

	"github.com/convene/convene/users-svc/internal/domain"
)

// Register creates an account. Uniqueness is left to the database's unique indexes, so two
// concurrent sign-ups with one email cannot both succeed.
func (a *Application) Register(ctx context.Context, username, email, password string) (domain.User, error) {
	reg, err := domain.NewRegistration(username, email, password)
	if err != nil {
		return domain.User{}, err
	}
	hash, err := a.hasher.Hash(reg.Password)
	if err != nil {
		return domain.User{}, fmt.Errorf("hash password: %w", err)
	}
	id, err := domain.NewID()
	if err != nil {
		return domain.User{}, err
	}
	u := domain.User{
		ID:           id,
		Username:     reg.Username,
		Email:        reg.Email,
		PasswordHash: hash,
		// Microseconds: what Postgres keeps, so that the value read back is the one returned.
		CreatedAt: a.now().Truncate(time.Microsecond),
	}
	if err := a.users.Create(ctx, u); err != nil {
		return domain.User{}, err
	}
	return u, nil
}
