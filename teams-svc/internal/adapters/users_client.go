package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/convene/convene/platform/cache"
	usersv1 "github.com/convene/convene/proto/users/v1"
	"github.com/convene/convene/teams-svc/internal/domain"
)

// UsersClient implements domain.UserDirectory over users-svc's gRPC API. User summaries
// are cached briefly, so that paging through posts by the same authors does not ask
// users-svc every time; a renamed user shows the old name for at most the TTL.
type UsersClient struct {
	client usersv1.UsersServiceClient
	cache  cache.Cache
	ttl    time.Duration
	counts cacheCounters
}

// NewUsersClient wraps a users-svc client; summaries live in c for ttl.
func NewUsersClient(client usersv1.UsersServiceClient, c cache.Cache, ttl time.Duration) *UsersClient {
	return &UsersClient{client: client, cache: c, ttl: ttl, counts: countersFor("user")}
}

var _ domain.UserDirectory = (*UsersClient)(nil)

type cachedUser struct {
	Username string `json:"n"`
	Email    string `json:"e"`
}

func userKey(id string) string { return "teams:v1:user:" + id }

// Users implements domain.UserDirectory: cached summaries first, then one GetUsers call
// for all the rest.
func (u *UsersClient) Users(ctx context.Context, ids []string) (map[string]domain.User, error) {
	out := make(map[string]domain.User, len(ids))
	var missing []string
	for _, id := range ids {
		raw, err := u.cache.Get(ctx, userKey(id))
		var v cachedUser
		if err == nil && json.Unmarshal(raw, &v) == nil {
			u.counts.hit()
			out[id] = domain.User{ID: id, Username: v.Username, Email: v.Email}
			continue
		}
		u.counts.miss()
		missing = append(missing, id)
	}
	if len(missing) == 0 {
		return out, nil
	}
	res, err := u.client.GetUsers(ctx, &usersv1.GetUsersRequest{Ids: missing})
	if err != nil {
		return out, translateUsersError(err)
	}
	for _, pu := range res.GetUsers() {
		user := domain.User{ID: pu.GetId(), Username: pu.GetUsername(), Email: pu.GetEmail()}
		out[user.ID] = user
		if raw, err := json.Marshal(cachedUser{Username: user.Username, Email: user.Email}); err == nil {
			_ = u.cache.Set(ctx, userKey(user.ID), raw, u.ttl)
		}
	}
	return out, nil
}

// UserByEmail implements domain.UserDirectory.
func (u *UsersClient) UserByEmail(ctx context.Context, email string) (domain.User, error) {
	res, err := u.client.GetUserByEmail(ctx, &usersv1.GetUserByEmailRequest{Email: email})
	if err != nil {
		return domain.User{}, translateUsersError(err)
	}
	pu := res.GetUser()
	if pu == nil || pu.GetId() == "" {
		return domain.User{}, domain.ErrUserNotFound
	}
	return domain.User{ID: pu.GetId(), Username: pu.GetUsername(), Email: pu.GetEmail()}, nil
}

// translateUsersError maps users-svc's gRPC status to domain errors: an address it does
// not know (or refuses as malformed) is "no such user"; an outage is ErrUnavailable.
func translateUsersError(err error) error {
	switch status.Code(err) {
	case codes.NotFound, codes.InvalidArgument:
		return domain.ErrUserNotFound
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
		return fmt.Errorf("%w: users-svc: %v", domain.ErrUnavailable, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: users-svc: %v", domain.ErrUnavailable, err)
	}
	return fmt.Errorf("users-svc: %w", err)
}
