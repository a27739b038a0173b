package app

import (
	"context"
	"errors"

	"github.com/convene/convene/users-svc/internal/domain"
)

// MaintainSigningKeys creates the key of the current rotation window when it is missing,
// deletes keys no live token can carry, and reloads this instance's copy of the ring. Every
// instance runs it at start and then periodically; the unique slot makes the ones that race
// agree on a single new key.
func (a *Application) MaintainSigningKeys(ctx context.Context) error {
	now := a.now()
	ring, err := a.loadRing(ctx)
	if err != nil {
		return err
	}
	if ring.NeedsKey(now) {
		k, err := domain.NewSigningKey(a.policy.Keys.Slot(now), now)
		if err != nil {
			return err
		}
		switch err := a.signingKeys.Create(ctx, k); {
		case err == nil:
			a.log.InfoContext(ctx, "signing key created", "kid", k.ID, "slot", k.Slot)
		case errors.Is(err, domain.ErrKeySlotTaken):
		default:
			return err
		}
		if ring, err = a.loadRing(ctx); err != nil {
			return err
		}
	}
	if retired := ring.Retired(now); len(retired) > 0 {
		if err := a.signingKeys.Delete(ctx, retired); err != nil {
			return err
		}
	}
	a.ringMu.Lock()
	a.ring = ring
	a.ringMu.Unlock()
	return nil
}

// PublishedKeys are the keys verifiers need now. They are read from the database on every
// call, not from this instance's copy, so that a key another instance just created is
// published by every instance at once.
func (a *Application) PublishedKeys(ctx context.Context) ([]domain.SigningKey, error) {
	ring, err := a.loadRing(ctx)
	if err != nil {
		return nil, err
	}
	return ring.Published(a.now()), nil
}

func (a *Application) loadRing(ctx context.Context) (domain.KeyRing, error) {
	keys, err := a.signingKeys.List(ctx)
	if err != nil {
		return domain.KeyRing{}, err
	}
	return domain.NewKeyRing(a.policy.Keys, keys), nil
}

func (a *Application) currentKey() (domain.SigningKey, error) {
	a.ringMu.RLock()
	defer a.ringMu.RUnlock()
	return a.ring.Signer()
}
