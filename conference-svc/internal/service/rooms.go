package service

import (
	"errors"
	"sync"
	"time"

	"github.com/convene/convene/conference-svc/internal/domain"
	"github.com/convene/convene/conference-svc/internal/rtc"
)

// endedMemory is how long the registry remembers a conference that ended, so that a join
// racing with the recording of "ended" cannot open it again.
const endedMemory = 10 * time.Minute

var errRoomEnded = errors.New("conference ended")

// Rooms is the registry of this instance's live rooms, one per conference.
type Rooms struct {
	params func(domain.Conference) rtc.RoomParams

	mu    sync.Mutex
	rooms map[string]*rtc.Room
	ended map[string]time.Time
	// closedSince are the rooms closed since the last placementsDue, whose claims can go.
	closedSince map[string]bool
}

// NewRooms returns an empty registry; params gives the settings of a new room.
func NewRooms(params func(domain.Conference) rtc.RoomParams) *Rooms {
	return &Rooms{params: params, rooms: map[string]*rtc.Room{}, ended: map[string]time.Time{}, closedSince: map[string]bool{}}
}

// Get returns the conference's room, opening it with the conference's settings.
func (r *Rooms) Get(c domain.Conference) (*rtc.Room, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.ended[c.ID]; ok {
		return nil, errRoomEnded
	}
	if room := r.rooms[c.ID]; room != nil {
		return room, nil
	}
	p := r.params(c)
	p.OnClosed = r.closed
	room := rtc.NewRoom(p)
	r.rooms[c.ID] = room
	return room, nil
}

// closed forgets a room that closed (called by the room, under its lock).
func (r *Rooms) closed(room *rtc.Room, ended bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := room.ConferenceID()
	if r.rooms[id] == room {
		delete(r.rooms, id)
		r.closedSince[id] = true
	}
	if !ended {
		return
	}
	now := time.Now()
	for k, at := range r.ended {
		if now.Sub(at) > endedMemory {
			delete(r.ended, k)
		}
	}
	r.ended[id] = now
}

// placementsDue returns the rooms open now (their claims to renew) and those closed since
// the last call and not reopened (their claims to release).
func (r *Rooms) placementsDue() (open, closed []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.rooms {
		open = append(open, id)
	}
	for id := range r.closedSince {
		if r.rooms[id] == nil {
			closed = append(closed, id)
		}
	}
	clear(r.closedSince)
	return open, closed
}

func (r *Rooms) lookup(id string) *rtc.Room {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rooms[id]
}

// SettingsChanged implements app.LiveRooms.
func (r *Rooms) SettingsChanged(c domain.Conference) {
	if room := r.lookup(c.ID); room != nil {
		room.SetWaitingRoom(c.WaitingRoom)
	}
}

// Closed implements app.LiveRooms: the conferences were deleted.
func (r *Rooms) Closed(ids ...string) {
	for _, id := range ids {
		if room := r.lookup(id); room != nil {
			room.Close()
		}
	}
}

// Shutdown disconnects everyone without ending their conferences.
func (r *Rooms) Shutdown() {
	r.mu.Lock()
	all := make([]*rtc.Room, 0, len(r.rooms))
	for _, room := range r.rooms {
		all = append(all, room)
	}
	r.mu.Unlock()
	for _, room := range all {
		room.Shutdown()
	}
}
