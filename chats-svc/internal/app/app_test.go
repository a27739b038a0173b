package app_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/convene/convene/chats-svc/internal/app"
	"github.com/convene/convene/chats-svc/internal/domain"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeRepo serves a fixed set of chats for the queries, and records activity.
type fakeRepo struct {
	domain.Repository
	chats    []domain.Chat
	recorded [][]domain.Activity
}

// UserChatsPage orders the chats as the database does: latest activity first, ties by
// descending id.
func (f *fakeRepo) UserChatsPage(_ context.Context, _ string, after *domain.ChatPosition, limit int) ([]domain.Chat, error) {
	sorted := slices.Clone(f.chats)
	slices.SortFunc(sorted, func(x, y domain.Chat) int {
		if c := y.LastActivityAt.Compare(x.LastActivityAt); c != 0 {
			return c
		}
		return strings.Compare(y.ID, x.ID)
	})
	out := []domain.Chat{}
	for _, c := range sorted {
		if after != nil && (c.LastActivityAt.After(after.LastActivityAt) ||
			(c.LastActivityAt.Equal(after.LastActivityAt) && c.ID >= after.ChatID)) {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, c)
	}
	return out, nil
}

func (f *fakeRepo) RecordActivity(_ context.Context, batch []domain.Activity) error {
	f.recorded = append(f.recorded, batch)
	return nil
}

type fakeMessages struct {
	summaries map[string]domain.Summary
	calls     [][]string
}

func (f *fakeMessages) Summaries(_ context.Context, _ string, ids []string) (map[string]domain.Summary, error) {
	f.calls = append(f.calls, ids)
	return f.summaries, nil
}

type fakeUsers struct{ calls int }

func (f *fakeUsers) UserByEmail(context.Context, string) (domain.User, error) {
	return domain.User{}, domain.ErrUserNotFound
}

func (f *fakeUsers) Users(_ context.Context, ids []string) ([]domain.User, error) {
	f.calls++
	out := make([]domain.User, len(ids))
	for i, id := range ids {
		out[i] = domain.User{ID: id, Username: "name-" + id}
	}
	return out, nil
}

func TestListChatsOrderAndPages(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Five chats created a minute apart; chats 0 and 2 had messages later than every
	// creation, chat 0's being the latest.
	chats := make([]domain.Chat, 5)
	for i := range chats {
		at := base.Add(time.Duration(i) * time.Minute)
		chats[i] = domain.Chat{ID: newID(), Title: "c", CreatedBy: "u", CreatedAt: at, LastActivityAt: at}
	}
	chats[0].LastActivityAt = base.Add(time.Hour)
	chats[2].LastActivityAt = base.Add(30 * time.Minute)
	msg := func(chat int) domain.Summary {
		return domain.Summary{UnreadCount: 3, LastMessage: &domain.Message{ID: newID(), ChatID: chats[chat].ID, SenderID: "s", CreatedAt: chats[chat].LastActivityAt}}
	}
	summaries := map[string]domain.Summary{chats[0].ID: msg(0), chats[2].ID: msg(2)}
	want := []string{chats[0].ID, chats[2].ID, chats[4].ID, chats[3].ID, chats[1].ID}
	messages := &fakeMessages{summaries: summaries}
	users := &fakeUsers{}
	a := app.New(app.Params{Repo: &fakeRepo{chats: chats}, Users: users, Messages: messages})

	var got []string
	cursor := ""
	pages := 0
	for {
		page, err := a.ListChats(context.Background(), app.ListChats{UserID: "u", Limit: 2, Before: cursor})
		require.NoError(t, err)
		pages++
		for _, v := range page.Items {
			got = append(got, v.Chat.ID)
			if v.LastMessage != nil {
				require.Equal(t, int64(3), v.UnreadCount)
				require.Equal(t, "name-s", v.LastMessage.Sender.Username)
			}
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	require.Equal(t, want, got)
	require.Equal(t, 3, pages)
	require.Len(t, messages.calls, pages, "one GetChatSummaries call per page")
	for i, call := range messages.calls {
		require.Equal(t, want[2*i:min(2*i+2, len(want))], call, "summaries of the page's chats only")
	}
	require.Equal(t, 1, users.calls, "only the first page has last messages to name")
}

func TestRecordActivity(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	chatA, chatB := newID(), newID()
	tooMany := make([]domain.Activity, domain.MaxActivityBatch+1)
	for i := range tooMany {
		tooMany[i] = domain.Activity{ChatID: newID(), At: now}
	}
	cases := []struct {
		name   string
		caller app.Caller
		batch  []domain.Activity
		err    error
		want   []domain.Activity
	}{
		{
			"the latest per chat, future times clamped, malformed ids skipped",
			app.Caller{UserID: "service:messages-svc", Service: true},
			[]domain.Activity{
				{ChatID: chatA, At: now.Add(-time.Minute)},
				{ChatID: chatB, At: now.Add(time.Hour)},
				{ChatID: chatA, At: now.Add(-time.Second)},
				{ChatID: chatA, At: now.Add(-2 * time.Minute)},
				{ChatID: "not-an-id", At: now},
			},
			nil,
			[]domain.Activity{{ChatID: chatA, At: now.Add(-time.Second)}, {ChatID: chatB, At: now}},
		},
		{"the maximum batch", app.Caller{Service: true}, tooMany[:domain.MaxActivityBatch], nil, tooMany[:domain.MaxActivityBatch]},
		{"a batch too large", app.Caller{Service: true}, tooMany, domain.ErrTooManyActivities, nil},
		{"a user may not report activity", app.Caller{UserID: newID()}, []domain.Activity{{ChatID: chatA, At: now}}, domain.ErrForbidden, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repo := &fakeRepo{}
			a := app.New(app.Params{Repo: repo, Now: func() time.Time { return now }})
			err := a.RecordActivity(context.Background(), tc.caller, tc.batch)
			require.ErrorIs(t, err, tc.err)
			if tc.err != nil {
				require.Empty(t, repo.recorded, "a refused batch records nothing")
				return
			}
			require.Equal(t, [][]domain.Activity{tc.want}, repo.recorded)
		})
	}
}

func TestListChatsBadInput(t *testing.T) {
	a := app.New(app.Params{Repo: &fakeRepo{}, Users: &fakeUsers{}, Messages: &fakeMessages{}})
	cases := []struct {
		name string
		q    app.ListChats
		err  error
	}{
		{"negative limit", app.ListChats{Limit: -1}, domain.ErrInvalidLimit},
		{"limit over the maximum", app.ListChats{Limit: app.MaxPageSize + 1}, domain.ErrInvalidLimit},
		{"the maximum", app.ListChats{Limit: app.MaxPageSize}, nil},
		{"cursor not base64", app.ListChats{Before: "!!"}, domain.ErrInvalidCursor},
		{"cursor without id", app.ListChats{Before: "MTIz"}, domain.ErrInvalidCursor},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.ListChats(context.Background(), tc.q)
			require.ErrorIs(t, err, tc.err)
		})
	}
}

// memOutbox is an in-memory domain.Outbox.
type memOutbox struct {
	mu         sync.Mutex
	events     []domain.Event
	emptyReads int
}

func (m *memOutbox) OldestEvent(context.Context) (domain.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.events) == 0 {
		m.emptyReads++
		return domain.Event{}, domain.ErrNoEvent
	}
	return m.events[0], nil
}

func (m *memOutbox) ClaimEvent(_ context.Context, ev domain.Event, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.events {
		if m.events[i].ID == ev.ID && m.events[i].Attempts == ev.Attempts {
			m.events[i].Attempts++
			m.events[i].NextAttemptAt = until
			return true, nil
		}
	}
	return false, nil
}

func (m *memOutbox) DeleteEvent(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = slices.DeleteFunc(m.events, func(e domain.Event) bool { return e.ID == id })
	return nil
}

func (m *memOutbox) RescheduleEvent(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.events {
		if m.events[i].ID == id {
			m.events[i].NextAttemptAt = at
		}
	}
	return nil
}

func (m *memOutbox) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.events)
}

// flakyPublisher fails each event's first failures[frame] attempts with err.
type flakyPublisher struct {
	mu        sync.Mutex
	failures  map[string]int
	err       error
	attempts  map[string]int
	delivered []string
}

func (p *flakyPublisher) Publish(_ context.Context, _ []string, frame []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := string(frame)
	p.attempts[f]++
	if p.attempts[f] <= p.failures[f] {
		return p.err
	}
	p.delivered = append(p.delivered, f)
	return nil
}

func (p *flakyPublisher) snapshot() ([]string, map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	attempts := make(map[string]int, len(p.attempts))
	for k, v := range p.attempts {
		attempts[k] = v
	}
	return slices.Clone(p.delivered), attempts
}

func TestEventRelay(t *testing.T) {
	cases := []struct {
		name      string
		failures  map[string]int
		err       error
		delivered []string
		attempts  map[string]int
	}{
		{"in order, once each", nil, nil, []string{"a", "b", "c"}, map[string]int{"a": 1, "b": 1, "c": 1}},
		{
			"retried while messages-svc is down, order kept",
			map[string]int{"a": 3}, domain.ErrUnavailable,
			[]string{"a", "b", "c"}, map[string]int{"a": 4, "b": 1, "c": 1},
		},
		{
			"a rejected event is dropped, not retried",
			map[string]int{"b": 1}, domain.ErrEventRejected,
			[]string{"a", "c"}, map[string]int{"a": 1, "b": 1, "c": 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			outbox := &memOutbox{}
			for _, f := range []string{"a", "b", "c"} {
				outbox.events = append(outbox.events, domain.Event{ID: newID(), UserIDs: []string{"u"}, Frame: []byte(f)})
			}
			pub := &flakyPublisher{failures: tc.failures, err: tc.err, attempts: map[string]int{}}
			relay := app.NewEventRelay(app.RelayParams{
				Outbox: outbox, Publisher: pub, Log: discard,
				PollInterval: 5 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond,
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); relay.Run(ctx) }()
			t.Cleanup(func() { cancel(); <-done })

			require.Eventually(t, func() bool { return outbox.len() == 0 }, 5*time.Second, time.Millisecond)
			delivered, attempts := pub.snapshot()
			require.Equal(t, tc.delivered, delivered)
			require.Equal(t, tc.attempts, attempts)
		})
	}
}

func TestEventRelayWakesOnNewEvents(t *testing.T) {
	outbox := &memOutbox{}
	pub := &flakyPublisher{attempts: map[string]int{}}
	// A poll interval far beyond the test's patience: only Wake can explain a delivery.
	relay := app.NewEventRelay(app.RelayParams{Outbox: outbox, Publisher: pub, Log: discard, PollInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); relay.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	// Let the relay find the outbox empty and go to sleep first.
	require.Eventually(t, func() bool {
		outbox.mu.Lock()
		defer outbox.mu.Unlock()
		return outbox.emptyReads > 0
	}, 5*time.Second, time.Millisecond)
	outbox.mu.Lock()
	outbox.events = append(outbox.events, domain.Event{ID: newID(), Frame: []byte("x")})
	outbox.mu.Unlock()
	relay.Wake()
	require.Eventually(t, func() bool { return outbox.len() == 0 }, 5*time.Second, time.Millisecond)
}
