package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/convene/convene/conference-svc/internal/domain"
)

// stateStore is the use case that records a room's state.
type stateStore interface {
	RecordRoomState(ctx context.Context, confID string, status domain.Status, participants int) error
}

type roomState struct {
	status domain.Status
	count  int
}

// stateRecorder is the rooms' rtc.Observer: it records status and head count in the
// database off the room's lock, keeping only the latest state of each conference, so that
// a burst of joins costs one write and a slow database never stalls a room.
type stateRecorder struct {
	store stateStore
	log   *slog.Logger

	mu      sync.Mutex
	pending map[string]roomState
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

func newStateRecorder(store stateStore, log *slog.Logger) *stateRecorder {
	r := &stateRecorder{
		store: store, log: log, pending: map[string]roomState{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go r.run()
	return r
}

// Live implements rtc.Observer.
func (r *stateRecorder) Live(confID string, n int) { r.set(confID, roomState{domain.StatusLive, n}) }

// Ended implements rtc.Observer.
func (r *stateRecorder) Ended(confID string) { r.set(confID, roomState{domain.StatusEnded, 0}) }

func (r *stateRecorder) set(confID string, s roomState) {
	r.mu.Lock()
	r.pending[confID] = s
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *stateRecorder) run() {
	defer close(r.done)
	for {
		select {
		case <-r.wake:
			r.flush()
		case <-r.stop:
			r.flush()
			return
		}
	}
}

func (r *stateRecorder) flush() {
	r.mu.Lock()
	batch := r.pending
	r.pending = map[string]roomState{}
	r.mu.Unlock()
	for id, s := range batch {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := r.store.RecordRoomState(ctx, id, s.status, s.count); err != nil {
			r.log.Warn("room state not recorded", "conference_id", id, "status", s.status, "err", err)
		}
		cancel()
	}
}

// Close records what is pending and stops.
func (r *stateRecorder) Close() {
	close(r.stop)
	<-r.done
}
