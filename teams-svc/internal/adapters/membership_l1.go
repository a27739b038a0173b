package adapters

import (
	"slices"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// l1Key names one answer: a user's membership, or with user "" the team's member list
// (user ids are never empty, the ports reject them).
type l1Key struct{ team, user string }

// l1Entry is one answer; member=false with list=nil is a cached "not a member".
type l1Entry struct {
	membership domain.Membership
	member     bool
	list       []domain.Membership
	expires    time.Time
}

// l1 is the per-instance cache in front of the shared one. Entries live a short TTL, so a
// lost invalidation (a pub/sub message dropped while Redis reconnects) costs at most
// that much staleness; the LRU bounds its memory.
type l1 struct {
	entries *lru.Cache[l1Key, l1Entry]
	ttl     time.Duration
	now     func() time.Time
	// epoch moves on every invalidation. A fill that started before an invalidation may
	// carry the answer that invalidation was about, so store drops it (see store).
	epoch atomic.Uint64
}

func newL1(size int, ttl time.Duration) *l1 {
	entries, err := lru.New[l1Key, l1Entry](size)
	if err != nil {
		// lru.New fails only for a non-positive size, which NewCachedMemberships rules out.
		panic(err)
	}
	return &l1{entries: entries, ttl: ttl, now: time.Now}
}

func (l *l1) get(k l1Key) (l1Entry, bool) {
	e, ok := l.entries.Get(k)
	if !ok || !l.now().Before(e.expires) {
		return l1Entry{}, false
	}
	return e, true
}

// begin returns the token a fill passes to store; take it before reading the shared cache
// or the database.
func (l *l1) begin() uint64 { return l.epoch.Load() }

// store keeps e unless an invalidation happened since begin. Adding first and checking
// after closes the race with dropTeam, which moves the epoch before it scans: either this
// check sees the new epoch, or the scan runs after the add and removes the entry.
func (l *l1) store(token uint64, k l1Key, e l1Entry) {
	e.expires = l.now().Add(l.ttl)
	l.entries.Add(k, e)
	if l.epoch.Load() != token {
		l.entries.Remove(k)
	}
}

// dropTeam removes every answer about teamID. Membership changes are rare next to reads,
// so a scan of the bounded key set is cheaper than keeping a per-team index.
func (l *l1) dropTeam(teamID string) {
	l.epoch.Add(1)
	for _, k := range l.entries.Keys() {
		if k.team == teamID {
			l.entries.Remove(k)
		}
	}
}

func (e l1Entry) answer() (domain.Membership, error) {
	if !e.member {
		return domain.Membership{}, domain.ErrNotMember
	}
	return e.membership, nil
}

// members returns a copy, so that a caller changing its slice cannot change the cache.
func (e l1Entry) members() []domain.Membership { return slices.Clone(e.list) }
