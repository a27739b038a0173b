package adapters

import (
	"context"
	"time"

	"github.com/convene/convene/platform/cache"
	usersv1 "github.com/convene/convene/proto/users/v1"
)

// usernameTTL: usernames cannot change through the API, so a long TTL only bounds how long
// a removed account keeps its name here.
const usernameTTL = 10 * time.Minute

// UsersClient is domain.UserDirectory over users-svc's batched GetUsers, with the answers
// cached in process.
type UsersClient struct {
	c     usersv1.UsersServiceClient
	cache cache.Cache
}

// NewUsersClient wraps a users.v1 client with a cache.
func NewUsersClient(c usersv1.UsersServiceClient, cache cache.Cache) *UsersClient {
	return &UsersClient{c: c, cache: cache}
}

// Usernames implements domain.UserDirectory: cached names, and one GetUsers call for the rest.
func (u *UsersClient) Usernames(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	var missing []string
	for _, id := range ids {
		if v, err := u.cache.Get(ctx, "username:"+id); err == nil {
			out[id] = string(v)
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	resp, err := u.c.GetUsers(ctx, &usersv1.GetUsersRequest{Ids: missing})
	if err != nil {
		return out, rpcError("users-svc", err)
	}
	for _, user := range resp.GetUsers() {
		out[user.GetId()] = user.GetUsername()
		_ = u.cache.Set(ctx, "username:"+user.GetId(), []byte(user.GetUsername()), usernameTTL)
	}
	return out, nil
}
