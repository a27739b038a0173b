package service

import (
	"context"
	"log/slog"
	"time"
)

// roomObserver is what the sweeper records for the conferences it settles (the rooms'
// rtc.Observer: the state recorder).
type roomObserver interface {
	Live(confID string, participants int)
	Ended(confID string)
}

// orphanSweeper settles live conferences whose instance died with nobody coming back: the
// database would show them live, with their last head count, forever. Each instance lists
// the live conferences; one that is neither hosted here nor claimed in Redis (a dead
// holder's claim expires within placementTTL) is claimed with SET NX, so that exactly one
// instance adopts it. The adopter records it live with nobody in it and keeps it dormant
// for the empty-room timeout, as its own instance would have; if nobody joins by then, it
// records it ended. A join meanwhile opens it as a normal room on the adopter.
type orphanSweeper struct {
	live      func(ctx context.Context) ([]string, error)
	rooms     *Rooms
	placement *Placement
	observer  roomObserver
	// dormancy is the empty-room timeout.
	dormancy time.Duration
	now      func() time.Time
	log      *slog.Logger
}

// orphanSweeperParams builds an orphanSweeper.
type orphanSweeperParams struct {
	// Live lists the ids of the live conferences (app.LiveConferences).
	Live      func(ctx context.Context) ([]string, error)
	Rooms     *Rooms
	Placement *Placement
	Observer  roomObserver
	Dormancy  time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
	Log *slog.Logger
}

func newOrphanSweeper(p orphanSweeperParams) *orphanSweeper {
	if p.Now == nil {
		p.Now = time.Now
	}
	return &orphanSweeper{
		live: p.Live, rooms: p.Rooms, placement: p.Placement, observer: p.Observer,
		dormancy: p.Dormancy, now: p.Now, log: p.Log,
	}
}

// sweepTimeout bounds one sweep: the database query and a claim per live conference.
const sweepTimeout = 10 * time.Second

// sweep ends the adopted conferences whose time is up, then adopts the new orphans.
func (s *orphanSweeper) sweep(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, sweepTimeout)
	defer cancel()
	for _, id := range s.rooms.expireDormant(s.now(), s.observer.Ended) {
		s.log.Info("adopted conference ended: nobody came back", "conference_id", id)
		s.placement.Release(ctx, id)
	}
	ids, err := s.live(ctx)
	if err != nil {
		s.log.Warn("placement sweep: live conferences unknown", "err", err)
		return
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		if s.rooms.hosts(id) {
			continue
		}
		ok, err := s.placement.Adopt(ctx, id)
		if err != nil {
			s.log.Warn("placement sweep: claim failed", "conference_id", id, "err", err)
			return
		}
		if !ok {
			continue // hosted (or just placed) elsewhere
		}
		if s.rooms.adopt(id, s.now().Add(s.dormancy), func() { s.observer.Live(id, 0) }) {
			s.log.Info("adopted a live conference nobody hosts", "conference_id", id)
			continue
		}
		// A join opened the room here since hosts() answered (keep the claim: it is the
		// room's), or the conference ended here moments ago (nothing to hold).
		if !s.rooms.hosts(id) {
			s.placement.Release(ctx, id)
		}
	}
}
