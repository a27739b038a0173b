package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/convene/convene/chats-svc/internal/domain"
	"github.com/convene/convene/platform/cache"
)

// MembershipTTL bounds how long a cached membership list may outlive a change whose
// invalidation raced with a reader (a reader that loaded the old list before the change
// committed and stored it after the invalidation). Every change deletes the keys it
// affects, so in the ordinary case answers are fresh at once.
const MembershipTTL = time.Minute

// CachedRepository is a domain.Repository whose membership reads (the hot path of
// messages-svc's IsMember, ListMembers and ListUserChats) go through platform/cache, and
// whose membership writes invalidate what they change once committed. The cache is best
// effort: when it fails, the database answers.
type CachedRepository struct {
	domain.Repository
	cache cache.Cache
	log   *slog.Logger
}

// NewCachedRepository wraps repo with the cache.
func NewCachedRepository(repo domain.Repository, c cache.Cache, log *slog.Logger) *CachedRepository {
	return &CachedRepository{Repository: repo, cache: c, log: log}
}

func membersKey(chatID string) string   { return "chats-svc:members:" + chatID }
func userChatsKey(userID string) string { return "chats-svc:user-chats:" + userID }

// ChatMemberIDs implements domain.Repository.
func (c *CachedRepository) ChatMemberIDs(ctx context.Context, chatID string) ([]string, error) {
	return c.cached(ctx, membersKey(chatID), func() ([]string, error) {
		return c.Repository.ChatMemberIDs(ctx, chatID)
	})
}

// UserChatIDs implements domain.Repository.
func (c *CachedRepository) UserChatIDs(ctx context.Context, userID string) ([]string, error) {
	return c.cached(ctx, userChatsKey(userID), func() ([]string, error) {
		return c.Repository.UserChatIDs(ctx, userID)
	})
}

// CreateChat implements domain.Repository.
func (c *CachedRepository) CreateChat(ctx context.Context, roster domain.Roster, events []domain.Event) error {
	if err := c.Repository.CreateChat(ctx, roster, events); err != nil {
		return err
	}
	// The chat is new, but a lookup of its id may have cached "no members" before.
	c.invalidate(ctx, domain.MembershipChange{ChatID: roster.Chat.ID, Added: roster.Members})
	return nil
}

// UpdateRoster implements domain.Repository.
func (c *CachedRepository) UpdateRoster(ctx context.Context, chatID string, update func(*domain.Roster) ([]domain.Event, error)) (domain.MembershipChange, error) {
	change, err := c.Repository.UpdateRoster(ctx, chatID, update)
	if err != nil {
		return change, err
	}
	c.invalidate(ctx, change)
	return change, nil
}

func (c *CachedRepository) cached(ctx context.Context, key string, load func() ([]string, error)) ([]string, error) {
	raw, err := c.cache.Get(ctx, key)
	if err == nil {
		var ids []string
		if json.Unmarshal(raw, &ids) == nil {
			return ids, nil
		}
	} else if !errors.Is(err, cache.ErrMiss) {
		c.log.WarnContext(ctx, "membership cache read failed; using the database", "key", key, "err", err)
	}
	ids, err := load()
	if err != nil {
		return nil, err
	}
	// ids is a []string: marshalling cannot fail.
	raw, _ = json.Marshal(ids)
	if err := c.cache.Set(ctx, key, raw, MembershipTTL); err != nil {
		c.log.WarnContext(ctx, "membership cache write failed", "key", key, "err", err)
	}
	return ids, nil
}

// invalidate drops the cached lists a committed change made stale. It runs with a context
// of its own, so that a client that went away cannot leave a stale entry behind.
func (c *CachedRepository) invalidate(ctx context.Context, change domain.MembershipChange) {
	if len(change.Added) == 0 && len(change.Removed) == 0 {
		return
	}
	keys := []string{membersKey(change.ChatID)}
	for _, id := range change.Added {
		keys = append(keys, userChatsKey(id))
	}
	for _, id := range change.Removed {
		keys = append(keys, userChatsKey(id))
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := c.cache.Delete(dctx, keys...); err != nil {
		c.log.ErrorContext(ctx, "membership cache invalidation failed; entries expire within the TTL", "keys", len(keys), "err", err)
	}
}
