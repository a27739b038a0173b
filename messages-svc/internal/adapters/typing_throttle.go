package adapters

import (
	"context"
	"time"

	"github.com/convene/convene/platform/ratelimit"
)

// typingLimit lets one typing notice per user and chat out every 2 seconds, across every
// instance (the limiter is shared through Redis when configured).
var typingLimit = ratelimit.Limit{Rate: 1, Burst: 1, Period: 2 * time.Second}

// TypingThrottle is domain.TypingThrottle on the platform rate limiter.
type TypingThrottle struct{ l ratelimit.Limiter }

// NewTypingThrottle wraps a limiter.
func NewTypingThrottle(l ratelimit.Limiter) *TypingThrottle { return &TypingThrottle{l: l} }

// AllowTyping implements domain.TypingThrottle.
func (t *TypingThrottle) AllowTyping(ctx context.Context, userID, chatID string) (bool, error) {
	res, err := t.l.Allow(ctx, "typing:"+userID+":"+chatID, typingLimit)
	if err != nil {
		return false, err
	}
	return res.Allowed, nil
}
