package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	usersv1 "github.com/convene/convene/proto/users/v1"
)

func TestGRPC(t *testing.T) {
	t.Parallel()
	in := start(t, nil)
	a := in.register(t, uniqueAccount("grpc_a"))
	b := in.register(t, uniqueAccount("grpc_b"))
	const unknown = "01900000-0000-7000-8000-000000000000"
	ctx := context.Background()

	t.Run("GetUser", func(t *testing.T) {
		res, err := in.users.GetUser(ctx, &usersv1.GetUserRequest{Id: a.id})
		require.NoError(t, err)
		require.Equal(t, a.id, res.GetUser().GetId())
		require.Equal(t, a.username, res.GetUser().GetUsername())
		require.Equal(t, a.email, res.GetUser().GetEmail())
		_, err = time.Parse(time.RFC3339, res.GetUser().GetCreatedAt())
		require.NoError(t, err)

		_, err = in.users.GetUser(ctx, &usersv1.GetUserRequest{Id: unknown})
		require.Equal(t, codes.NotFound, status.Code(err))
		_, err = in.users.GetUser(ctx, &usersv1.GetUserRequest{Id: "nope"})
		require.Equal(t, codes.InvalidArgument, status.Code(err))
	})

	t.Run("GetUsers", func(t *testing.T) {
		res, err := in.users.GetUsers(ctx, &usersv1.GetUsersRequest{Ids: []string{a.id, unknown, b.id, "nope", a.id}})
		require.NoError(t, err)
		var ids []string
		for _, u := range res.GetUsers() {
			ids = append(ids, u.GetId())
		}
		require.ElementsMatch(t, []string{a.id, b.id}, ids, "unknown and malformed ids left out, duplicates once")

		res, err = in.users.GetUsers(ctx, &usersv1.GetUsersRequest{})
		require.NoError(t, err)
		require.Empty(t, res.GetUsers())

		max := make([]string, 500)
		for i := range max {
			max[i] = a.id
		}
		res, err = in.users.GetUsers(ctx, &usersv1.GetUsersRequest{Ids: max})
		require.NoError(t, err)
		require.Len(t, res.GetUsers(), 1)
		_, err = in.users.GetUsers(ctx, &usersv1.GetUsersRequest{Ids: append(max, b.id)})
		require.Equal(t, codes.InvalidArgument, status.Code(err))
	})

	t.Run("GetUserByEmail", func(t *testing.T) {
		res, err := in.users.GetUserByEmail(ctx, &usersv1.GetUserByEmailRequest{Email: strings.ToUpper(b.email)})
		require.NoError(t, err)
		require.Equal(t, b.id, res.GetUser().GetId())
		_, err = in.users.GetUserByEmail(ctx, &usersv1.GetUserByEmailRequest{Email: "nobody@example.com"})
		require.Equal(t, codes.NotFound, status.Code(err))
		_, err = in.users.GetUserByEmail(ctx, &usersv1.GetUserByEmailRequest{Email: "not-an-email"})
		require.Equal(t, codes.InvalidArgument, status.Code(err))
		_, err = in.users.GetUserByEmail(ctx, &usersv1.GetUserByEmailRequest{})
		require.Equal(t, codes.InvalidArgument, status.Code(err))
	})

	t.Run("no identity", func(t *testing.T) {
		conn, err := grpc.NewClient(in.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		defer conn.Close()
		_, err = usersv1.NewUsersServiceClient(conn).GetUser(ctx, &usersv1.GetUserRequest{Id: a.id})
		require.Equal(t, codes.Unauthenticated, status.Code(err))
	})
}
