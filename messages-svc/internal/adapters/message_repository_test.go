package adapters_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/convene/convene/messages-svc/internal/adapters"
	"github.com/convene/convene/messages-svc/internal/domain"
	"github.com/convene/convene/messages-svc/migrations"
	"github.com/convene/convene/platform/db"
	"github.com/convene/convene/platform/testkit"
)

// backends opens a fresh, migrated database of each kind the service runs on; every test
// of the suite runs the same assertions on both.
func backends(t *testing.T) map[string]func(t *testing.T) *gorm.DB {
	return map[string]func(t *testing.T) *gorm.DB{
		"postgres": func(t *testing.T) *gorm.DB {
			return open(t, db.Params{URL: testkit.NewPostgresDB(t), Migrations: migrations.FS})
		},
		"sqlite": func(t *testing.T) *gorm.DB {
			return open(t, db.Params{SQLitePath: filepath.Join(t.TempDir(), "m.db"), Migrations: migrations.FS})
		},
	}
}

func open(t *testing.T, p db.Params) *gorm.DB {
	t.Helper()
	gdb, err := db.Open(context.Background(), p)
	require.NoError(t, err)
	t.Cleanup(func() {
		if s, err := gdb.DB(); err == nil {
			s.Close()
		}
	})
	return gdb
}

func newMessage(t *testing.T, chat, sender, clientID string) domain.Message {
	t.Helper()
	id, err := domain.NewID()
	require.NoError(t, err)
	m, err := domain.NewMessage(domain.NewMessageParams{ID: id, ChatID: chat, SenderID: sender, Text: "hello " + clientID, ClientMsgID: clientID, Now: time.Now()})
	require.NoError(t, err)
	return m
}

func ids(t *testing.T, n int) []string {
	out := make([]string, n)
	for i := range out {
		id, err := domain.NewID()
		require.NoError(t, err)
		out[i] = id
	}
	return out
}

// statementCounter is a gorm logger that counts the SQL statements a session sends.
type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) LogMode(logger.LogLevel) logger.Interface { return c }
func (c *statementCounter) Info(context.Context, string, ...any)     {}
func (c *statementCounter) Warn(context.Context, string, ...any)     {}
func (c *statementCounter) Error(context.Context, string, ...any)    {}
func (c *statementCounter) Trace(context.Context, time.Time, func() (string, int64), error) {
	c.n.Add(1)
}

// sendStatements is how many statements a send costs (transaction control not counted):
// one on Postgres; on SQLite a lookup for a retry, the counter and the insert.
var sendStatements = map[string]int64{"postgres": 1, "sqlite": 3}

func TestMessageRepository(t *testing.T) {
	for name, openDB := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("a send costs as few statements as the database allows", func(t *testing.T) {
				counter := &statementCounter{}
				gdb := openDB(t).Session(&gorm.Session{Logger: counter})
				repo := adapters.NewMessageRepository(gdb)
				u := ids(t, 2)
				for i := range 3 {
					before := counter.n.Load()
					_, created, err := repo.Create(context.Background(), newMessage(t, u[0], u[1], fmt.Sprint(i)))
					require.NoError(t, err)
					require.True(t, created)
					require.Equal(t, sendStatements[name], counter.n.Load()-before, "send %d", i)
				}
			})

			t.Run("create assigns gap-free seqs per chat and is idempotent", func(t *testing.T) {
				repo := adapters.NewMessageRepository(openDB(t))
				ctx := context.Background()
				u := ids(t, 4)
				chatA, chatB, alice, bob := u[0], u[1], u[2], u[3]
				for i, tc := range []struct {
					chat, sender, client string
					seq                  int64
					created              bool
				}{
					{chatA, alice, "a1", 1, true},
					{chatA, bob, "b1", 2, true},
					{chatB, alice, "a1", 1, true},
					{chatA, alice, "a1", 1, false}, // retry: the original
					{chatA, bob, "a1", 3, true},    // same client id, other sender
					{chatA, alice, "a2", 4, true},
				} {
					got, created, err := repo.Create(ctx, newMessage(t, tc.chat, tc.sender, tc.client))
					require.NoError(t, err, i)
					require.Equal(t, tc.seq, got.Seq, i)
					require.Equal(t, tc.created, created, i)
				}
				last, err := repo.LastSeqs(ctx, []string{chatA, chatB, alice})
				require.NoError(t, err)
				require.Equal(t, map[string]int64{chatA: 4, chatB: 1}, last)
			})

			t.Run("concurrent senders and retries get gap-free seqs and no duplicate", func(t *testing.T) {
				repo := adapters.NewMessageRepository(openDB(t))
				ctx := context.Background()
				u := ids(t, 1)
				chat := u[0]
				const senders, each = 8, 25
				var wg sync.WaitGroup
				errs := make(chan error, senders*each*2)
				for s := range senders {
					sender := ids(t, 1)[0]
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range each {
							m := newMessage(t, chat, sender, fmt.Sprintf("c%d-%d", s, i))
							// Every message is sent twice at once: a retry racing its original.
							var inner sync.WaitGroup
							for range 2 {
								inner.Add(1)
								go func() {
									defer inner.Done()
									if _, _, err := repo.Create(ctx, m); err != nil {
										errs <- err
									}
								}()
							}
							inner.Wait()
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					require.NoError(t, err)
				}
				page, err := repo.List(ctx, chat, domain.HistoryQuery{Ascending: true, Limit: 1000})
				require.NoError(t, err)
				require.Len(t, page, senders*each)
				for i, m := range page {
					require.Equal(t, int64(i+1), m.Seq)
				}
			})

			t.Run("history pages ascending and descending", func(t *testing.T) {
				repo := adapters.NewMessageRepository(openDB(t))
				ctx := context.Background()
				u := ids(t, 2)
				chat, alice := u[0], u[1]
				for i := range 10 {
					_, _, err := repo.Create(ctx, newMessage(t, chat, alice, fmt.Sprint(i)))
					require.NoError(t, err)
				}
				for _, tc := range []struct {
					name string
					q    domain.HistoryQuery
					want []int64
				}{
					{"after 0", domain.HistoryQuery{Ascending: true, AfterSeq: 0, Limit: 3}, []int64{1, 2, 3}},
					{"after 8", domain.HistoryQuery{Ascending: true, AfterSeq: 8, Limit: 3}, []int64{9, 10}},
					{"after end", domain.HistoryQuery{Ascending: true, AfterSeq: 10, Limit: 3}, []int64{}},
					{"newest", domain.HistoryQuery{Limit: 3}, []int64{10, 9, 8}},
					{"before 3", domain.HistoryQuery{BeforeSeq: 3, Limit: 5}, []int64{2, 1}},
				} {
					page, err := repo.List(ctx, chat, tc.q)
					require.NoError(t, err, tc.name)
					got := []int64{}
					for _, m := range page {
						got = append(got, m.Seq)
					}
					require.Equal(t, tc.want, got, tc.name)
				}
			})

			t.Run("update edits and deletes under the change's rules", func(t *testing.T) {
				repo := adapters.NewMessageRepository(openDB(t))
				ctx := context.Background()
				u := ids(t, 3)
				chat, alice, bob := u[0], u[1], u[2]
				m, _, err := repo.Create(ctx, newMessage(t, chat, alice, "x"))
				require.NoError(t, err)

				now := time.Now()
				edited, err := repo.Update(ctx, chat, m.ID, func(m *domain.Message) error { return m.Edit(alice, "new", now) })
				require.NoError(t, err)
				require.Equal(t, "new", edited.Text)
				got, err := repo.Get(ctx, chat, m.ID)
				require.NoError(t, err)
				require.Equal(t, edited, got)
				require.Equal(t, domain.Timestamp(now), *got.EditedAt)
				require.Equal(t, m.CreatedAt, got.CreatedAt)

				_, err = repo.Update(ctx, chat, m.ID, func(m *domain.Message) error { return m.Edit(bob, "hijack", now) })
				require.ErrorIs(t, err, domain.ErrForbidden)
				_, err = repo.Update(ctx, u[1], m.ID, func(m *domain.Message) error { return nil })
				require.ErrorIs(t, err, domain.ErrNotFound, "a message looked up in another chat")

				_, err = repo.Update(ctx, chat, m.ID, func(m *domain.Message) error { return m.Delete(alice) })
				require.NoError(t, err)
				got, err = repo.Get(ctx, chat, m.ID)
				require.NoError(t, err)
				require.True(t, got.Deleted)
				require.Empty(t, got.Text)
				require.Equal(t, int64(1), got.Seq)
			})

			t.Run("read positions never move back; summaries count others' unread", func(t *testing.T) {
				repo := adapters.NewMessageRepository(openDB(t))
				ctx := context.Background()
				u := ids(t, 5)
				chat, empty, alice, bob, unknown := u[0], u[1], u[2], u[3], u[4]
				for i := range 5 {
					sender := alice
					if i%2 == 1 {
						sender = bob
					}
					_, _, err := repo.Create(ctx, newMessage(t, chat, sender, fmt.Sprint(i)))
					require.NoError(t, err)
				}
				for _, tc := range []struct {
					seq   int64
					moved bool
				}{{2, true}, {2, false}, {1, false}, {4, true}} {
					moved, err := repo.MarkRead(ctx, domain.ReadPosition{ChatID: chat, UserID: alice, LastReadSeq: tc.seq})
					require.NoError(t, err)
					require.Equal(t, tc.moved, moved, tc.seq)
				}
				pos, err := repo.ReadPositions(ctx, chat)
				require.NoError(t, err)
				require.Equal(t, []domain.ReadPosition{{ChatID: chat, UserID: alice, LastReadSeq: 4}}, pos)

				sums, err := repo.Summaries(ctx, bob, []string{chat, empty, unknown})
				require.NoError(t, err)
				require.Len(t, sums, 3)
				require.Equal(t, int64(5), sums[0].LastMessage.Seq)
				require.Equal(t, int64(3), sums[0].UnreadCount, "alice sent 1, 3, 5; bob read nothing")
				require.Nil(t, sums[1].LastMessage)
				require.Zero(t, sums[1].UnreadCount)

				sums, err = repo.Summaries(ctx, alice, []string{chat})
				require.NoError(t, err)
				require.Zero(t, sums[0].UnreadCount, "alice read up to 4, seq 5 is her own")
			})
		})
	}
}
